/*
 * junit.c - the JUnit XML report.
 *
 * Ids and outputs are bytes; XML 1.0 is UTF-8 text without most control
 * characters. So every byte that is not valid UTF-8 becomes U+FFFD, the
 * characters XML cannot hold at all (C0 controls but tab, newline and
 * carriage return; U+FFFE and U+FFFF) are dropped, and so are DEL and the
 * C1 controls, which XML allows but discourages.
 */
#include <string.h>
#include <time.h>

#include "grind.h"
#include "junit.h"
#include "report.h"
#include "utf8.h"

/* Whether code point cp can be written to the document. */
static int
keep(unsigned int cp)
{
	if (cp == '\t' || cp == '\n' || cp == '\r')
		return 1;
	return !(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xfffe || cp == 0xffff);
}

/*
 * Write s[0..n) as XML text: in an attribute value (attr), markup and
 * white space are escaped so they survive attribute normalisation; in a
 * CDATA section, a "]]>" in the output is split across two sections.
 */
static void
xml(FILE *f, const char *s, size_t n, int attr)
{
	int brackets = 0;   /* ']' at the end of what was written, in CDATA */

	for (size_t i = 0; i < n;) {
		unsigned int cp;
		size_t len = ciq_utf8_len(s + i, n - i, &cp);

		if (len == 0) {
			fputs(CIQ_UTF8_REPLACEMENT, f);
			brackets = 0;
			i++;
			continue;
		}
		i += len;
		if (!keep(cp))
			continue;
		if (attr) {
			switch (cp) {
			case '&': fputs("&amp;", f); break;
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break;
			case '"': fputs("&quot;", f); break;
			case '\t': fputs("&#9;", f); break;
			case '\n': fputs("&#10;", f); break;
			case '\r': fputs("&#13;", f); break;
			default: fwrite(s + i - len, 1, len, f);
			}
			continue;
		}
		if (cp == '>' && brackets >= 2)
			fputs("]]><![CDATA[", f);
		brackets = cp == ']' ? brackets + 1 : 0;
		fwrite(s + i - len, 1, len, f);
	}
}

static void
attr(FILE *f, const char *name, const char *s, size_t n)
{
	fprintf(f, " %s=\"", name);
	xml(f, s, n, 1);
	putc('"', f);
}

static void
cattr(FILE *f, const char *name, const char *s)
{
	attr(f, name, s, strlen(s));
}

/* <property name="ciq.KIND:ID" value="VALUE"/> */
static void
test_property(FILE *f, const char *kind, const struct ciq_test *t, const char *value)
{
	fprintf(f, "      <property name=\"ciq.%s:", kind);
	xml(f, t->id, t->len, 1);
	putc('"', f);
	cattr(f, "value", value);
	fputs("/>\n", f);
}

static void
property(FILE *f, const char *name, const char *value)
{
	fputs("      <property", f);
	cattr(f, "name", name);
	cattr(f, "value", value);
	fputs("/>\n", f);
}

static void
cdata(FILE *f, const char *s, size_t n)
{
	fputs("<![CDATA[", f);
	xml(f, s, n, 0);
	fputs("]]>", f);
}

/* Elements for the failed attempts before the last, one per requeue. */
static void
reruns(FILE *f, const char *element, const struct ciq_test *t, int output_on_last)
{
	long long attempts = ciq_test_attempts(t);

	for (long long k = 1; k <= t->requeues; k++) {
		char msg[96];

		snprintf(msg, sizeof msg, "attempt %lld of %lld failed and was requeued", k, attempts);
		fprintf(f, "      <%s type=\"ciq.requeued\"", element);
		cattr(f, "message", msg);
		if (output_on_last && k == t->requeues && t->output != NULL) {
			fputs("><system-out>", f);
			cdata(f, t->output, t->outlen);
			fprintf(f, "</system-out></%s>\n", element);
		} else {
			fputs("/>\n", f);
		}
	}
}

/* "failed on worker W", with the attempt when there were several. */
static void
failed_on(char *buf, size_t n, const struct ciq_test *t)
{
	long long attempts = ciq_test_attempts(t);

	if (attempts > 1)
		snprintf(buf, n, "failed on worker %s, attempt %lld of %lld", t->worker, attempts,
		    attempts);
	else
		snprintf(buf, n, "failed on worker %s", t->worker);
}

/*
 * A quarantined failure (on the known-flaky list): skipped, with the
 * reason, its output kept in the testcase's system-out.
 */
static void
quarantined(FILE *f, const struct ciq_test *t)
{
	char msg[CIQ_ERRLEN + 96], on[CIQ_ERRLEN];

	fputs(">\n      <skipped type=\"ciq.quarantined\"", f);
	failed_on(on, sizeof on, t);
	snprintf(msg, sizeof msg, "quarantined: failed, not counted (known flaky; %s)", on);
	cattr(f, "message", msg);
	fputs("/>\n", f);
	if (t->output != NULL) {
		fputs("      <system-out>", f);
		cdata(f, t->output, t->outlen);
		fputs("</system-out>\n", f);
	}
}

static void
testcase(FILE *f, const struct ciq_test *t, const char *suite)
{
	char sec[32], msg[CIQ_ERRLEN + 64];

	fputs("    <testcase", f);
	attr(f, "name", t->id, t->len);
	cattr(f, "classname", suite);
	if (t->outcome != CIQ_NONE && t->ms >= 0)
		cattr(f, "time", ciq_report_seconds(sec, sizeof sec, t->ms));
	switch (t->outcome) {
	case CIQ_PASSED:
		if (!t->flaky) {
			fputs("/>\n", f);
			return;
		}
		fputs(">\n", f);
		if (t->requeues > 0) {
			reruns(f, "flakyFailure", t, 1);
			break;
		}
		/* Failed in one run, passed in another (a retried job). */
		fputs("      <flakyFailure type=\"ciq.failed\" message=\"failed in an earlier run\"", f);
		if (t->output != NULL) {
			fputs("><system-out>", f);
			cdata(f, t->output, t->outlen);
			fputs("</system-out></flakyFailure>\n", f);
		} else {
			fputs("/>\n", f);
		}
		break;
	case CIQ_FAILED:
		if (t->quarantined) {
			quarantined(f, t);
			break;
		}
		fputs(">\n      <failure type=\"ciq.failed\"", f);
		failed_on(msg, sizeof msg, t);
		cattr(f, "message", msg);
		putc('>', f);
		if (t->output != NULL)
			cdata(f, t->output, t->outlen);
		fputs("</failure>\n", f);
		reruns(f, "rerunFailure", t, 0);
		break;
	case CIQ_SKIPPED:
		fputs(">\n      <skipped", f);
		snprintf(msg, sizeof msg, "skipped on worker %s", t->worker);
		cattr(f, "message", msg);
		fputs("/>\n", f);
		break;
	case CIQ_NONE:
		if (t->running) {
			fputs(">\n      <error type=\"ciq.unfinished\"", f);
			snprintf(msg, sizeof msg, "still running on worker %s when the report ended",
			    t->holder);
		} else if (t->queued) {
			fputs(">\n      <error type=\"ciq.unrun\"", f);
			snprintf(msg, sizeof msg, "never run: still queued when the report ended");
		} else {
			fputs(">\n      <error type=\"ciq.lost\"", f);
			snprintf(msg, sizeof msg, "no result, and not queued: evicted or flushed");
		}
		cattr(f, "message", msg);
		fputs("/>\n", f);
		break;
	}
	fputs("    </testcase>\n", f);
}

/* Counts of a <testsuite>. */
struct counts {
	long long tests, failures, errors, skipped;
};

/*
 * A unit with the runner's testcases: their failures are the history of
 * a unit that passed in the end when they come from a failed attempt (a
 * requeue, or a failure before the pass), so they show as flaky.
 */
static int
cases_flaky(const struct ciq_test *t)
{
	return t->outcome == CIQ_PASSED && (t->cases->result == 'f' || t->cases->result == 'r');
}

/*
 * Whether a unit with testcases also gets a testcase of its own, named
 * after it, for a result its testcases do not carry: no result yet, or a
 * failure none of its testcases shows (the runner crashed after writing
 * its report, a coverage threshold, a leak check...).
 */
static int
verdict_case(const struct ciq_test *t)
{
	return t->outcome == CIQ_NONE || (t->outcome == CIQ_FAILED &&
	    ciq_cases_count(t->cases, CIQ_CASE_FAILED) + ciq_cases_count(t->cases, CIQ_CASE_ERROR) == 0);
}

static struct counts
unit_counts(const struct ciq_test *t)
{
	struct counts c = { 0, 0, 0, 0 };
	int flaky = cases_flaky(t), verdict = verdict_case(t);

	c.tests = (long long)t->cases->n + verdict;
	c.failures = (flaky ? 0 : (long long)ciq_cases_count(t->cases, CIQ_CASE_FAILED)) +
	    (verdict && t->outcome == CIQ_FAILED);
	c.errors = (flaky ? 0 : (long long)ciq_cases_count(t->cases, CIQ_CASE_ERROR)) +
	    (verdict && t->outcome == CIQ_NONE);
	c.skipped = (long long)ciq_cases_count(t->cases, CIQ_CASE_SKIPPED);
	/* A quarantined unit's failures and errors show as skipped. */
	if (t->quarantined) {
		c.skipped += c.failures + c.errors;
		c.failures = c.errors = 0;
	}
	return c;
}

/* The type and message attributes of a failure, error or skip, when set. */
static void
result_attrs(FILE *f, const struct ciq_case *k, const char *default_type)
{
	if (*k->type != '\0')
		cattr(f, "type", k->type);
	else if (default_type != NULL)
		cattr(f, "type", default_type);
	if (*k->message != '\0')
		cattr(f, "message", k->message);
}

/* One testcase of the runner's report, under its unit t. */
static void
runner_case(FILE *f, const struct ciq_case *k, const struct ciq_test *t, int flaky)
{
	char sec[32], msg[CIQ_CASE_MESSAGE_MAX + 96];
	const char *el;

	fputs("    <testcase", f);
	cattr(f, "name", k->name);
	/* The unit (often the file) groups testcases that name no class. */
	if (*k->classname != '\0')
		cattr(f, "classname", k->classname);
	else
		attr(f, "classname", t->id, t->len);
	if (k->ms >= 0)
		cattr(f, "time", ciq_report_seconds(sec, sizeof sec, k->ms));
	switch (k->outcome) {
	case CIQ_CASE_PASSED:
		fputs("/>\n", f);
		return;
	case CIQ_CASE_SKIPPED:
		fputs(">\n      <skipped", f);
		result_attrs(f, k, NULL);
		if (*k->output != '\0') {
			putc('>', f);
			cdata(f, k->output, strlen(k->output));
			fputs("</skipped>\n", f);
		} else {
			fputs("/>\n", f);
		}
		break;
	case CIQ_CASE_FAILED:
	case CIQ_CASE_ERROR:
		if (t->quarantined) {
			/* The unit is quarantined: its failures are not counted. */
			fputs(">\n      <skipped type=\"ciq.quarantined\"", f);
			snprintf(msg, sizeof msg, "quarantined: %s, not counted (known flaky)%s%s",
			    k->outcome == CIQ_CASE_FAILED ? "failed" : "error",
			    *k->message != '\0' ? ": " : "", k->message);
			cattr(f, "message", msg);
			fputs("/>\n", f);
			if (*k->output != '\0') {
				fputs("      <system-out>", f);
				cdata(f, k->output, strlen(k->output));
				fputs("</system-out>\n", f);
			}
			break;
		}
		if (flaky)
			el = k->outcome == CIQ_CASE_FAILED ? "flakyFailure" : "flakyError";
		else
			el = k->outcome == CIQ_CASE_FAILED ? "failure" : "error";
		fprintf(f, ">\n      <%s", el);
		/* The schema wants a type on flakyFailure and flakyError. */
		result_attrs(f, k, flaky ? ciq_case_outcome_name(k->outcome) : NULL);
		if (*k->output == '\0') {
			fputs("/>\n", f);
		} else if (flaky) {
			fputs("><stackTrace>", f);
			cdata(f, k->output, strlen(k->output));
			fprintf(f, "</stackTrace></%s>\n", el);
		} else {
			putc('>', f);
			cdata(f, k->output, strlen(k->output));
			fprintf(f, "</%s>\n", el);
		}
		break;
	}
	fputs("    </testcase>\n", f);
}

/* What a unit's result is: passed, failed, skipped, running, queued, lost. */
static const char *
unit_outcome(const struct ciq_test *t)
{
	const char *o = ciq_outcome_name(t->outcome);

	return o != NULL ? o : t->running ? "running" : t->queued ? "queued" : "lost";
}

/*
 * A unit with the runner's testcases, as a <testsuite> of its own named
 * after it: its result and history as properties, the testcases, and
 * the unit's own output.
 */
static void
unit_suite(FILE *f, const struct ciq_test *t, const char *suite)
{
	struct counts c = unit_counts(t);
	const char *w = t->outcome == CIQ_NONE && t->running ? t->holder : t->worker;
	int flaky = cases_flaky(t), verdict = verdict_case(t);
	char buf[64];

	fputs("  <testsuite", f);
	attr(f, "name", t->id, t->len);
	fprintf(f, " tests=\"%lld\" failures=\"%lld\" errors=\"%lld\" skipped=\"%lld\"", c.tests,
	    c.failures, c.errors, c.skipped);
	if (t->outcome != CIQ_NONE && t->ms >= 0)
		fprintf(f, " time=\"%s\"", ciq_report_seconds(buf, sizeof buf, t->ms));
	fputs(">\n    <properties>\n", f);
	property(f, "ciq.outcome", unit_outcome(t));
	if (*w != '\0')
		property(f, "ciq.worker", w);
	snprintf(buf, sizeof buf, "%lld", ciq_test_attempts(t));
	property(f, "ciq.attempts", buf);
	if (t->requeues > 0) {
		snprintf(buf, sizeof buf, "%lld", t->requeues);
		property(f, "ciq.requeues", buf);
	}
	if (t->reclaims > 0) {
		snprintf(buf, sizeof buf, "%lld", t->reclaims);
		property(f, "ciq.reclaims", buf);
	}
	if (t->flaky)
		property(f, "ciq.flaky", "true");
	if (t->quarantined)
		property(f, "ciq.quarantined", "true");
	property(f, "ciq.cases.worker", t->cases->worker != NULL ? t->cases->worker : "");
	property(f, "ciq.cases.result", t->cases->result == 'f' ? "failed" :
	    t->cases->result == 's' ? "skipped" : t->cases->result == 'r' ? "requeued" : "passed");
	if (t->cases->omitted > 0) {
		snprintf(buf, sizeof buf, "%lld", t->cases->omitted);
		property(f, "ciq.cases.omitted", buf);
	}
	fputs("    </properties>\n", f);
	for (size_t i = 0; i < t->cases->n; i++)
		runner_case(f, &t->cases->v[i], t, flaky);
	if (verdict)
		testcase(f, t, suite);
	/* A failed unit's own testcase holds the output already. */
	if (t->output != NULL && !(verdict && t->outcome == CIQ_FAILED)) {
		fputs("    <system-out>", f);
		cdata(f, t->output, t->outlen);
		fputs("</system-out>\n", f);
	}
	fputs("  </testsuite>\n", f);
}

/* A grind's figures per test: properties "ciq.grind.FIGURE:ID". */
static void
grind_properties(FILE *f, const struct ciq_grind *g)
{
	char buf[64];

	snprintf(buf, sizeof buf, "%lld", g->repeat);
	property(f, "ciq.grind.repeat", buf);
	for (size_t i = 0; i < g->ntests; i++) {
		const struct ciq_grind_test *t = &g->tests[i];
		const struct { const char *name; long long v; } figs[] = {
			{ "runs", t->runs }, { "failures", t->failures }, { "p50_ms", t->p50_ms },
			{ "p90_ms", t->p90_ms }, { "max_ms", t->max_ms },
		};

		for (size_t k = 0; k < sizeof figs / sizeof figs[0]; k++) {
			if (figs[k].v < 0)
				continue;
			fprintf(f, "      <property name=\"ciq.grind.%s:", figs[k].name);
			xml(f, t->id, t->len, 1);
			fprintf(f, "\" value=\"%lld\"/>\n", figs[k].v);
		}
		fputs("      <property name=\"ciq.grind.failure_rate:", f);
		xml(f, t->id, t->len, 1);
		fprintf(f, "\" value=\"%.4f\"/>\n",
		    t->runs > 0 ? (double)t->failures / (double)t->runs : 0.0);
	}
}

/* One failed case per test of a grind over the duration limit. */
static void
grind_slow(FILE *f, const struct ciq_grind *g, const char *suite)
{
	char lim[96], at[32], msg[192];

	for (size_t i = 0; i < g->ntests; i++) {
		const struct ciq_grind_test *t = &g->tests[i];

		if (!t->slow)
			continue;
		fputs("    <testcase", f);
		attr(f, "name", t->id, t->len);
		cattr(f, "classname", suite);
		cattr(f, "time", ciq_report_seconds(at, sizeof at, t->at_ms));
		snprintf(msg, sizeof msg, "%s s, over %s", at, ciq_grind_limit(g, lim, sizeof lim));
		fputs(">\n      <failure type=\"ciq.slow\"", f);
		cattr(f, "message", msg);
		fputs("/>\n    </testcase>\n", f);
	}
}

void
ciq_junit_write(FILE *f, const struct ciq_summary *sum, const struct ciq_verdict *v)
{
	const char *suite = v->ns != NULL && *v->ns != '\0' ? v->ns : "ciq";
	struct counts own = { 0, 0, 0, 0 }, all;
	long long lost = 0;
	char buf[64], wall[32] = "";

	/* The build's own suite holds the units without the runner's
	 * testcases; the others get suites of their own. */
	for (size_t i = 0; i < sum->ntests; i++) {
		const struct ciq_test *t = &sum->tests[i];

		if (t->cases != NULL)
			continue;
		own.tests++;
		own.failures += t->outcome == CIQ_FAILED && !t->quarantined;
		own.skipped += t->outcome == CIQ_SKIPPED || t->quarantined;
		own.errors += t->outcome == CIQ_NONE;
	}
	/* Tests whose every trace is gone cannot be named: one case says so;
	 * lost keys get one case, each list that differed one more. */
	if (sum->total > (long long)sum->ntests) {
		lost = sum->total - (long long)sum->ntests;
		own.tests++;
		own.errors++;
	}
	own.tests += (long long)(sum->nlost > 0) + (long long)sum->nmismatches;
	own.errors += (long long)(sum->nlost > 0) + (long long)sum->nmismatches;
	/* A grind's test too slow at the report's percentile: a case of its own. */
	if (sum->grind != NULL) {
		own.tests += sum->grind->slow_tests;
		own.failures += sum->grind->slow_tests;
	}
	all = own;
	for (size_t i = 0; i < sum->ntests; i++) {
		struct counts c;

		if (sum->tests[i].cases == NULL)
			continue;
		c = unit_counts(&sum->tests[i]);
		all.tests += c.tests;
		all.failures += c.failures;
		all.errors += c.errors;
		all.skipped += c.skipped;
	}
	if (sum->wall_ms >= 0)
		ciq_report_seconds(wall, sizeof wall, sum->wall_ms);

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", f);
	cattr(f, "name", suite);
	fprintf(f, " tests=\"%lld\" failures=\"%lld\" errors=\"%lld\"", all.tests, all.failures,
	    all.errors);
	if (*wall)
		fprintf(f, " time=\"%s\"", wall);
	fputs(">\n  <testsuite", f);
	cattr(f, "name", suite);
	fprintf(f, " tests=\"%lld\" failures=\"%lld\" errors=\"%lld\" skipped=\"%lld\"", own.tests,
	    own.failures, own.errors, own.skipped);
	if (*wall)
		fprintf(f, " time=\"%s\"", wall);
	if (sum->created_ms >= 0) {
		time_t at = (time_t)(sum->created_ms / 1000);
		struct tm tm;

		if (gmtime_r(&at, &tm) != NULL && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) > 0)
			fprintf(f, " timestamp=\"%s\"", buf);
	}
	fputs(">\n    <properties>\n", f);
	property(f, "ciq.build", v->build);
	property(f, "ciq.namespace", v->ns != NULL ? v->ns : "");
	property(f, "ciq.verdict", v->word);
	snprintf(buf, sizeof buf, "%d", v->status);
	property(f, "ciq.exit_status", buf);
	property(f, "ciq.seed", sum->seed != NULL ? sum->seed : "");
	property(f, "ciq.order", sum->order != NULL ? sum->order : "");
	snprintf(buf, sizeof buf, "%zu", sum->nworkers);
	property(f, "ciq.workers", buf);
	if (sum->wall_ms >= 0) {
		snprintf(buf, sizeof buf, "%lld", sum->wall_ms);
		property(f, "ciq.wall_ms", buf);
	}
	snprintf(buf, sizeof buf, "%lld", sum->busy_ms);
	property(f, "ciq.busy_ms", buf);
	if (sum->utilisation >= 0) {
		snprintf(buf, sizeof buf, "%.4f", sum->utilisation);
		property(f, "ciq.utilisation", buf);
	}
	if (sum->known_flaky) {
		snprintf(buf, sizeof buf, "%lld", sum->quarantined);
		property(f, "ciq.quarantined", buf);
	}
	for (size_t i = 0; i < sum->ntests; i++) {
		const struct ciq_test *t = &sum->tests[i];
		const char *w = t->outcome == CIQ_NONE && t->running ? t->holder : t->worker;

		if (*w != '\0')
			test_property(f, "worker", t, w);
		snprintf(buf, sizeof buf, "%lld", ciq_test_attempts(t));
		test_property(f, "attempts", t, buf);
		if (t->requeues > 0) {
			snprintf(buf, sizeof buf, "%lld", t->requeues);
			test_property(f, "requeues", t, buf);
		}
		if (t->reclaims > 0) {
			snprintf(buf, sizeof buf, "%lld", t->reclaims);
			test_property(f, "reclaims", t, buf);
		}
		if (t->flaky)
			test_property(f, "flaky", t, "true");
		if (t->quarantined)
			test_property(f, "quarantined", t, "true");
	}
	for (size_t i = 0; i < sum->known_passed.n; i++)
		test_property(f, "known_flaky_passed", sum->known_passed.v[i], "true");
	if (sum->grind != NULL)
		grind_properties(f, sum->grind);
	fputs("    </properties>\n", f);
	for (size_t i = 0; i < sum->ntests; i++)
		if (sum->tests[i].cases == NULL)
			testcase(f, &sum->tests[i], suite);
	if (sum->grind != NULL)
		grind_slow(f, sum->grind, suite);
	if (lost > 0) {
		fprintf(f, "    <testcase name=\"%lld test%s without a result\"", lost, lost == 1 ? "" : "s");
		cattr(f, "classname", suite);
		fprintf(f, ">\n      <error type=\"ciq.lost\" message=\"%lld of %lld tests have no result, "
		    "yet nothing is left to run: keys were evicted or flushed\"/>\n    </testcase>\n",
		    lost, sum->total);
	}
	if (sum->nlost > 0) {
		fputs("    <testcase name=\"keys of the build lost\"", f);
		cattr(f, "classname", suite);
		fputs(">\n      <error type=\"ciq.lost\"", f);
		cattr(f, "message", "evicted, expired or deleted: the records cannot be trusted");
		fputs(">", f);
		for (size_t i = 0; i < sum->nlost; i++) {
			xml(f, sum->lost[i], strlen(sum->lost[i]), 0);
			fputs("\n", f);
		}
		fputs("</error>\n    </testcase>\n", f);
	}
	for (size_t i = 0; i < sum->nmismatches; i++) {
		char name[320], msg[320];

		snprintf(name, sizeof name, "list of worker %s", sum->mismatches[i].worker);
		snprintf(msg, sizeof msg, "%lld ids, digest %.12s: not the %lld tests published",
		    sum->mismatches[i].ids, sum->mismatches[i].digest, sum->total);
		fputs("    <testcase", f);
		cattr(f, "name", name);
		cattr(f, "classname", suite);
		fputs(">\n      <error type=\"ciq.mismatch\"", f);
		cattr(f, "message", msg);
		fputs("/>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n", f);
	for (size_t i = 0; i < sum->ntests; i++)
		if (sum->tests[i].cases != NULL)
			unit_suite(f, &sum->tests[i], suite);
	fputs("</testsuites>\n", f);
}
