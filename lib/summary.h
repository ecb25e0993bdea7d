/*
 * summary.h - everything the report says about a build, read from the
 * server in one pass once the wait is over.
 *
 * The summary holds one record per test the server knows of (a result,
 * a place in the queue, a reservation, a requeue or reclaim count), and
 * lists that point into those records: failures, flaky, requeued,
 * reclaimed, never-run and running tests, and with a known-flaky list
 * the quarantined failures and the listed tests that passed. Every writer (text, JSON, JUnit,
 * Markdown) reads the same records, so they cannot disagree.
 */
#ifndef CIQ_SUMMARY_H
#define CIQ_SUMMARY_H

#include "cases.h"
#include "quarantine.h"
#include "session.h"

struct ciq_grind;

/* The result recorded for a test, from the results hash. */
enum ciq_outcome {
	CIQ_NONE,     /* no result yet (or it was evicted) */
	CIQ_PASSED,
	CIQ_FAILED,
	CIQ_SKIPPED
};

/*
 * One test: one unit of work, as the queue hands it out. When it is a file
 * that runs many tests, cases holds the testcases of the runner's JUnit
 * report that a worker attached (ciq-ack --junit, ciq-requeue --junit):
 * those of the latest attempt that brought some. They are detail; the
 * unit's result is outcome.
 */
struct ciq_test {
	char *id;
	size_t len;
	long long run;         /* a grind's run of the test, from 1; 0 outside a grind */
	enum ciq_outcome outcome;
	char *worker;          /* who recorded the result; "" without one */
	long long ms;          /* duration of the recorded result, -1 when unknown */
	long long requeues, reclaims;
	int flaky;             /* failed, then passed */
	int queued;            /* waiting in the queue */
	int running;           /* reserved by a worker now */
	char *holder;          /* the worker holding a running test, else "" */
	long long started_ms;  /* a running test's reservation, server ms; -1 unknown */
	int quarantined;       /* failed, and on the known-flaky list: not counted */
	char *output;          /* stored output (of the last failure), or NULL */
	size_t outlen;
	struct ciq_cases *cases;  /* the runner's testcases, or NULL */
};

/* An ordered list of tests; the records belong to the summary. */
struct ciq_list {
	struct ciq_test **v;
	size_t n, cap;
};

struct ciq_worker_stats {
	char *id;
	long long reserved, passed, failed, skipped, requeued, reclaimed, busy_ms;
	long long last_seen_ms;  /* server ms; negative once the worker finished */
	long long idle_ms;       /* wall time not spent running tests, -1 when unknown */
};

/* A unit the leader split into its parts (ciq-populate --split-command). */
struct ciq_split_note {
	char *id;
	size_t len;
	long long parts;
};

/* A worker whose list had another digest than the published one. */
struct ciq_mismatch {
	char *worker;
	long long ids;           /* how many ids its list held */
	char *digest;
};

struct ciq_summary {
	/* Counts come from the records themselves (the results hash, the
	 * flaky set, the requeue and reclaim counts), never from counters a
	 * lost key could have reset; released alone is a counter. */
	long long total, processed;
	long long repeat;        /* runs queued per test: a grind's --repeat, else 1 */
	const struct ciq_grind *grind;  /* a grind's figures per test (grind.h), which the
	                                   report sets; NULL outside a grind */
	long long passed, failed, skipped, flaky, requeued, reclaimed, released;
	/* Failures of known-flaky tests: in processed, not in failed (see
	 * ciq_summary_quarantine). */
	long long quarantined;
	char *seed, *order, *leader;

	/* Time, in ms of the server's clock. */
	long long now_ms;        /* when the summary was read */
	long long created_ms;    /* when the leader published the build, -1 unknown */
	long long end_ms;        /* the last sign of life of a worker that ran tests,
	                            or now_ms while tests remain; -1 unknown */
	long long wall_ms;       /* end_ms - created_ms, -1 unknown */
	long long busy_ms;       /* test time of every worker together */
	double utilisation;      /* busy_ms / (workers * wall_ms), in [0, 1]; -1 unknown */

	struct ciq_test *tests;  /* every test, sorted bytewise by id */
	size_t ntests;
	struct ciq_list failures, flaky_tests, requeued_tests, reclaimed_tests;
	struct ciq_list unrun;   /* queue order, then the running ones by last sign of life */
	struct ciq_list running_tests; /* reserved now: the longest running first, then by id */

	/* With a known-flaky list (ciq_summary_quarantine): its failures, by
	 * id; its tests that passed without failing (not flaky), by id; how
	 * many ids it lists, and how many of those the build does not have. */
	int known_flaky;         /* a list was applied */
	struct ciq_list quarantined_tests, known_passed;
	size_t known_listed, known_absent;
	struct ciq_worker_stats *workers;
	size_t nworkers;

	/* Doubt: the keys of the build that were lost (evicted, expired or
	 * deleted, even if a later write made them again: their marker is
	 * gone), by name ("stats", "order:3", "leader"), read after the records;
	 * and the workers whose lists differed from the published one. */
	char **lost;
	size_t nlost;
	struct ciq_mismatch *mismatches;
	size_t nmismatches;

	/* The units the leader split, in id order (meta "split:UNIT"). */
	struct ciq_split_note *splits;
	size_t nsplits;
};

/*
 * Read the summary of the session's build. Returns CIQ_EX_OK, or an exit
 * status with err filled (CIQ_EX_VANISHED when the build's meta is gone).
 * Free the summary with ciq_summary_free() either way.
 */
int ciq_summary_read(struct ciq_session *s, struct ciq_summary *sum, char err[CIQ_ERRLEN]);

void ciq_summary_free(struct ciq_summary *sum);

/*
 * Apply the known-flaky list q to the records: each listed test whose
 * result is a failure is quarantined (its record says so): it moves from
 * failures to quarantined_tests and from the failed count to the
 * quarantined one, so the verdict does not count it. Each listed test
 * that passed without failing in this build goes to known_passed, so the
 * list can shrink. Nothing else changes: a listed test without a result
 * is still without one (doubt), lost keys and mismatches stay. Call it
 * once, after ciq_summary_read. Can't fail.
 */
void ciq_summary_quarantine(struct ciq_summary *sum, const struct ciq_quarantine *q);

/* How long a running test has run when the summary was read, or -1. */
long long ciq_test_running_ms(const struct ciq_summary *sum, const struct ciq_test *t);

/*
 * What the progress line shows while the build runs, cheaper than a
 * summary: failed tests and the test time of every worker so far, each
 * -1 when it cannot be read. Can't fail.
 */
void ciq_summary_so_far(struct ciq_session *s, long long *failed, long long *busy_ms);

/*
 * The n slowest tests with a known duration, longest first (ties in id
 * order), into out (room for n). Returns how many were stored.
 */
size_t ciq_summary_slowest(const struct ciq_summary *sum, struct ciq_test **out, size_t n);

/* The record of test id, or NULL. */
struct ciq_test *ciq_summary_find(const struct ciq_summary *sum, const char *id, size_t len);

/* 1 when the records leave doubt: keys lost, or tests without a result. */
int ciq_summary_doubt(const struct ciq_summary *sum);

/*
 * How a report ended, for the writers: the verdict word (passed, failed,
 * unfinished, abandoned, stopped, lost, mismatch), the exit status it
 * gives, and the line that ends the text report ("FAILED: 1 of 3 tests
 * failed").
 */
struct ciq_verdict {
	const char *word;
	int status;
	char line[256];
	const char *build, *ns;   /* the build and its namespace ("" without) */
};

/* "passed", "failed", "skipped", or NULL for a test without a result. */
const char *ciq_outcome_name(enum ciq_outcome o);

/* Attempts of a test: its first run, plus one per requeue and reclaim. */
long long ciq_test_attempts(const struct ciq_test *t);

#endif
