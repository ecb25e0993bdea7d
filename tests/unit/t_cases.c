/*
 * t_cases.c - cases.h: the encoding's exact form, the round trip, what
 * is left out past CIQ_CASES_MAX, and input that is not an encoding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cases.h"
#include "unit.h"

static struct ciq_case *
add(struct ciq_cases *c, enum ciq_case_outcome o, long long ms, const char *name,
    const char *output)
{
	struct ciq_case *k = ciq_cases_add(c);

	CHECK(k->ms == -1 && k->name == NULL && k->outcome == CIQ_CASE_PASSED);
	k->outcome = o;
	k->ms = ms;
	k->name = ciq_strdup(name);
	if (output != NULL)
		k->output = ciq_strdup(output);
	return k;
}

/* 1 when a decoded string is the original (NULL is read back as ""). */
static int
same(const char *decoded, const char *orig)
{
	return decoded != NULL && strcmp(decoded, orig ? orig : "") == 0;
}

static int
same_case(const struct ciq_case *a, const struct ciq_case *b)
{
	return a->outcome == b->outcome && a->ms == b->ms && same(a->classname, b->classname) &&
	    same(a->name, b->name) && same(a->file, b->file) && same(a->type, b->type) &&
	    same(a->message, b->message) && same(a->output, b->output);
}

static void
form(void)
{
	struct ciq_cases c = { 0 }, d = { 0 };
	struct ciq_case *k;
	size_t len;
	char *s;

	c.result = 'f';
	c.worker = ciq_strdup("w");
	k = add(&c, CIQ_CASE_FAILED, 12, "N", "O");
	k->classname = ciq_strdup("C");
	k->file = ciq_strdup("F");
	k->type = ciq_strdup("T");
	k->message = ciq_strdup("M");
	add(&c, CIQ_CASE_SKIPPED, -1, "", NULL);
	s = ciq_cases_encode(&c, &len);
	CHECK(len == strlen(s));
	CHECK_STR(s, "11:ciq-cases-11:f1:w1:0"
	    "1:f2:121:C1:N1:F1:T1:M1:O"
	    "1:s0:0:0:0:0:0:0:");
	CHECK(ciq_cases_decode(s, len, &d) == 0);
	CHECK(d.n == 2 && d.result == 'f' && d.omitted == 0);
	CHECK_STR(d.worker, "w");
	if (d.n == 2) {
		CHECK(same_case(&d.v[0], &c.v[0]));
		CHECK(same_case(&d.v[1], &c.v[1]));
		CHECK(d.v[1].ms == -1 && d.v[1].output != NULL);
	}
	free(s);
	ciq_cases_free(&d);
	ciq_cases_free(&c);
	CHECK(c.v == NULL && c.n == 0 && c.worker == NULL);

	/* Nothing set: result p, no worker, no case. */
	s = ciq_cases_encode(&c, &len);
	CHECK_STR(s, "11:ciq-cases-11:p0:1:0");
	CHECK(ciq_cases_decode(s, len, &d) == 0 && d.n == 0 && d.result == 'p');
	CHECK_STR(d.worker, "");
	free(s);
	ciq_cases_free(&d);
}

static void
round_trip(void)
{
	struct ciq_cases c = { 0 }, d = { 0 };
	struct ciq_case *k;
	char big[5000];
	size_t len;
	char *s;

	c.result = 'r';
	c.worker = ciq_strdup("worker:7");
	c.omitted = 3;
	/* Bytes that look like the encoding itself, newlines, UTF-8. */
	k = add(&c, CIQ_CASE_ERROR, 0, "12:fake", "line 1\nline 2\r\n\t\xc3\xa9");
	k->classname = ciq_strdup("a.b:C");
	k->message = ciq_strdup("0:");
	add(&c, CIQ_CASE_PASSED, 123456789012LL, "p", NULL);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	k = add(&c, CIQ_CASE_SKIPPED, 5, big, big);
	k->type = ciq_strdup("skip");
	s = ciq_cases_encode(&c, &len);
	CHECK(ciq_cases_decode(s, len, &d) == 0);
	CHECK(d.result == 'r' && d.omitted == 3 && d.n == 3);
	CHECK_STR(d.worker, "worker:7");
	for (size_t i = 0; i < d.n && i < c.n; i++)
		unit_check(same_case(&d.v[i], &c.v[i]), __FILE__, __LINE__, "case %zu differs", i);
	CHECK(ciq_cases_count(&d, CIQ_CASE_ERROR) == 1);
	CHECK(ciq_cases_count(&d, CIQ_CASE_PASSED) == 1);
	CHECK(ciq_cases_count(&d, CIQ_CASE_SKIPPED) == 1);
	CHECK(ciq_cases_count(&d, CIQ_CASE_FAILED) == 0);
	/* Every shorter prefix is refused, never half read. */
	for (size_t n = 0; n < len; n += (n < 200 ? 1 : 97)) {
		struct ciq_cases e = { 0 };
		int rc = ciq_cases_decode(s, n, &e);

		/* A prefix that ends at a case boundary is an encoding too. */
		if (rc == 0)
			CHECK(n == 0 ? 0 : e.n < 3);
		else
			CHECK(e.v == NULL && e.n == 0 && e.worker == NULL);
		ciq_cases_free(&e);
	}
	free(s);
	ciq_cases_free(&d);
	ciq_cases_free(&c);

	CHECK_STR(ciq_case_outcome_name(CIQ_CASE_PASSED), "passed");
	CHECK_STR(ciq_case_outcome_name(CIQ_CASE_FAILED), "failed");
	CHECK_STR(ciq_case_outcome_name(CIQ_CASE_ERROR), "error");
	CHECK_STR(ciq_case_outcome_name(CIQ_CASE_SKIPPED), "skipped");
}

/* Past CIQ_CASES_MAX: failures and errors first, then skips, then
 * passes; the rest counted in OMITTED. */
static void
limits(void)
{
	struct ciq_cases c = { 0 }, d = { 0 };
	char out[CIQ_CASE_OUTPUT_MAX + 1], name[32];
	size_t len, npass = 300, nskip = 20;
	char *s;

	memset(out, 'o', CIQ_CASE_OUTPUT_MAX);
	out[CIQ_CASE_OUTPUT_MAX] = '\0';
	c.omitted = 5;
	for (size_t i = 0; i < npass; i++) {
		snprintf(name, sizeof name, "pass-%zu", i);
		add(&c, CIQ_CASE_PASSED, 1, name, out);
		if (i % 15 == 0) {
			snprintf(name, sizeof name, "skip-%zu", i);
			add(&c, CIQ_CASE_SKIPPED, 1, name, out);
		}
	}
	add(&c, CIQ_CASE_FAILED, 1, "fail-last", out);
	add(&c, CIQ_CASE_ERROR, 1, "error-last", out);
	s = ciq_cases_encode(&c, &len);
	CHECK(len <= CIQ_CASES_MAX);
	CHECK(len > CIQ_CASES_MAX / 10 * 9);
	CHECK(ciq_cases_decode(s, len, &d) == 0);
	CHECK(d.n < c.n && d.n > 200);
	CHECK(d.omitted == 5 + (long long)(c.n - d.n));
	CHECK(ciq_cases_count(&d, CIQ_CASE_FAILED) == 1);
	CHECK(ciq_cases_count(&d, CIQ_CASE_ERROR) == 1);
	CHECK(ciq_cases_count(&d, CIQ_CASE_SKIPPED) == nskip);
	/* Kept in the report's order. */
	CHECK(d.n > 2 && strcmp(d.v[d.n - 1].name, "error-last") == 0 &&
	    strcmp(d.v[d.n - 2].name, "fail-last") == 0);
	CHECK(d.n > 2 && strcmp(d.v[0].name, "pass-0") == 0 &&
	    strcmp(d.v[1].name, "skip-0") == 0);
	free(s);
	ciq_cases_free(&d);
	ciq_cases_free(&c);

	/* Just under the limit: everything kept. */
	for (size_t i = 0; i < 200; i++)
		add(&c, CIQ_CASE_PASSED, 1, "p", out);
	s = ciq_cases_encode(&c, &len);
	CHECK(ciq_cases_decode(s, len, &d) == 0 && d.n == 200 && d.omitted == 0);
	free(s);
	ciq_cases_free(&d);
	ciq_cases_free(&c);
}

static void
refuses(const char *s, size_t n, int line)
{
	struct ciq_cases d = { 0 };
	int rc = ciq_cases_decode(s, n, &d);

	unit_check(rc == -1, __FILE__, line, "decodes \"%.*s\"", (int)n, s);
	unit_check(d.v == NULL && d.n == 0 && d.worker == NULL, __FILE__, line,
	    "not zeroed after \"%.*s\"", (int)n, s);
	ciq_cases_free(&d);
}

#define REFUSES(lit) refuses(lit, sizeof lit - 1, __LINE__)
#define HEAD "11:ciq-cases-11:f1:w1:0"

static void
bad_input(void)
{
	REFUSES("");
	REFUSES("garbage");
	REFUSES("11:ciq-cases-2" "1:f1:w1:0");
	REFUSES("11:ciq-cases-11:x1:w1:0");
	REFUSES("11:ciq-cases-12:ff1:w1:0");
	REFUSES("11:ciq-cases-11:f1:w");
	REFUSES("11:ciq-cases-11:f1:w1:");
	REFUSES("11:ciq-cases-11:f1:w0:");
	REFUSES("11:ciq-cases-11:f1:w2:-1");
	REFUSES("11:ciq-cases-11:f1:w1:x");
	REFUSES("99:ciq-cases-1");
	REFUSES("99999999999999999999999999:x");
	REFUSES("18446744073709551617:x");
	REFUSES("11ciq-cases-1");
	REFUSES(":ciq-cases-1");
	REFUSES("11:ciq-cases-11:f3:w\0x1:0");
	REFUSES(HEAD "1:f2:121:C1:N1:F1:T1:M");            /* 7 fields */
	REFUSES(HEAD "1:z0:0:0:0:0:0:0:");                 /* outcome */
	REFUSES(HEAD "2:ff0:0:0:0:0:0:0:");
	REFUSES(HEAD "1:f3:abc0:0:0:0:0:0:");              /* ms */
	REFUSES(HEAD "1:f2:-50:0:0:0:0:0:");
	REFUSES(HEAD "1:f0:0:0:0:0:0:1:\0");               /* NUL */
	REFUSES(HEAD "1:f0:0:0:0:0:0:0:x");                /* trailing bytes */
	REFUSES(HEAD "1:f0:0:0:0:0:0:0:5:abc");
}

void
test_cases(void)
{
	form();
	round_trip();
	limits();
	bad_input();
}
