/*
 * grind.h - what the report of a grind says about each test.
 *
 * A grind (ciq-populate --repeat N) runs every test N times; the summary
 * holds one record per run (struct ciq_test, with its run number). This
 * folds the runs of each test into its runs, failures, failure rate and
 * duration percentiles, and applies the report's duration limit
 * (--max-test-duration at --percentile, ci-queue's report_grind).
 */
#ifndef CIQ_GRIND_H
#define CIQ_GRIND_H

#include <stddef.h>

#include "summary.h"

/* Percentiles in thousandths of a percent: 50000 is the median. */
#define CIQ_GRIND_PCT_ONE 1000LL

struct ciq_grind_test {
	const char *id;       /* into the summary's records */
	size_t len;
	long long runs;       /* runs with a result */
	long long failures, skipped;
	long long timed;      /* runs with a known duration */
	long long p50_ms, p90_ms, max_ms;  /* nearest rank over the timed runs; -1 without any */
	long long at_ms;      /* the duration at the report's percentile, -1 without any */
	int slow;             /* at_ms is over the limit */
};

struct ciq_grind {
	long long repeat;     /* runs queued per test */
	long long limit_ms;   /* --max-test-duration, -1 for none */
	long long pct;        /* --percentile, in thousandths of a percent */
	struct ciq_grind_test *tests;  /* one per test id, bytewise order */
	size_t ntests;
	long long runs, failed_runs, failing_tests, slow_tests;
};

/*
 * Fold the runs of sum (a grind: sum->repeat above 1) into g, with the
 * limit limit_ms (-1: none) at percentile pct. Can't fail. g points into
 * sum, which must outlive it; free g with ciq_grind_free().
 */
void ciq_grind_read(struct ciq_grind *g, const struct ciq_summary *sum, long long limit_ms,
    long long pct);

void ciq_grind_free(struct ciq_grind *g);

/* "--max-test-duration 2 s at p90" into buf; "" without a limit. */
const char *ciq_grind_limit(const struct ciq_grind *g, char *buf, size_t n);


/*
 * The duration at percentile pct (thousandths of a percent, above 0, at
 * most 100000) of n durations sorted in increasing order, by nearest
 * rank: the smallest one that at least pct of them do not exceed. -1
 * when n is 0.
 */
long long ciq_grind_percentile(const long long *sorted, size_t n, long long pct);

#endif
