/*
 * report.c - the text and JSON reports.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "grind.h"
#include "json.h"
#include "report.h"

const char *
ciq_report_human(char *buf, size_t n, long long ms)
{
	if (ms < 0)
		snprintf(buf, n, "?");
	else if (ms < 1000)
		snprintf(buf, n, "%lld ms", ms);
	else if (ms < 60000)
		snprintf(buf, n, "%lld.%01lld s", ms / 1000, ms % 1000 / 100);
	else if (ms < 3600000)
		snprintf(buf, n, "%lldm %02llds", ms / 60000, ms % 60000 / 1000);
	else
		snprintf(buf, n, "%lldh %02lldm", ms / 3600000, ms % 3600000 / 60000);
	return buf;
}

const char *
ciq_report_seconds(char *buf, size_t n, long long ms)
{
	if (ms < 0)
		snprintf(buf, n, "?");
	else
		snprintf(buf, n, "%lld.%03lld", ms / 1000, ms % 1000);
	return buf;
}

/* Output lines indented and marked with "|"; NUL and CR become spaces. */
static void
text_output(FILE *f, const char *out, size_t n)
{
	const char *p = out, *end = out + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		fputs("    | ", f);
		for (size_t i = 0; i < len; i++)
			putc(p[i] == '\0' || p[i] == '\r' ? ' ' : p[i], f);
		putc('\n', f);
		p += len + 1;
	}
}

static const char *
plural(long long n)
{
	return n == 1 ? "" : "s";
}

/* Tenths of a second, the precision of the workers table. */
static void
text_tenths(FILE *f, int width, long long ms)
{
	if (ms < 0)
		fprintf(f, " %*s", width, "? s");
	else
		fprintf(f, " %*lld.%01lld s", width - 4, ms / 1000, (ms % 1000) / 100);
}

/* "  FAIL ID  [worker W, 1.234 s, 2 attempts]" and the output. */
static void
text_failure(FILE *f, const char *word, const struct ciq_test *t)
{
	char sec[32];
	long long attempts = ciq_test_attempts(t);

	fprintf(f, "  %s %s  [", word, t->id);
	if (t->run > 0)
		fprintf(f, "run %lld, ", t->run);
	fprintf(f, "worker %s, ", t->worker);
	if (t->ms < 0)
		fputs("?", f);
	else
		fprintf(f, "%s s", ciq_report_seconds(sec, sizeof sec, t->ms));
	fprintf(f, ", %lld attempt%s]\n", attempts, plural(attempts));
	if (t->output != NULL)
		text_output(f, t->output, t->outlen);
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

/* A grind's section: a line per test, failing and slow ones first. */
static void
text_grind(FILE *f, const struct ciq_grind *g)
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
			fprintf(f, "  [SLOW: %s s at p%g]", ciq_report_seconds(max, sizeof max, t->at_ms),
			    (double)g->pct / CIQ_GRIND_PCT_ONE);
		putc('\n', f);
	}
	free(v);
}

/* The "grind" member, after a comma: null outside a grind. */
static void
json_grind(FILE *f, const struct ciq_grind *g)
{
	if (g == NULL) {
		fputs(",\n  \"grind\": null", f);
		return;
	}
	fprintf(f, ",\n  \"grind\": {\"repeat\": %lld, \"runs\": %lld, \"failed_runs\": %lld, "
	    "\"failing_tests\": %lld, \"slow_tests\": %lld", g->repeat, g->runs, g->failed_runs,
	    g->failing_tests, g->slow_tests);
	fputs(", ", f);
	ciq_json_ms(f, "max_test_duration_ms", g->limit_ms);
	fprintf(f, ", \"percentile\": %g, \"tests\": [", (double)g->pct / CIQ_GRIND_PCT_ONE);
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

void
ciq_report_text(FILE *f, const struct ciq_summary *sum, const struct ciq_verdict *v,
    size_t slowest)
{
	char sec[32];

	if (sum->grind != NULL)
		fprintf(f, "ciq: build %s: a grind of %zu tests, %lld runs each: %lld runs, %lld with a "
		    "result, %zu workers\n", v->build, sum->grind->ntests, sum->repeat, sum->total,
		    sum->processed, sum->nworkers);
	else
		fprintf(f, "ciq: build %s: %lld tests, %lld with a result, %zu workers\n", v->build,
		    sum->total, sum->processed, sum->nworkers);
	fprintf(f, "  passed %lld, failed %lld, skipped %lld, flaky %lld, requeued %lld, reclaimed %lld, "
	    "never run %zu", sum->passed, sum->failed, sum->skipped, sum->flaky, sum->requeued,
	    sum->reclaimed, sum->unrun.n);
	if (sum->quarantined > 0)
		fprintf(f, ", quarantined %lld", sum->quarantined);
	putc('\n', f);
	if (sum->wall_ms >= 0) {
		fprintf(f, "  wall time %s s", ciq_report_seconds(sec, sizeof sec, sum->wall_ms));
		fprintf(f, ", test time %s s", ciq_report_seconds(sec, sizeof sec, sum->busy_ms));
		if (sum->utilisation >= 0)
			fprintf(f, ", utilisation %.0f%%", sum->utilisation * 100);
		putc('\n', f);
	}
	if (sum->grind != NULL)
		text_grind(f, sum->grind);
	if (sum->failures.n > 0)
		fprintf(f, "\n%s (%zu):\n", sum->grind ? "Failed runs" : "Failed tests", sum->failures.n);
	for (size_t i = 0; i < sum->failures.n; i++)
		text_failure(f, "FAIL", sum->failures.v[i]);
	if (sum->quarantined_tests.n > 0)
		fprintf(f, "\nQuarantined: failed, not counted (%zu): on the known-flaky list\n",
		    sum->quarantined_tests.n);
	for (size_t i = 0; i < sum->quarantined_tests.n; i++)
		text_failure(f, "QUARANTINED", sum->quarantined_tests.v[i]);
	if (sum->flaky_tests.n > 0)
		fprintf(f, "\nFlaky tests (%zu): failed, then passed\n", sum->flaky_tests.n);
	for (size_t i = 0; i < sum->flaky_tests.n; i++) {
		const struct ciq_test *t = sum->flaky_tests.v[i];

		if (t->requeues > 0)
			fprintf(f, "  FLAKY %s  [passed on worker %s after %lld requeue%s]\n", t->id,
			    t->worker, t->requeues, plural(t->requeues));
		else
			fprintf(f, "  FLAKY %s  [passed on worker %s in another attempt]\n", t->id, t->worker);
	}
	if (sum->known_passed.n > 0)
		fprintf(f, "\nKnown flaky, passed here (%zu): consider removing them from the "
		    "known-flaky list\n", sum->known_passed.n);
	for (size_t i = 0; i < sum->known_passed.n; i++)
		fprintf(f, "  PASSED %s  [worker %s]\n", sum->known_passed.v[i]->id,
		    sum->known_passed.v[i]->worker);
	if (sum->requeued_tests.n > 0)
		fprintf(f, "\nRequeued tests (%zu):\n", sum->requeued_tests.n);
	for (size_t i = 0; i < sum->requeued_tests.n; i++)
		fprintf(f, "  REQUEUED %s  [%lld time%s]\n", sum->requeued_tests.v[i]->id,
		    sum->requeued_tests.v[i]->requeues, plural(sum->requeued_tests.v[i]->requeues));
	if (sum->reclaimed_tests.n > 0)
		fprintf(f, "\nReclaimed tests (%zu): their worker fell silent\n", sum->reclaimed_tests.n);
	for (size_t i = 0; i < sum->reclaimed_tests.n; i++)
		fprintf(f, "  RECLAIMED %s  [%lld time%s]\n", sum->reclaimed_tests.v[i]->id,
		    sum->reclaimed_tests.v[i]->reclaims, plural(sum->reclaimed_tests.v[i]->reclaims));
	if (sum->unrun.n > 0)
		fprintf(f, "\nNever run (%zu):\n", sum->unrun.n);
	for (size_t i = 0; i < sum->unrun.n; i++) {
		const struct ciq_test *t = sum->unrun.v[i];

		if (t->running)
			fprintf(f, "  UNFINISHED %s  [held by worker %s]\n", t->id, t->holder);
		else
			fprintf(f, "  QUEUED %s\n", t->id);
	}
	/* What holds the build up, and for how long: the longest first. */
	if (sum->running_tests.n > 0)
		fprintf(f, "\nStill running when the report gave up (%zu):\n", sum->running_tests.n);
	for (size_t i = 0; i < sum->running_tests.n; i++) {
		const struct ciq_test *t = sum->running_tests.v[i];

		fprintf(f, "  RUNNING %s  [worker %s, for %s]\n", t->id, *t->holder ? t->holder : "?",
		    ciq_report_human(sec, sizeof sec, ciq_test_running_ms(sum, t)));
	}
	/* A grind's table has the durations of each test. */
	if (slowest > 0 && sum->grind == NULL) {
		struct ciq_test **top = ciq_calloc(slowest, sizeof *top);
		size_t n = ciq_summary_slowest(sum, top, slowest);

		if (n > 0)
			fprintf(f, "\nSlowest tests (%zu):\n", n);
		for (size_t i = 0; i < n; i++)
			fprintf(f, "  %10s s  %s  [worker %s]\n",
			    ciq_report_seconds(sec, sizeof sec, top[i]->ms), top[i]->id, top[i]->worker);
		free(top);
	}
	if (sum->nlost > 0)
		fprintf(f, "\nLost keys (%zu): evicted, expired or deleted; the records cannot be "
		    "trusted\n", sum->nlost);
	for (size_t i = 0; i < sum->nlost; i++)
		fprintf(f, "  LOST %s\n", sum->lost[i]);
	if (sum->nsplits > 0)
		fprintf(f, "\nSplit units (%zu): each ran as its parts\n", sum->nsplits);
	for (size_t i = 0; i < sum->nsplits; i++)
		fprintf(f, "  SPLIT %s  [%lld parts]\n", sum->splits[i].id, sum->splits[i].parts);
	if (sum->nmismatches > 0)
		fprintf(f, "\nLists that differed (%zu): the queue held the %lld tests published\n",
		    sum->nmismatches, sum->total);
	for (size_t i = 0; i < sum->nmismatches; i++)
		fprintf(f, "  MISMATCH worker %s  [%lld ids, digest %.12s]\n", sum->mismatches[i].worker,
		    sum->mismatches[i].ids, sum->mismatches[i].digest);
	/* Idle times are in the JSON and Markdown reports: scripts match these
	 * lines, so the table keeps its columns. */
	fprintf(f, "\nWorkers:\n  %-12s %8s %8s %8s %8s %8s %9s %12s\n", "worker", "reserved",
	    "passed", "failed", "skipped", "requeued", "reclaimed", "busy");
	for (size_t i = 0; i < sum->nworkers; i++) {
		const struct ciq_worker_stats *w = &sum->workers[i];

		fprintf(f, "  %-12s %8lld %8lld %8lld %8lld %8lld %9lld", w->id, w->reserved, w->passed,
		    w->failed, w->skipped, w->requeued, w->reclaimed);
		text_tenths(f, 12, w->busy_ms);
		putc('\n', f);
	}
	fprintf(f, "\n%s\n", v->line);
}

static void
json_items(FILE *f, const char *name, const struct ciq_list *l, int output, int unrun)
{
	fprintf(f, ",\n  \"%s\": [", name);
	for (size_t i = 0; i < l->n; i++) {
		const struct ciq_test *t = l->v[i];
		/* In unrun, the worker holding the test (none for a queued one). */
		const char *w = !unrun ? t->worker : t->running ? t->holder : "";

		fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
		ciq_json_str(f, t->id, t->len);
		if (t->run > 0)
			fprintf(f, ", \"run\": %lld", t->run);
		fputs(", \"worker\": ", f);
		ciq_json_cstr(f, *w ? w : NULL);
		fputs(", ", f);
		ciq_json_ms(f, "duration_ms", t->ms);
		fprintf(f, ", \"requeues\": %lld, \"reclaims\": %lld, \"attempts\": %lld", t->requeues,
		    t->reclaims, ciq_test_attempts(t));
		if (unrun)
			fprintf(f, ", \"state\": \"%s\"", t->running ? "running" : "queued");
		if (output) {
			fputs(", \"output\": ", f);
			if (t->output != NULL)
				ciq_json_str(f, t->output, t->outlen);
			else
				fputs("null", f);
		}
		putc('}', f);
	}
	fprintf(f, "%s]", l->n ? "\n  " : "");
}

/* The tests running when the summary was read, and for how long. */
static void
json_running(FILE *f, const struct ciq_summary *sum)
{
	fputs(",\n  \"running\": [", f);
	for (size_t i = 0; i < sum->running_tests.n; i++) {
		const struct ciq_test *t = sum->running_tests.v[i];

		fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
		ciq_json_str(f, t->id, t->len);
		fputs(", \"worker\": ", f);
		ciq_json_cstr(f, *t->holder ? t->holder : NULL);
		fputs(", ", f);
		ciq_json_ms(f, "started_ms", t->started_ms);
		fputs(", ", f);
		ciq_json_ms(f, "running_ms", ciq_test_running_ms(sum, t));
		fprintf(f, ", \"requeues\": %lld, \"reclaims\": %lld, \"attempts\": %lld}", t->requeues,
		    t->reclaims, ciq_test_attempts(t));
	}
	fprintf(f, "%s]", sum->running_tests.n ? "\n  " : "");
}

/* A string of the runner's report; absent attributes ("") are null. */
static void
json_opt(FILE *f, const char *s)
{
	ciq_json_cstr(f, s != NULL && *s != '\0' ? s : NULL);
}

/* The runner's testcases of a unit, one a line, and how many were left out. */
static void
json_cases(FILE *f, const struct ciq_cases *c)
{
	fputs(", \"cases\": [", f);
	for (size_t i = 0; c != NULL && i < c->n; i++) {
		const struct ciq_case *k = &c->v[i];

		fprintf(f, "%s\n      {\"classname\": ", i ? "," : "");
		ciq_json_cstr(f, k->classname);
		fputs(", \"name\": ", f);
		ciq_json_cstr(f, k->name);
		fputs(", \"file\": ", f);
		json_opt(f, k->file);
		fprintf(f, ", \"outcome\": \"%s\", ", ciq_case_outcome_name(k->outcome));
		ciq_json_ms(f, "duration_ms", k->ms);
		fputs(", \"type\": ", f);
		json_opt(f, k->type);
		fputs(", \"message\": ", f);
		json_opt(f, k->message);
		fputs(", \"output\": ", f);
		json_opt(f, k->output);
		putc('}', f);
	}
	fprintf(f, "], \"cases_omitted\": %lld", c != NULL ? c->omitted : 0);
}

/* passed, failed, skipped, or for a test without a result: running, queued. */
static const char *
outcome(const struct ciq_test *t)
{
	const char *o = ciq_outcome_name(t->outcome);

	return o != NULL ? o : t->running ? "running" : "queued";
}

void
ciq_report_json(FILE *f, const struct ciq_summary *sum, const struct ciq_verdict *v)
{
	fprintf(f, "{\n  \"version\": %d,\n  \"build\": ", CIQ_REPORT_JSON_VERSION);
	ciq_json_cstr(f, v->build);
	fputs(",\n  \"namespace\": ", f);
	ciq_json_cstr(f, v->ns);
	fprintf(f, ",\n  \"verdict\": \"%s\",\n  \"exit_status\": %d,\n", v->word, v->status);
	fputs("  \"seed\": ", f);
	ciq_json_cstr(f, sum->seed);
	fputs(",\n  \"order\": ", f);
	ciq_json_cstr(f, sum->order);
	fprintf(f, ",\n  \"totals\": {\"tests\": %lld, \"processed\": %lld, \"passed\": %lld, "
	    "\"failed\": %lld, \"skipped\": %lld, \"flaky\": %lld, \"requeued\": %lld, "
	    "\"reclaimed\": %lld, \"released\": %lld, \"unrun\": %zu, \"quarantined\": %lld}",
	    sum->total, sum->processed, sum->passed, sum->failed, sum->skipped, sum->flaky,
	    sum->requeued, sum->reclaimed, sum->released, sum->unrun.n, sum->quarantined);
	fputs(",\n  \"time\": {", f);
	ciq_json_ms(f, "created_ms", sum->created_ms);
	fputs(", ", f);
	ciq_json_ms(f, "end_ms", sum->end_ms);
	fputs(", ", f);
	ciq_json_ms(f, "wall_ms", sum->wall_ms);
	fprintf(f, ", \"busy_ms\": %lld, \"utilisation\": ", sum->busy_ms);
	if (sum->utilisation >= 0)
		fprintf(f, "%.4f}", sum->utilisation);
	else
		fputs("null}", f);
	json_items(f, "failures", &sum->failures, 1, 0);
	json_items(f, "flaky", &sum->flaky_tests, 1, 0);
	json_items(f, "requeued", &sum->requeued_tests, 0, 0);
	json_items(f, "reclaimed", &sum->reclaimed_tests, 0, 0);
	json_items(f, "unrun", &sum->unrun, 0, 1);
	json_running(f, sum);
	json_grind(f, sum->grind);
	json_items(f, "quarantined", &sum->quarantined_tests, 1, 0);
	json_items(f, "known_flaky_passed", &sum->known_passed, 0, 0);
	if (sum->known_flaky)
		fprintf(f, ",\n  \"known_flaky\": {\"listed\": %zu, \"not_in_build\": %zu}",
		    sum->known_listed, sum->known_absent);
	else
		fputs(",\n  \"known_flaky\": null", f);
	fputs(",\n  \"lost_keys\": [", f);
	for (size_t i = 0; i < sum->nlost; i++) {
		fputs(i ? ", " : "", f);
		ciq_json_cstr(f, sum->lost[i]);
	}
	fputs("],\n  \"mismatches\": [", f);
	for (size_t i = 0; i < sum->nmismatches; i++) {
		fprintf(f, "%s\n    {\"worker\": ", i ? "," : "");
		ciq_json_cstr(f, sum->mismatches[i].worker);
		fprintf(f, ", \"ids\": %lld, \"digest\": ", sum->mismatches[i].ids);
		ciq_json_cstr(f, sum->mismatches[i].digest);
		putc('}', f);
	}
	fprintf(f, "%s]", sum->nmismatches ? "\n  " : "");
	fputs(",\n  \"split\": [", f);
	for (size_t i = 0; i < sum->nsplits; i++) {
		fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
		ciq_json_str(f, sum->splits[i].id, sum->splits[i].len);
		fprintf(f, ", \"parts\": %lld}", sum->splits[i].parts);
	}
	fprintf(f, "%s]", sum->nsplits ? "\n  " : "");
	fputs(",\n  \"workers\": [", f);
	for (size_t i = 0; i < sum->nworkers; i++) {
		const struct ciq_worker_stats *w = &sum->workers[i];

		fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
		ciq_json_cstr(f, w->id);
		fprintf(f, ", \"tests\": %lld, \"passed\": %lld, \"failed\": %lld, \"skipped\": %lld, "
		    "\"requeued\": %lld, \"reclaimed\": %lld, \"busy_ms\": %lld, ", w->reserved, w->passed,
		    w->failed, w->skipped, w->requeued, w->reclaimed, w->busy_ms);
		ciq_json_ms(f, "idle_ms", w->idle_ms);
		fprintf(f, ", \"finished\": %s}", w->last_seen_ms < 0 ? "true" : "false");
	}
	fprintf(f, "%s]", sum->nworkers ? "\n  " : "");
	fputs(",\n  \"tests\": [", f);
	for (size_t i = 0; i < sum->ntests; i++) {
		const struct ciq_test *t = &sum->tests[i];
		const char *w = t->outcome == CIQ_NONE && t->running ? t->holder : t->worker;

		fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
		ciq_json_str(f, t->id, t->len);
		if (t->run > 0)
			fprintf(f, ", \"run\": %lld", t->run);
		fprintf(f, ", \"outcome\": \"%s\", \"worker\": ", outcome(t));
		ciq_json_cstr(f, *w ? w : NULL);
		fputs(", ", f);
		ciq_json_ms(f, "duration_ms", t->ms);
		fprintf(f, ", \"requeues\": %lld, \"reclaims\": %lld, \"attempts\": %lld, \"flaky\": %s, "
		    "\"quarantined\": %s", t->requeues, t->reclaims, ciq_test_attempts(t),
		    t->flaky ? "true" : "false", t->quarantined ? "true" : "false");
		json_cases(f, t->cases);
		putc('}', f);
	}
	fprintf(f, "%s]\n}\n", sum->ntests ? "\n  " : "");
}

void
ciq_report_order_text(FILE *f, const struct ciq_order *o)
{
	for (size_t i = 0; i < o->n; i++) {
		fwrite(o->ids[i], 1, o->lens[i], f);
		putc('\n', f);
	}
}

void
ciq_report_order_json(FILE *f, const struct ciq_order *o, const char *build, const char *ns,
    const char *worker)
{
	fprintf(f, "{\n  \"version\": %d,\n  \"build\": ", CIQ_REPORT_JSON_VERSION);
	ciq_json_cstr(f, build);
	fputs(",\n  \"namespace\": ", f);
	ciq_json_cstr(f, ns);
	fputs(",\n  \"worker\": ", f);
	ciq_json_cstr(f, worker);
	fputs(",\n  \"ids\": [", f);
	for (size_t i = 0; i < o->n; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		ciq_json_str(f, o->ids[i], o->lens[i]);
	}
	fprintf(f, "%s]\n}\n", o->n ? "\n  " : "");
}
