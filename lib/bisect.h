/*
 * bisect.h - find the tests whose leaked state makes a test fail.
 *
 * A test failed in a run of the suite but passes alone: a test that ran
 * before it in the same process may have left state behind. The tests
 * before it in the order are the suspects. Every step runs the user's
 * runner (runner.h) on some of the suspects, in their order, then the
 * failing test, and the step reproduces the failure when the runner
 * exits non-zero or is killed by a signal.
 *
 *   1. The premises: the failing test alone must pass (step 1), and all
 *      the suspects then it must fail (step 2).
 *   2. Halving: the first half of the suspects left then the test; if
 *      that does not fail, the second half. Whichever fails is kept.
 *   3. When neither half fails alone (the culprits only leak together),
 *      the suspects left are run once more: if they pass now, the failure
 *      is flaky. Else delta debugging (ddmin) from there: smaller chunks,
 *      and the complements of chunks, until no single suspect can be
 *      left out.
 *   4. The result is run once more; it must fail again, else it is flaky.
 *
 * A step that runs past the time limit has its runner's process group
 * killed and counts as unresolved: never as a pass, never as a failure.
 * The search never keeps a set whose step timed out, and never reads it
 * as a sign that its tests are innocent; the result is still a sequence
 * seen failing, but a smaller one that timed out may have been missed.
 * A set already run is not run again (but for step 4).
 *
 * Nothing here prints: the caller's callback hears of every step.
 */
#ifndef CIQ_BISECT_H
#define CIQ_BISECT_H

#include <stddef.h>

#include "errlen.h"
#include "idlist.h"
#include "order.h"
#include "runner.h"

/* What a step is for. */
enum ciq_bisect_phase {
	CIQ_BISECT_P_ALONE,    /* the failing test alone */
	CIQ_BISECT_P_ALL,      /* every suspect, then the failing test */
	CIQ_BISECT_P_HALVING,  /* one half of the suspects left */
	CIQ_BISECT_P_RECHECK,  /* neither half failed: the suspects left, once more */
	CIQ_BISECT_P_DDMIN,    /* a chunk or a complement, by ddmin */
	CIQ_BISECT_P_REPLAY    /* the result, once more */
};

/* What the search concluded. */
enum ciq_bisect_verdict {
	CIQ_BISECT_FOUND,       /* culprits: a minimal set, confirmed */
	CIQ_BISECT_FAILS_ALONE, /* the test fails alone: not a leak */
	CIQ_BISECT_NO_REPRO,    /* every suspect then the test passes */
	CIQ_BISECT_FLAKY,       /* culprits failed once, then passed when run again */
	CIQ_BISECT_UNFINISHED,  /* max_steps ran out; culprits: the smallest failing set seen */
	CIQ_BISECT_TIMED_OUT    /* a premise or the replay timed out (phase says which) */
};

/* A step, as the progress callback sees it. */
struct ciq_bisect_step {
	long long n;                 /* from 1 */
	enum ciq_bisect_phase phase;
	size_t left;                 /* suspects in the smallest set known to fail */
	size_t run;                  /* suspects this step runs before the test */
	const struct ciq_run *done;  /* NULL before the step; after it, how it ended */
	int failed;                  /* after it: whether the failure was reproduced */
};

struct ciq_bisect {
	/* Set by the caller. */
	const struct ciq_id *suspects; /* in the order they ran; every id NUL-terminated */
	size_t n;                      /* at least 1 */
	struct ciq_id test;            /* the failing test */
	char *const *argv;             /* the runner and its arguments */
	long long step_ms;             /* each step's time limit, > 0 */
	long long max_steps;           /* at least 2 */
	int out;                       /* the runners' stdout and stderr; -1: /dev/null */
	void (*progress)(void *arg, const struct ciq_bisect *b, const struct ciq_bisect_step *st);
	void *arg;

	/* Filled by ciq_bisect_run. */
	enum ciq_bisect_verdict verdict;
	enum ciq_bisect_phase phase;   /* TIMED_OUT: the step that did; FLAKY: the step
	                                  that passed; UNFINISHED: the step max_steps
	                                  left no room for */
	size_t *culprits;              /* indexes into suspects, ascending */
	size_t nculprits;
	long long steps;               /* runs of the runner */
	long long timed_out;           /* of them, how many ran past step_ms */
	int ddmin;                     /* halving fell back to ddmin */
	struct ciq_run alone;          /* how step 1 ended */
};

/*
 * The order to bisect: the ids as they ran, each in its first place only
 * (a worker may be handed an id again after a requeue: dropped counts the
 * later copies), and where it came from, for messages.
 */
struct ciq_bisect_order {
	struct ciq_id *ids;
	size_t n, dropped;
	char where[CIQ_ERRLEN];   /* "the order file 'F'", "the order of worker 'W' in build 'B'" */
	struct ciq_idlist list;   /* what ids point into */
	struct ciq_order order;
};

/*
 * Read the order from path ("-": standard input), a list of ids as
 * idlist.h reads it (blank lines skipped, a trailing CR stripped).
 * Returns CIQ_EX_OK, or CIQ_EX_DATAERR with err saying why.
 */
int ciq_bisect_order_file(struct ciq_bisect_order *o, const char *path, char err[CIQ_ERRLEN]);

/*
 * Read the order the session's build recorded for worker (order.h).
 * Returns CIQ_EX_OK; CIQ_EX_DATAERR when the worker took no test; or the
 * status of ciq_order_read, with err saying why.
 */
int ciq_bisect_order_worker(struct ciq_bisect_order *o, struct ciq_session *s,
    const char *worker, char err[CIQ_ERRLEN]);

void ciq_bisect_order_free(struct ciq_bisect_order *o);

/*
 * Point b's suspects and test into the order: the ids before the first
 * place of test (len bytes). Returns CIQ_EX_OK, or CIQ_EX_DATAERR when
 * test is not in the order or is first in it (then nothing ran before
 * it: there is no suspect), with err saying so.
 */
int ciq_bisect_locate(struct ciq_bisect *b, const struct ciq_bisect_order *o, const char *test,
    size_t len, char err[CIQ_ERRLEN]);

/*
 * Search, as above. Returns CIQ_EX_OK with the verdict filled in;
 * CIQ_EX_NORUNNER when the runner could not be executed, or
 * CIQ_EX_SOFTWARE when a step could not be set up, with err saying why;
 * or 128 + the signal's number when SIGINT, SIGTERM or SIGHUP came while
 * a step ran (its runner's process group was killed), err saying so.
 * Free with ciq_bisect_free either way.
 */
int ciq_bisect_run(struct ciq_bisect *b, char err[CIQ_ERRLEN]);

void ciq_bisect_free(struct ciq_bisect *b);

#endif
