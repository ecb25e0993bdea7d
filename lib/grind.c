/*
 * grind.c - fold a grind's runs into per-test figures (grind.h).
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "grind.h"
#include "json.h"
#include "report.h"

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

/* Failure rate in tenths of a percent. */
static long long
rate(const struct ciq_grind_test *t)
{
	return t->runs > 0 ? t->failures * 1000 / t->runs : 0;
}

/* Failing tests first, the highest rate first; then slow ones; then by id. */
static int
cmp_shown(const void *a, const void *b)
{
	const struct ciq_grind_test *x = *(struct ciq_grind_test *const *)a;
	const struct ciq_grind_test *y = *(struct ciq_grind_test *const *)b;
	int c;

	if (rate(x) != rate(y))
		return rate(x) > rate(y) ? -1 : 1;
	if ((x->failures > 0) != (y->failures > 0))
		return x->failures > 0 ? -1 : 1;
	if (x->slow != y->slow)
		return x->slow ? -1 : 1;
	c = memcmp(x->id, y->id, x->len < y->len ? x->len : y->len);
	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

void
ciq_grind_text(FILE *f, const struct ciq_grind *g)
{
	const struct ciq_grind_test **v = ciq_calloc(g->ntests + 1, sizeof *v);
	char p50[32], p90[32], max[32], lim[96];

	for (size_t i = 0; i < g->ntests; i++)
		v[i] = &g->tests[i];
	qsort(v, g->ntests, sizeof *v, cmp_shown);
	fprintf(f, "\nGrind (%zu test%s, %lld runs each): %lld test%s failed in %lld of %lld runs",
	    g->ntests, g->ntests == 1 ? "" : "s", g->repeat, g->failing_tests,
	    g->failing_tests == 1 ? "" : "s", g->failed_runs, g->runs);
	if (g->limit_ms >= 0)
		fprintf(f, "; %lld over %s", g->slow_tests, ciq_grind_limit(g, lim, sizeof lim));
	fprintf(f, "\n  %6s %6s %7s %10s %10s %10s  %s\n", "runs", "failed", "rate", "p50", "p90",
	    "max", "test");
	for (size_t i = 0; i < g->ntests; i++) {
		const struct ciq_grind_test *t = v[i];

		fprintf(f, "  %6lld %6lld %5lld.%lld%% %8s s %8s s %8s s  ", t->runs, t->failures,
		    rate(t) / 10, rate(t) % 10, ciq_report_seconds(p50, sizeof p50, t->p50_ms),
		    ciq_report_seconds(p90, sizeof p90, t->p90_ms),
		    ciq_report_seconds(max, sizeof max, t->max_ms));
		fwrite(t->id, 1, t->len, f);
		if (t->slow)
			fprintf(f, "  [SLOW: %s s at p%s]", ciq_report_seconds(max, sizeof max, t->at_ms),
			    thousandths(p50, sizeof p50, g->pct));
		putc('\n', f);
	}
	free(v);
}

void
ciq_grind_json(FILE *f, const struct ciq_grind *g)
{
	char pct[32];

	if (g == NULL) {
		fputs(",\n  \"grind\": null", f);
		return;
	}
	fprintf(f, ",\n  \"grind\": {\"repeat\": %lld, \"runs\": %lld, \"failed_runs\": %lld, "
	    "\"failing_tests\": %lld, \"slow_tests\": %lld", g->repeat, g->runs, g->failed_runs,
	    g->failing_tests, g->slow_tests);
	fputs(", ", f);
	ciq_json_ms(f, "max_test_duration_ms", g->limit_ms);
	fprintf(f, ", \"percentile\": %s, \"tests\": [", thousandths(pct, sizeof pct, g->pct));
	for (size_t i = 0; i < g->ntests; i++) {
		const struct ciq_grind_test *t = &g->tests[i];
		const struct { const char *name; long long ms; } figs[] = {
			{ "p50_ms", t->p50_ms }, { "p90_ms", t->p90_ms }, { "max_ms", t->max_ms },
			{ "at_percentile_ms", t->at_ms },
		};

		fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
		ciq_json_str(f, t->id, t->len);
		fprintf(f, ", \"runs\": %lld, \"failures\": %lld, \"skipped\": %lld, "
		    "\"failure_rate\": %.4f", t->runs, t->failures, t->skipped,
		    t->runs > 0 ? (double)t->failures / (double)t->runs : 0.0);
		for (size_t k = 0; k < sizeof figs / sizeof figs[0]; k++) {
			fputs(", ", f);
			ciq_json_ms(f, figs[k].name, figs[k].ms);
		}
		fprintf(f, ", \"slow\": %s}", t->slow ? "true" : "false");
	}
	fprintf(f, "%s]}", g->ntests ? "\n  " : "");
}
