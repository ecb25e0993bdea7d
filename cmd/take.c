/*
 * take.c - reserve the next tests, print them, start the heartbeat.
 *
 * While nothing is queued but tests are still running elsewhere it
 * waits, because those tests may come back (requeued, released, or
 * reclaimed from a dead worker): blocked on the build's wake list, which
 * a requeue, a release and the build's last ack push to, at most until
 * the oldest reservation could be reclaimed. An idle worker costs the
 * server nothing while it waits.
 *
 * Unless --heartbeat is 0 the worker loop has a heartbeat process (see
 * heartbeat.h), started by its first reservation, that keeps the
 * reservations fresh while a test runs and gives them back at once if
 * the loop dies. That process holds none of our descriptors, so
 * t=$(ciq-pop) returns at once.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "exit.h"
#include "heartbeat.h"
#include "pop.h"
#include "proc.h"
#include "take.h"

/* Print the ids of an "ok" reply, one a line (with --long, after the
 * attempt and the origin), into ids; say which were reclaimed. Returns
 * how many. */
static int
print_ids(const redisReply *r, const char *timeout, int longfmt, char **ids)
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

/*
 * Reserve up to n tests, as ciq_take says, and print them. Returns how
 * many (*ids: a new array of their ids), or 0 when there are none for
 * this worker; exits on an error.
 */
static int
reserve(struct ciq_session *s, long long n, int longfmt, const redisReply *first, char ***ids)
{
	struct ciq_conf *conf = s->conf;
	struct ciq_backoff wait;
	char msg[CIQ_ERRLEN], timeout[32], count[16], max_duration[32];
	const char *max_streak = ciq_conf_get(conf, CIQ_K_MAX_CONSECUTIVE_FAILURES);
	long long deadline = ciq_now_ms() + ciq_conf_ms(conf, CIQ_K_INIT_TIMEOUT);
	int nids = 0, waited = 0, exhausted = 0, rc;

	*ids = NULL;
	snprintf(timeout, sizeof timeout, "%lld", ciq_conf_ms(conf, CIQ_K_TIMEOUT));
	snprintf(count, sizeof count, "%lld", n);
	snprintf(max_duration, sizeof max_duration, "%lld", ciq_conf_ms(conf, CIQ_K_MAX_DURATION));
	ciq_backoff_init(&wait, 50, 1500);
	while (*ids == NULL && !exhausted) {
		const char *args[5] = { timeout, count, max_streak, waited ? "1" : "0", max_duration };
		redisReply *got = NULL;
		const redisReply *r = first;

		if (r == NULL && (r = got = ciq_session_run(s, CIQ_S_POP, 5, args, NULL, &rc, msg)) == NULL)
			errx(rc, "%s", msg);
		if (r == first && ciq_session_check(s, r, 0, &rc, msg) == -1)
			errx(rc, "%s", msg);
		first = NULL;
		switch (ciq_pop_status(r)) {
		case CIQ_POP_OK:
			*ids = ciq_calloc(r->elements / CIQ_POP_FIELDS + 1, sizeof **ids);
			nids = print_ids(r, ciq_conf_get(conf, CIQ_K_TIMEOUT), longfmt, *ids);
			break;
		case CIQ_POP_WAIT:
			waited = 1;
			ciq_pop_await_wake(s, strtoll(ciq_reply_str(r, 1), NULL, 10), &wait);
			break;
		case CIQ_POP_NOTREADY:
			if (ciq_now_ms() >= deadline)
				errx(CIQ_EX_TEMPFAIL, "build '%s' was not published within %s s "
				    "(did ciq-populate run?)", s->build, ciq_conf_get(conf, CIQ_K_INIT_TIMEOUT));
			ciq_sleep_ms(ciq_backoff_next(&wait));
			break;
		case CIQ_POP_STOPPED:
			warnx("the build stopped: %s tests failed (--max-failures %s)",
			    ciq_reply_str(r, 1), ciq_reply_str(r, 2));
			exhausted = 1;
			break;
		case CIQ_POP_SICK:
			warnx("worker '%s' stops: %s tests failed in a row on it (--max-consecutive-failures %s); "
			    "other workers take the rest", s->worker, ciq_reply_str(r, 1), max_streak);
			exhausted = 1;
			break;
		case CIQ_POP_TIMEUP:
			warnx("worker '%s' stops: its --max-duration of %s s since its first pop is over; "
			    "other workers take the rest", s->worker, ciq_conf_get(conf, CIQ_K_MAX_DURATION));
			exhausted = 1;
			break;
		case CIQ_POP_DONE:
			exhausted = 1;
			break;
		case CIQ_POP_UNKNOWN:
			errx(CIQ_EX_SOFTWARE, "unexpected reply from the server: '%.15s'", ciq_reply_str(r, 0));
		}
		if (got != NULL)
			freeReplyObject(got);
	}
	return nids;
}

/* The worker loop that runs this tool, as it was when the tool began
 * (ciq_take_begin); pid 0 when it could not be found. */
static struct ciq_proc loop;

void
ciq_take_begin(void)
{
	pid_t pid = ciq_proc_loop();

	if (pid <= 0)
		pid = getppid();
	if (ciq_proc_init(&loop, pid) == -1)
		loop.pid = 0;
}

/* Start the loop's heartbeat, or tell it ids[0..n); then free them. */
static void
beat(struct ciq_conf *conf, int n, char **ids)
{
	char msg[CIQ_ERRLEN];
	int rc;

	if (ciq_conf_ms(conf, CIQ_K_HEARTBEAT) > 0 && loop.pid > 0 &&
	    (rc = ciq_heartbeat_start(conf, &loop, n, (const char **)ids, msg)) != 0)
		warnx("cannot %s the heartbeat: the tests may be reclaimed after --timeout: %s",
		    rc == CIQ_HEARTBEAT_UNTOLD ? "tell" : "start", msg);
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int
ciq_take(const struct ciq_tool *t, struct ciq_session *s, long long n, int longfmt,
    const redisReply *first)
{
	char **ids;
	int nids = reserve(s, n, longfmt, first, &ids);

	ciq_session_close(s);
	if (nids == 0)
		return CIQ_EX_NO;
	ciq_tool_close_stdout(t);
	beat(s->conf, nids, ids);
	return CIQ_EX_OK;
}

int
ciq_take_keep(const struct ciq_tool *t, struct ciq_session *s, const redisReply *first)
{
	char **ids;
	int nids = reserve(s, 1, 1, first, &ids);

	if (nids == 0)
		return CIQ_EX_NO;
	if (fflush(stdout) == EOF)
		err(CIQ_EX_SOFTWARE, "cannot write %s", t->output);
	beat(s->conf, nids, ids);
	return CIQ_EX_OK;
}
