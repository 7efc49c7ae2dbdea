/* test-wss-trim.c -- when the WSS plugin hands freed heap back with
 * malloc_trim (plugin/wss/trim.h): a handful of times when many
 * connections are freed, never in a dial-close loop or for a few. */
#include "config.h"

#include "tap.h"
#include "trim.h"

/* Free n of t's connections; returns how many trims were asked for. */
static int free_n(wss_trim *t, int n)
{
    int trims = 0;
    for (int i = 0; i < n; i++)
        trims += wss_trim_down(t);
    return trims;
}

TEST(hundred_freed_trim_a_handful_of_times_at_halvings)
{
    wss_trim t = { 0, 0 };
    for (int i = 0; i < 100; i++)
        wss_trim_up(&t);
    CHECK_EQ_INT(free_n(&t, 49), 0); /* 51 live: above half */
    CHECK_EQ_INT(free_n(&t, 1), 1);  /* 50 of 100 */
    CHECK_EQ_INT(t.mark, 50);
    CHECK_EQ_INT(free_n(&t, 50), 3); /* at 25, 12 and 4 */
    CHECK_EQ_INT(t.live, 0);
}

TEST(a_dial_close_loop_never_trims)
{
    wss_trim t = { 0, 0 };
    int trims = 0;
    for (int i = 0; i < 1000; i++) {
        wss_trim_up(&t);
        trims += wss_trim_down(&t);
    }
    CHECK_EQ_INT(trims, 0);
    CHECK_EQ_INT(t.live, 0);
}

TEST(fewer_than_the_minimum_never_trim)
{
    wss_trim t = { 0, 0 };
    for (int i = 0; i < WSS_TRIM_MIN - 1; i++)
        wss_trim_up(&t);
    CHECK_EQ_INT(free_n(&t, WSS_TRIM_MIN - 1), 0);
    /* The minimum freed at once from its mark: one trim, at the end. */
    for (int i = 0; i < WSS_TRIM_MIN; i++)
        wss_trim_up(&t);
    CHECK_EQ_INT(free_n(&t, WSS_TRIM_MIN - 1), 0);
    CHECK_EQ_INT(free_n(&t, 1), 1);
}

TEST(the_mark_follows_new_dials_after_a_trim)
{
    wss_trim t = { 0, 0 };
    for (int i = 0; i < 20; i++)
        wss_trim_up(&t);
    CHECK_EQ_INT(free_n(&t, 10), 1); /* 10 of 20 */
    for (int i = 0; i < 30; i++)     /* 40 live: the new mark */
        wss_trim_up(&t);
    CHECK_EQ_INT(t.mark, 40);
    CHECK_EQ_INT(free_n(&t, 19), 0);
    CHECK_EQ_INT(free_n(&t, 1), 1); /* 20 of 40 */
}

int main(void)
{
    RUN(hundred_freed_trim_a_handful_of_times_at_halvings);
    RUN(a_dial_close_loop_never_trims);
    RUN(fewer_than_the_minimum_never_trim);
    RUN(the_mark_follows_new_dials_after_a_trim);
    return tap_done();
}
