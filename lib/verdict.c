/*
 * verdict.c - the report's verdict, from the records.
 */
#include <stdio.h>
#include <string.h>

#include "exit.h"
#include "grind.h"
#include "verdict.h"

/* "stats, flaky" into buf: the lost keys, as many as fit. */
static const char *
lost_keys(const struct ciq_summary *sum, char *buf, size_t n)
{
	size_t used = 0;

	*buf = '\0';
	for (size_t i = 0; i < sum->nlost && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", sum->lost[i]);
	return buf;
}

/* "; 2 quarantined failures not counted" when the known-flaky list took some. */
static const char *
quarantined(const struct ciq_summary *sum, char *buf, size_t n)
{
	*buf = '\0';
	if (sum->quarantined > 0)
		snprintf(buf, n, "; %lld quarantined failure%s not counted", sum->quarantined,
		    sum->quarantined == 1 ? "" : "s");
	return buf;
}

/* A whole grind: failed when a run failed or a test is too slow. */
static void
grind(struct ciq_verdict *v, const struct ciq_grind *g, const char *q)
{
	char lim[96], slow[160] = "";
	size_t n = g->ntests;

	if (g->limit_ms >= 0 && g->slow_tests > 0)
		snprintf(slow, sizeof slow, "%lld of %zu tests over %s", g->slow_tests, n,
		    ciq_grind_limit(g, lim, sizeof lim));
	if (g->failed_runs > 0 || g->slow_tests > 0) {
		v->status = CIQ_EX_NO, v->word = "failed";
		if (g->failed_runs > 0)
			snprintf(v->line, sizeof v->line, "FAILED: %lld of %zu tests failed in %lld of %lld "
			    "runs%s%s%s", g->failing_tests, n, g->failed_runs, g->runs, *slow ? "; " : "",
			    slow, q);
		else
			snprintf(v->line, sizeof v->line, "FAILED: %s%s", slow, q);
	} else {
		v->status = CIQ_EX_OK, v->word = "passed";
		snprintf(v->line, sizeof v->line, "PASSED: %zu tests, %lld runs each, no run failed%s%s%s",
		    n, g->repeat, g->limit_ms >= 0 ? ", none over " : "",
		    g->limit_ms >= 0 ? ciq_grind_limit(g, lim, sizeof lim) : "", q);
	}
}

void
ciq_verdict_judge(struct ciq_verdict *v, enum ciq_wait_end end, const struct ciq_summary *sum,
    const char *inactive)
{
	char keys[80], q[64];

	if (end == CIQ_WAIT_STOPPED) {
		v->status = CIQ_EX_STOPPED, v->word = "stopped";
		/* The server counts every failure, quarantined or not. */
		snprintf(v->line, sizeof v->line, "STOPPED: %lld tests failed, the build's --max-failures; "
		    "%zu tests not run", sum->failed + sum->quarantined, sum->unrun.n);
	} else if (end == CIQ_WAIT_ABANDONED) {
		v->status = CIQ_EX_ABANDONED, v->word = "abandoned";
		snprintf(v->line, sizeof v->line, "ABANDONED: %zu tests left unrun and no worker showed "
		    "life for %s s", sum->unrun.n, inactive);
	} else if (end == CIQ_WAIT_TIMED_OUT || end == CIQ_WAIT_NOT_FINISHED) {
		v->status = CIQ_EX_TEMPFAIL, v->word = "unfinished";
		snprintf(v->line, sizeof v->line, "UNFINISHED: %zu tests not run yet%s", sum->unrun.n,
		    end == CIQ_WAIT_TIMED_OUT ? " when the report timeout expired" : "");
	} else if (ciq_summary_doubt(sum) && sum->failed == 0) {
		v->status = CIQ_EX_VANISHED, v->word = "lost";
		if (sum->nlost > 0)
			snprintf(v->line, sizeof v->line, "LOST: keys of the build were evicted or deleted "
			    "(%s): its records cannot be trusted", lost_keys(sum, keys, sizeof keys));
		else
			snprintf(v->line, sizeof v->line, "LOST: %lld of %lld tests have no result, yet "
			    "nothing is left to run: keys were evicted or flushed",
			    sum->total - sum->processed, sum->total);
	} else if (sum->nmismatches > 0) {
		v->status = CIQ_EX_MISMATCH, v->word = "mismatch";
		snprintf(v->line, sizeof v->line, "MISMATCH: the lists of %zu worker%s differed from the "
		    "%lld tests published: tests they listed may not have run", sum->nmismatches,
		    sum->nmismatches == 1 ? "" : "s", sum->total);
	} else if (sum->grind != NULL && sum->nlost == 0 && sum->processed >= sum->total) {
		grind(v, sum->grind, quarantined(sum, q, sizeof q));
	} else if (sum->failed > 0) {
		v->status = CIQ_EX_NO, v->word = "failed";
		if (sum->nlost > 0)
			snprintf(v->line, sizeof v->line, "FAILED: %lld of %lld tests failed, and keys of "
			    "the build were lost (%s)%s", sum->failed, sum->total,
			    lost_keys(sum, keys, sizeof keys), quarantined(sum, q, sizeof q));
		else if (sum->processed < sum->total)
			snprintf(v->line, sizeof v->line, "FAILED: %lld of %lld tests failed, and %lld have "
			    "no result%s", sum->failed, sum->total, sum->total - sum->processed,
			    quarantined(sum, q, sizeof q));
		else
			snprintf(v->line, sizeof v->line, "FAILED: %lld of %lld tests failed%s", sum->failed,
			    sum->total, quarantined(sum, q, sizeof q));
	} else {
		v->status = CIQ_EX_OK, v->word = "passed";
		snprintf(v->line, sizeof v->line, "PASSED: %lld tests, %lld passed, %lld skipped%s",
		    sum->total, sum->passed, sum->skipped, quarantined(sum, q, sizeof q));
	}
}
