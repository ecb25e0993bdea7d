/*
 * wait.c - the report's wait for a build to finish.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "exit.h"
#include "wait.h"

int
ciq_wait_build(struct ciq_session *s, int no_wait, struct ciq_progress *prog,
    enum ciq_wait_end *end, char err[CIQ_ERRLEN])
{
	long long start = ciq_now_ms();
	long long init = ciq_conf_ms(s->conf, CIQ_K_INIT_TIMEOUT);
	long long overall = ciq_conf_ms(s->conf, CIQ_K_REPORT_TIMEOUT);
	long long inactive = ciq_conf_ms(s->conf, CIQ_K_INACTIVE_TIMEOUT);
	char timeout[32];
	const char *args[1] = { timeout };
	struct ciq_backoff wait;
	int seen = 0, stopped, lost, rc;

	snprintf(timeout, sizeof timeout, "%lld", ciq_conf_ms(s->conf, CIQ_K_TIMEOUT));
	ciq_backoff_init(&wait, 100, 1000);
	for (;;) {
		redisReply *r = ciq_session_run(s, CIQ_S_STATUS, 1, args, NULL, &rc, err);
		long long now = ciq_now_ms(), elapsed = now - start, silence;
		struct ciq_progress_sample ps = { 0 };

		if (r == NULL)
			return rc;
		ps.elapsed_ms = elapsed;
		if (strcmp(ciq_reply_str(r, 0), "vanished") == 0) {
			freeReplyObject(r);
			snprintf(err, CIQ_ERRLEN, "the keys of build '%s' vanished: its meta is gone "
			    "while other keys remain (evicted or deleted)", s->build);
			return CIQ_EX_VANISHED;
		}
		if (strcmp(ciq_reply_str(r, 0), "none") == 0) {
			const char *leader = ciq_reply_str(r, 1);

			if (seen) {
				snprintf(err, CIQ_ERRLEN, "the keys of build '%s' vanished while waiting: "
				    "expired, evicted or flushed", s->build);
				rc = CIQ_EX_VANISHED;
			} else if ((no_wait || elapsed >= init) && *leader != '\0') {
				snprintf(err, CIQ_ERRLEN, "build '%s' was never populated: worker '%s' "
				    "won the election but did not publish", s->build, leader);
				rc = CIQ_EX_NOTPOPULATED;
			} else if (no_wait || elapsed >= init) {
				snprintf(err, CIQ_ERRLEN, "build '%s' was never populated (no worker ran "
				    "ciq-populate within %s s)", s->build,
				    ciq_conf_get(s->conf, CIQ_K_INIT_TIMEOUT));
				rc = CIQ_EX_NOTPOPULATED;
			} else {
				rc = CIQ_EX_OK;
			}
			freeReplyObject(r);
			if (rc != CIQ_EX_OK)
				return rc;
			ciq_progress_show(prog, &ps, now);
			ciq_sleep_ms(ciq_backoff_next(&wait));
			continue;
		}
		seen = 1;
		ps.published = 1;
		ps.total = strtoll(ciq_reply_str(r, 1), NULL, 10);
		ps.queued = strtoll(ciq_reply_str(r, 2), NULL, 10);
		ps.running = strtoll(ciq_reply_str(r, 3), NULL, 10);
		ps.processed = strtoll(ciq_reply_str(r, 4), NULL, 10);
		ps.live = strtoll(ciq_reply_str(r, 5), NULL, 10);
		silence = strtoll(ciq_reply_str(r, 6), NULL, 10);
		ps.known = strtoll(ciq_reply_str(r, 7), NULL, 10);
		/* Stopped: nobody takes the queued tests, nor reclaims lost ones,
		 * so only running tests whose worker still shows life count. */
		stopped = strcmp(ciq_reply_str(r, 8), "1") == 0 &&
		    strcmp(ciq_reply_str(r, 9), "0") == 0;
		if (silence < 0)
			silence = elapsed;
		/* A key that lost its marker: the records cannot be trusted,
		 * and the counts may never add up. */
		lost = r->elements > 10;
		freeReplyObject(r);
		if (lost)
			return *end = CIQ_WAIT_DOUBT, CIQ_EX_OK;
		if (ps.queued == 0 && ps.running == 0)
			return *end = CIQ_WAIT_FINISHED, CIQ_EX_OK;
		if (stopped)
			return *end = CIQ_WAIT_STOPPED, CIQ_EX_OK;
		if (no_wait)
			return *end = CIQ_WAIT_NOT_FINISHED, CIQ_EX_OK;
		if (silence >= inactive)
			return *end = CIQ_WAIT_ABANDONED, CIQ_EX_OK;
		if (elapsed >= overall)
			return *end = CIQ_WAIT_TIMED_OUT, CIQ_EX_OK;
		if (ciq_progress_due(prog, now)) {
			ciq_summary_so_far(s, &ps.failed, &ps.busy_ms);
			ciq_progress_show(prog, &ps, now);
		}
		ciq_sleep_ms(ciq_backoff_next(&wait));
	}
}

