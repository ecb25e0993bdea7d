/*
 * ciq-pop - reserve the next test(s) of the build for this worker.
 *
 * Prints one id per line and exits 0, or exits 1 when the queue is
 * exhausted: nothing queued and nothing in flight anywhere. While nothing
 * is queued but tests are still running elsewhere it waits, because
 * those tests may come back (requeued, released, or reclaimed from a
 * dead worker): blocked on the build's wake list, which a requeue, a
 * release and the build's last ack push to, at most until the oldest
 * reservation could be reclaimed. An idle worker costs the server
 * nothing while it waits.
 *
 * Unless --heartbeat is 0 the worker loop has a heartbeat process (see
 * heartbeat.h), started by its first ciq-pop, that keeps the
 * reservations fresh while a test runs and gives them back at once if
 * the loop dies. That process holds none of ciq-pop's descriptors, so
 * t=$(ciq-pop) returns at once.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "exit.h"
#include "heartbeat.h"
#include "number.h"
#include "pop.h"
#include "tool.h"

static const struct ciq_tool tool = {
	"ciq-pop",
	"usage: ciq-pop [-n count] [-l] [--queue URL] [--build ID] [--worker ID]\n"
	    "               [--timeout SECONDS] [--init-timeout SECONDS] [--max-duration SECONDS]\n"
	    "               [options]\n"
	    "See ciq-pop(1).\n",
	"the test ids"
};

/* Print the ids of an "ok" reply, one a line (with --long, after the
 * attempt and the origin), into ids; say which were reclaimed. Returns
 * how many. */
static int
take(const redisReply *r, const char *timeout, int longfmt, char **ids)
{
	int n = 0;

	for (size_t i = 1; i + CIQ_POP_FIELDS <= r->elements; i += CIQ_POP_FIELDS) {
		const redisReply *id = r->element[i], *origin = r->element[i + 1],
		    *from = r->element[i + 2], *attempt = r->element[i + 3];

		ids[n++] = ciq_strdup(id->str);
		if (longfmt)
			printf("%s %s ", attempt->str, origin->str);
		fwrite(id->str, 1, id->len, stdout);
		putchar('\n');
		if (from->len > 0)
			warnx("reclaimed '%s' from worker %s, silent for over %s s",
			    id->str, from->str, timeout);
	}
	return n;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", 1, NULL, 'n' },
		{ "long", 0, NULL, 'l' },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	struct ciq_backoff wait;
	char msg[CIQ_ERRLEN], timeout[32], count[16], max_duration[32], **ids = NULL;
	const char *max_streak;
	long long deadline, n = 1;
	int nids = 0, waited = 0, exhausted = 0, longfmt = 0, c, rc;
	pid_t loop = 0;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "hln:", longopts, NULL)) != -1) {
		if (c == 'n' && ciq_number_whole(optarg, 1, 100000, &n) != CIQ_NUMBER_OK) {
			warnx("invalid count '%s': expected 1 to 100000", optarg);
			ciq_tool_usage(&tool, CIQ_EX_USAGE);
		} else if (c == 'l') {
			longfmt = 1;
		} else if (c != 'n') {
			ciq_tool_option(&tool, &conf, c, optarg);
		}
	}
	if (optind != argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		ciq_tool_usage(&tool, CIQ_EX_USAGE);
	}
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);

	snprintf(timeout, sizeof timeout, "%lld", ciq_conf_ms(&conf, CIQ_K_TIMEOUT));
	snprintf(count, sizeof count, "%lld", n);
	snprintf(max_duration, sizeof max_duration, "%lld", ciq_conf_ms(&conf, CIQ_K_MAX_DURATION));
	max_streak = ciq_conf_get(&conf, CIQ_K_MAX_CONSECUTIVE_FAILURES);
	ciq_backoff_init(&wait, 50, 1500);
	deadline = ciq_now_ms() + ciq_conf_ms(&conf, CIQ_K_INIT_TIMEOUT);
	while (ids == NULL && !exhausted) {
		const char *args[5] = { timeout, count, max_streak, waited ? "1" : "0", max_duration };
		redisReply *r = ciq_session_run(&s, CIQ_S_POP, 5, args, NULL, &rc, msg);

		if (r == NULL)
			errx(rc, "%s", msg);
		switch (ciq_pop_status(r)) {
		case CIQ_POP_OK:
			ids = ciq_calloc(r->elements / CIQ_POP_FIELDS + 1, sizeof *ids);
			nids = take(r, ciq_conf_get(&conf, CIQ_K_TIMEOUT), longfmt, ids);
			break;
		case CIQ_POP_WAIT:
			waited = 1;
			ciq_pop_await_wake(&s, strtoll(ciq_reply_str(r, 1), NULL, 10), &wait);
			break;
		case CIQ_POP_NOTREADY:
			if (ciq_now_ms() >= deadline)
				errx(CIQ_EX_TEMPFAIL, "build '%s' was not published within %s s "
				    "(did ciq-populate run?)", s.build, ciq_conf_get(&conf, CIQ_K_INIT_TIMEOUT));
			ciq_sleep_ms(ciq_backoff_next(&wait));
			break;
		case CIQ_POP_STOPPED:
			warnx("the build stopped: %s tests failed (--max-failures %s)",
			    ciq_reply_str(r, 1), ciq_reply_str(r, 2));
			exhausted = 1;
			break;
		case CIQ_POP_SICK:
			warnx("worker '%s' stops: %s tests failed in a row on it (--max-consecutive-failures %s); "
			    "other workers take the rest", s.worker, ciq_reply_str(r, 1), max_streak);
			exhausted = 1;
			break;
		case CIQ_POP_TIMEUP:
			warnx("worker '%s' stops: its --max-duration of %s s since its first pop is over; "
			    "other workers take the rest", s.worker, ciq_conf_get(&conf, CIQ_K_MAX_DURATION));
			exhausted = 1;
			break;
		case CIQ_POP_DONE:
			exhausted = 1;
			break;
		case CIQ_POP_UNKNOWN:
			errx(CIQ_EX_SOFTWARE, "unexpected reply from the server: '%.15s'", ciq_reply_str(r, 0));
		}
		freeReplyObject(r);
	}
	ciq_session_close(&s);
	if (exhausted) {
		ciq_conf_free(&conf);
		return CIQ_EX_NO;
	}
	/* The loop is found by our standard output, so before it is closed;
	 * without /proc, the parent is taken for it. */
	if (ciq_conf_ms(&conf, CIQ_K_HEARTBEAT) > 0 && (loop = ciq_proc_loop()) <= 0)
		loop = getppid();
	ciq_tool_close_stdout(&tool);
	if (loop > 0 && (rc = ciq_heartbeat_start(&conf, loop, nids, (const char **)ids, msg)) != 0)
		warnx("cannot %s the heartbeat: the tests may be reclaimed after --timeout: %s",
		    rc == CIQ_HEARTBEAT_UNTOLD ? "tell" : "start", msg);
	for (int i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	ciq_conf_free(&conf);
	return CIQ_EX_OK;
}
