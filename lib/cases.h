/*
 * cases.h - the testcases of one unit of work, as its runner reported them.
 *
 * When a unit of work is a file that runs many tests, the worker can
 * attach the runner's own JUnit report to its result (ciq-ack --junit,
 * ciq-requeue --junit; lib/junitxml.c reads it). The unit's result stays
 * what the worker said: the testcases are detail for the report, which
 * lists them under the unit (lib/junit.c, lib/report.c).
 *
 * They travel to the server, and live there, as one string per unit in
 * the build's "cases" hash. The string is a run of "LEN:BYTES" fields,
 * as the Lua prelude stores replies, so any byte survives:
 *
 *	"ciq-cases-1" RESULT WORKER OMITTED
 *	then per testcase: OUTCOME MS CLASSNAME NAME FILE TYPE MESSAGE OUTPUT
 *
 * RESULT is the result of the attempt the cases come from ("p", "f", "s",
 * or "r" for a requeue), WORKER the worker that attached them, OMITTED
 * how many testcases were left out to stay within CIQ_CASES_MAX.
 * OUTCOME is "p", "f", "e" or "s"; MS is the duration in ms, empty when
 * unknown; absent attributes are empty strings.
 */
#ifndef CIQ_CASES_H
#define CIQ_CASES_H

#include <stddef.h>

/* Per testcase, what is kept of the runner's report: longer values are
 * cut, with a note saying how much went (see lib/junitxml.c). */
#define CIQ_CASE_NAME_MAX 1024     /* classname, name, file, type */
#define CIQ_CASE_MESSAGE_MAX 1024  /* the message attribute */
#define CIQ_CASE_OUTPUT_MAX 4096   /* the text of a failure, error or skip */

/* The encoded cases of one unit stay within this many bytes; failures and
 * errors are kept first, then skips, then passes. */
#define CIQ_CASES_MAX (1024 * 1024)

/* What the runner said of one testcase. */
enum ciq_case_outcome {
	CIQ_CASE_PASSED,
	CIQ_CASE_FAILED,   /* a <failure> */
	CIQ_CASE_ERROR,    /* an <error> */
	CIQ_CASE_SKIPPED   /* a <skipped> */
};

/* One testcase. Strings are NUL-terminated and never NULL ("" when the
 * attribute was absent); they hold no NUL byte. */
struct ciq_case {
	enum ciq_case_outcome outcome;
	long long ms;        /* the time attribute in ms, -1 when absent or unreadable */
	char *classname, *name, *file;
	char *type, *message;  /* of the <failure>, <error> or <skipped> */
	char *output;          /* its text */
};

/* The testcases of one unit, in the order of the runner's report. */
struct ciq_cases {
	struct ciq_case *v;
	size_t n, cap;
	char result;         /* the attempt's result: 'p', 'f', 's', or 'r' (requeued) */
	char *worker;        /* who attached them; NULL until set */
	long long omitted;   /* testcases left out (CIQ_CASES_MAX) */
};

/* Append a zeroed case (strings NULL, ms -1) and return it. Can't fail. */
struct ciq_case *ciq_cases_add(struct ciq_cases *c);

/* Free what c holds and zero it. c may be zeroed already. */
void ciq_cases_free(struct ciq_cases *c);

/*
 * Encode c as described above into a new buffer (*len bytes; the caller
 * frees it). When the whole would pass CIQ_CASES_MAX, testcases are left
 * out (failures and errors kept first) and counted in OMITTED. Can't fail.
 */
char *ciq_cases_encode(const struct ciq_cases *c, size_t *len);

/*
 * Decode s[0..n) into c (zeroed by the caller). Returns 0, or -1 when s
 * is not an encoding of this version; c is then freed and zeroed.
 */
int ciq_cases_decode(const char *s, size_t n, struct ciq_cases *c);

/* How many cases of c have outcome o. */
size_t ciq_cases_count(const struct ciq_cases *c, enum ciq_case_outcome o);

/* "passed", "failed", "error" or "skipped". */
const char *ciq_case_outcome_name(enum ciq_case_outcome o);

#endif
