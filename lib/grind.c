/*
 * grind.c - fold a grind's runs into per-test figures (grind.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "grind.h"

long long
ciq_grind_percentile(const long long *sorted, size_t n, long long pct)
{
	unsigned long long rank;

	if (n == 0)
		return -1;
	/* ceil(pct / 100 % * n), at least 1: integers only. */
	rank = ((unsigned long long)pct * n + 100 * CIQ_GRIND_PCT_ONE - 1) / (100 * CIQ_GRIND_PCT_ONE);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static int
by_ms(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* The id of a test record: its bytes, whatever its run. */
static int
same_id(const struct ciq_test *a, const struct ciq_test *b)
{
	return a->len == b->len && memcmp(a->id, b->id, a->len) == 0;
}

void
ciq_grind_read(struct ciq_grind *g, const struct ciq_summary *sum, long long limit_ms,
    long long pct)
{
	long long *ms = ciq_calloc(sum->ntests + 1, sizeof *ms);

	memset(g, 0, sizeof *g);
	g->repeat = sum->repeat;
	g->limit_ms = limit_ms;
	g->pct = pct;
	g->tests = ciq_calloc(sum->ntests + 1, sizeof *g->tests);
	/* The records are sorted by id, then run: each test's runs are
	 * together (summary.h). */
	for (size_t i = 0; i < sum->ntests;) {
		struct ciq_grind_test *t = &g->tests[g->ntests++];
		size_t j = i;

		t->id = sum->tests[i].id;
		t->len = sum->tests[i].len;
		for (; j < sum->ntests && same_id(&sum->tests[i], &sum->tests[j]); j++) {
			const struct ciq_test *run = &sum->tests[j];

			if (run->outcome == CIQ_NONE)
				continue;
			t->runs++;
			/* A quarantined failure (--known-flaky) is not counted. */
			t->failures += run->outcome == CIQ_FAILED && !run->quarantined;
			t->skipped += run->outcome == CIQ_SKIPPED;
			if (run->ms >= 0)
				ms[t->timed++] = run->ms;
		}
		qsort(ms, (size_t)t->timed, sizeof *ms, by_ms);
		t->p50_ms = ciq_grind_percentile(ms, (size_t)t->timed, 50 * CIQ_GRIND_PCT_ONE);
		t->p90_ms = ciq_grind_percentile(ms, (size_t)t->timed, 90 * CIQ_GRIND_PCT_ONE);
		t->max_ms = t->timed > 0 ? ms[t->timed - 1] : -1;
		t->at_ms = ciq_grind_percentile(ms, (size_t)t->timed, pct);
		t->slow = limit_ms >= 0 && t->at_ms > limit_ms;
		g->runs += t->runs;
		g->failed_runs += t->failures;
		g->failing_tests += t->failures > 0;
		g->slow_tests += t->slow;
		i = j;
	}
	free(ms);
}

void
ciq_grind_free(struct ciq_grind *g)
{
	free(g->tests);
	memset(g, 0, sizeof *g);
}

/* A count of thousandths (ms, or thousandths of a percent) as a decimal
 * number without trailing zeros: 2000 is "2", 2500 "2.5". */
static const char *
thousandths(char *buf, size_t n, long long v)
{
	size_t len;

	snprintf(buf, n, "%lld.%03lld", v / 1000, v % 1000);
	len = strlen(buf);
	while (buf[len - 1] == '0')
		buf[--len] = '\0';
	if (buf[len - 1] == '.')
		buf[--len] = '\0';
	return buf;
}

const char *
ciq_grind_limit(const struct ciq_grind *g, char *buf, size_t n)
{
	char s[32], p[32];

	*buf = '\0';
	if (g->limit_ms >= 0)
		snprintf(buf, n, "--max-test-duration %s s at p%s", thousandths(s, sizeof s, g->limit_ms),
		    thousandths(p, sizeof p, g->pct));
	return buf;
}

