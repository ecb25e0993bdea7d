/*
 * plan.h - what a build would take, before it runs (ciq-populate
 * --dry-run): each test's expected duration, the makespan for a number of
 * workers, and the fewest workers that meet a target time.
 *
 * The model is the queue itself: every worker takes the next test as soon
 * as it is free, in the published order. Durations come from the
 * namespace's history (timing.h); a test without history counts for the
 * default duration.
 */
#ifndef CIQ_PLAN_H
#define CIQ_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "idlist.h"
#include "session.h"

/* A build's plan: the list in published order, and what it should take. */
struct ciq_plan {
	long long *ms;           /* expected duration of each id of the list, in ms */
	unsigned char *guessed;  /* 1 where it is the default: no history */
	size_t n, known;         /* ids, and those with history */
	long long default_ms;    /* what an id without history counts for */
	const char *default_from; /* "--default-duration", "the median", or "no history" */
	long long workers, makespan, total, longest;
	long long target_ms;     /* --target-time, -1 for none */
	long long target_workers, target_makespan;  /* 0 workers: none meets it */
};

/*
 * Order l as the leader would publish it (ciq_publish_order) and plan it
 * for workers workers: durations from the history; default_ms (-1: the
 * median of the known ones, or 0 without any) for the others; with
 * target_ms above 0, the fewest workers that meet it. Reads only.
 * Returns CIQ_EX_OK or an exit status with err filled; free p with
 * ciq_plan_free() either way.
 */
int ciq_plan_read(struct ciq_plan *p, struct ciq_session *s, struct ciq_idlist *l,
    long long workers, long long default_ms, long long target_ms, char err[CIQ_ERRLEN]);

void ciq_plan_free(struct ciq_plan *p);

/* The plan as text: a line per id in order, then the figures. */
void ciq_plan_text(FILE *f, const struct ciq_plan *p, const struct ciq_idlist *l,
    const char *build);

/* The plan as one JSON document. */
void ciq_plan_json(FILE *f, const struct ciq_plan *p, const struct ciq_idlist *l,
    const char *build);

/*
 * The makespan of running ms[0..n) in that order on workers workers
 * (at least 1): each test goes to the worker that is free first. Returns
 * it in ms; 0 for no test. Can't fail.
 */
long long ciq_plan_makespan(const long long *ms, size_t n, long long workers);

/*
 * The fewest workers, from 1 to n, whose makespan is at most target_ms;
 * 0 when none is: a single test is longer than the target. *makespan
 * gets that worker count's makespan. Can't fail.
 */
long long ciq_plan_workers(const long long *ms, size_t n, long long target_ms,
    long long *makespan);

/*
 * The median of the n known durations in ms (not sorted: they are
 * copied), the lower one of the two middle values; -1 for n 0.
 */
long long ciq_plan_median(const long long *ms, size_t n);

#endif
