/* test-flags.c -- Go-style flag parsing of the reference host. */
#include "config.h"

#include <stdarg.h>

#include "flags.h"
#include "tap.h"

static const char *s_transport, *s_peer;
static int b_force, seen_peer;
static uint64_t u_count, d_timeout;
static struct flag_list l_opt;
static char err[256];

static const struct flag flags[] = {
    { "transport", FLAG_STRING, &s_transport, "MODE", "t", 0, NULL },
    { "peer", FLAG_STRING, &s_peer, "ADDR", "p", 0, &seen_peer },
    { "force", FLAG_BOOL, &b_force, NULL, "f", 0, NULL },
    { "count", FLAG_UINT, &u_count, "N", "c", 1000, NULL },
    { "timeout", FLAG_DURATION, &d_timeout, "D", "d", 0, NULL },
    { "opt", FLAG_LIST, &l_opt, "K=V", "o", 0, NULL },
    { NULL, 0, NULL, NULL, NULL, 0, NULL },
};

static int parse(int *next, int argc, ...)
{
    static char *argv[32];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    s_transport = s_peer = NULL;
    b_force = seen_peer = 0;
    u_count = d_timeout = 0;
    memset(&l_opt, 0, sizeof l_opt);
    err[0] = '\0';
    return flags_parse(flags, argc, argv, next, err, sizeof err);
}

TEST(all_four_spellings_work)
{
    int next;
    CHECK_EQ_INT(parse(&next, 4, "-transport=wss", "--peer", "1.2.3.4:5", "--count=7"), FLAGS_OK);
    CHECK_STR_EQ(s_transport, "wss");
    CHECK_STR_EQ(s_peer, "1.2.3.4:5");
    CHECK_EQ_INT(seen_peer, 1);
    CHECK_EQ_INT(u_count, 7);
    CHECK_EQ_INT(next, 4);
    CHECK_EQ_INT(parse(&next, 2, "-transport", "udp"), FLAGS_OK);
    CHECK_STR_EQ(s_transport, "udp");
    CHECK_EQ_INT(parse(&next, 1, "--transport=compat"), FLAGS_OK);
    CHECK_STR_EQ(s_transport, "compat");
}

TEST(booleans_take_no_separate_argument)
{
    int next;
    CHECK_EQ_INT(parse(&next, 2, "-force", "rest"), FLAGS_OK);
    CHECK_EQ_INT(b_force, 1);
    CHECK_EQ_INT(next, 1);
    CHECK_EQ_INT(parse(&next, 1, "-force=false"), FLAGS_OK);
    CHECK_EQ_INT(b_force, 0);
    CHECK_EQ_INT(parse(&next, 1, "-force=perhaps"), FLAGS_ERROR);
    CHECK_STR_CONTAINS(err, "invalid boolean value \"perhaps\" for -force");
}

TEST(parsing_stops_at_first_argument_or_double_dash)
{
    int next;
    CHECK_EQ_INT(parse(&next, 3, "-force", "--", "-transport=x"), FLAGS_OK);
    CHECK_EQ_INT(next, 2);
    CHECK(s_transport == NULL);
    CHECK_EQ_INT(parse(&next, 3, "probe", "-force", "x"), FLAGS_OK);
    CHECK_EQ_INT(next, 0);
    CHECK_EQ_INT(parse(&next, 1, "-"), FLAGS_OK); /* "-" is an argument */
    CHECK_EQ_INT(next, 0);
}

TEST(unknown_flag_is_named)
{
    int next;
    CHECK_EQ_INT(parse(&next, 1, "-nosuch=1"), FLAGS_ERROR);
    CHECK_STR_EQ(err, "flag provided but not defined: -nosuch");
    CHECK_EQ_INT(parse(&next, 1, "---x"), FLAGS_ERROR);
    CHECK_STR_CONTAINS(err, "bad flag syntax");
    CHECK_EQ_INT(parse(&next, 1, "-=x"), FLAGS_ERROR);
}

TEST(missing_argument_is_reported)
{
    int next;
    CHECK_EQ_INT(parse(&next, 1, "-peer"), FLAGS_ERROR);
    CHECK_STR_EQ(err, "flag needs an argument: -peer");
}

TEST(numbers_and_durations_are_validated)
{
    int next;
    CHECK_EQ_INT(parse(&next, 1, "-count=1001"), FLAGS_ERROR);
    CHECK_STR_CONTAINS(err, "from 0 to 1000");
    CHECK_EQ_INT(parse(&next, 1, "-count=-1"), FLAGS_ERROR);
    CHECK_EQ_INT(parse(&next, 1, "-timeout=1m30s"), FLAGS_OK);
    CHECK_EQ_INT(d_timeout, 90000);
    CHECK_EQ_INT(parse(&next, 1, "-timeout=10"), FLAGS_ERROR);
    CHECK_STR_CONTAINS(err, "invalid duration \"10\" for -timeout");
}

TEST(list_flags_accumulate)
{
    int next;
    CHECK_EQ_INT(parse(&next, 4, "-opt", "a=1", "-opt=b=2", "--opt=c="), FLAGS_OK);
    CHECK_EQ_INT(l_opt.n, 3);
    CHECK_STR_EQ(l_opt.items[1], "b=2");
    CHECK_STR_EQ(l_opt.items[2], "c=");
}

TEST(help_is_recognised)
{
    int next;
    CHECK_EQ_INT(parse(&next, 1, "-h"), FLAGS_HELP);
    CHECK_EQ_INT(parse(&next, 1, "--help"), FLAGS_HELP);
    CHECK_EQ_INT(parse(&next, 1, "-help"), FLAGS_HELP);
}

int main(void)
{
    RUN(all_four_spellings_work);
    RUN(booleans_take_no_separate_argument);
    RUN(parsing_stops_at_first_argument_or_double_dash);
    RUN(unknown_flag_is_named);
    RUN(missing_argument_is_reported);
    RUN(numbers_and_durations_are_validated);
    RUN(list_flags_accumulate);
    RUN(help_is_recognised);
    return tap_done();
}
