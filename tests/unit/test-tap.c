/*
 * test-tap.c -- tests/tap.h itself: a test point passes only if a check
 * ran and none failed.  The points under test run in a forked child whose
 * TAP output is read back through a pipe.
 */
#include "config.h"

#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

/* ---- The points under test (run in the child) --------------------------- */

/* A fixture that cannot be set up, as a helper that gives up early. */
static int fixture_ready(void)
{
    return 0;
}

TEST(returns_before_any_check)
{
    if (!fixture_ready())
        return;
    CHECK(1);
}

TEST(one_passing_check)
{
    CHECK(1);
}

TEST(one_failing_check)
{
    CHECK_EQ_INT(1, 2);
}

/* A point that never returns. */
TEST(hangs)
{
    CHECK(1);
    for (;;)
        pause();
}

/* The three points above and a skip. */
static void three_points_and_a_skip(void)
{
    RUN(returns_before_any_check);
    RUN(one_passing_check);
    RUN(one_failing_check);
    SKIP(not_here, "a reason");
    exit(tap_done());
}

/* A passing point, then one that hangs, with a one-second watchdog. */
static void a_point_that_hangs(void)
{
    tap_point_limit_s = 1;
    RUN(one_passing_check);
    RUN(hangs);
    printf("# not reached\n");
    exit(tap_done());
}

/* Run body in a child; its output in out, its exit status in *status.
 * 0 or -1. */
static int run_child(void (*body)(void), char *out, size_t cap, int *status)
{
    int p[2];
    size_t got = 0;
    ssize_t n;
    pid_t pid;

    if (pipe(p) != 0)
        return -1;
    fflush(stdout); /* nothing buffered may be written twice */
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        tap_n = tap_failed_points = 0;
        body();
    }
    close(p[1]);
    while (got < cap - 1 && (n = read(p[0], out + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(p[0]);
    return waitpid(pid, status, 0) == pid ? 0 : -1;
}

/* ---- The tests ----------------------------------------------------------- */

static char out[4096], hung_out[4096];
static int status = -1, ran = -1, hung_status = -1, hung_ran = -1;

TEST(a_point_where_no_check_ran_fails_and_says_so)
{
    CHECK_EQ_INT(ran, 0);
    CHECK_STR_CONTAINS(out, "# returns_before_any_check: no checks ran\n"
                            "not ok 1 - returns_before_any_check\n");
}

TEST(a_point_whose_checks_pass_is_ok)
{
    CHECK_STR_CONTAINS(out, "\nok 2 - one_passing_check\n");
    CHECK(strstr(out, "one_passing_check: no checks ran") == NULL);
}

TEST(a_failed_check_fails_its_point)
{
    CHECK_STR_CONTAINS(out, "1 == 2 failed: 1 != 2\nnot ok 3 - one_failing_check\n");
}

TEST(skip_is_its_own_ok_point_with_a_reason)
{
    CHECK_STR_CONTAINS(out, "\nok 4 - not_here # SKIP a reason\n1..4\n");
}

TEST(failed_points_make_the_program_fail)
{
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 1);
}

TEST(a_point_that_hangs_fails_by_name_and_ends_the_program)
{
    CHECK_EQ_INT(hung_ran, 0);
    CHECK_STR_EQ(hung_out, "ok 1 - one_passing_check\n"
                           "not ok 2 - hangs # hung: killed by the test's watchdog\n");
    CHECK(WIFEXITED(hung_status));
    CHECK_EQ_INT(WEXITSTATUS(hung_status), 3);
}

int main(void)
{
    ran = run_child(three_points_and_a_skip, out, sizeof out, &status);
    hung_ran = run_child(a_point_that_hangs, hung_out, sizeof hung_out, &hung_status);
    printf("# the child's output:\n");
    for (const char *l = out; *l;) {
        const char *nl = strchr(l, '\n');
        int len = nl ? (int)(nl - l) : (int)strlen(l);
        printf("#   %.*s\n", len, l);
        l += len + (nl != NULL);
    }
    RUN(a_point_where_no_check_ran_fails_and_says_so);
    RUN(a_point_whose_checks_pass_is_ok);
    RUN(a_failed_check_fails_its_point);
    RUN(skip_is_its_own_ok_point_with_a_reason);
    RUN(failed_points_make_the_program_fail);
    RUN(a_point_that_hangs_fails_by_name_and_ends_the_program);
    return tap_done();
}
