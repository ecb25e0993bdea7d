/*
 * summary.h - everything the report says about a build, read from the
 * server in one pass once the wait is over.
 */
#ifndef CIQ_SUMMARY_H
#define CIQ_SUMMARY_H

#include "session.h"

/* One test worth a line in the report. */
struct ciq_item {
	char *id;
	size_t len;
	char *worker;          /* who recorded or holds it; may be "" */
	long long ms;          /* duration, -1 when unknown */
	long long requeues, reclaims;
	char *output;          /* stored output, or NULL */
	size_t outlen;
	int running;           /* unrun: 1 in flight, 0 still queued */
};

struct ciq_list {
	struct ciq_item *v;
	size_t n, cap;
};

struct ciq_worker_stats {
	char *id;
	long long reserved, passed, failed, skipped, requeued, reclaimed, busy_ms;
	long long last_seen_ms;  /* server ms; negative once the worker finished */
};

struct ciq_summary {
	long long total, processed;
	long long passed, failed, skipped, flaky, requeued, reclaimed, released;
	long long now_ms;
	char *seed, *order, *leader;
	struct ciq_list failures, flaky_tests, requeued_tests, reclaimed_tests, unrun;
	struct ciq_worker_stats *workers;
	size_t nworkers;
};

/*
 * Read the summary of the session's build. Returns CIQ_EX_OK, or an exit
 * status with err filled (CIQ_EX_VANISHED when the build's keys are gone).
 */
int ciq_summary_read(struct ciq_session *s, struct ciq_summary *sum, char err[CIQ_ERRLEN]);

void ciq_summary_free(struct ciq_summary *sum);

#endif
