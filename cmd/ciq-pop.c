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
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "alloc.h"
#include "cli.h"
#include "exit.h"
#include "heartbeat.h"
#include "session.h"
#include "tool.h"
#include "transport.h"

static const struct ciq_tool tool = {
	"ciq-pop",
	"usage: ciq-pop [-n count] [--queue URL] [--build ID] [--worker ID]\n"
	    "               [--timeout SECONDS] [--init-timeout SECONDS] [options]\n",
	NULL
};

/*
 * Wait for a token on the wake list, at most ms (0: a short while), and
 * within the command timeout. A server that cannot block (before Redis
 * 6, a broken connection) is asked again after a backoff instead; the
 * next call reconnects if need be.
 */
static void
await_wake(struct ciq_session *s, long long ms, struct ciq_backoff *backoff)
{
	char secs[32], *key;
	long long cap = s->conn.command_ms - 1000;
	const char *argv[3];
	redisReply *r;

	if (ms <= 0) {
		ciq_sleep_ms(ciq_backoff_next(backoff));
		return;
	}
	if (cap < 100)
		cap = 100;
	if (ms > cap)
		ms = cap;
	key = ciq_key(&s->keys, "wake");
	snprintf(secs, sizeof secs, "%lld.%03lld", ms / 1000, ms % 1000);
	argv[0] = "BLPOP";
	argv[1] = key;
	argv[2] = secs;
	r = ciq_conn_command(&s->conn, CIQ_ONCE, 3, argv, NULL);
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		ciq_sleep_ms(ciq_backoff_next(backoff));
	if (r != NULL)
		freeReplyObject(r);
	free(key);
}

/*
 * Tell the loop's heartbeat about the ids, and start it if none runs: in
 * its own session, with /dev/null for every descriptor but the log it
 * holds locked (a descriptor held open would keep $(...) or a test
 * harness waiting). It outlives ciq-pop, whose exit hands it to init,
 * and connects only when its first beat is due, so a short test costs
 * the server nothing more.
 */
static void
heartbeat(struct ciq_conf *conf, pid_t loop_pid, int n, const char **ids)
{
	struct ciq_watch loop;
	char msg[CIQ_ERRLEN];
	long long beat;
	pid_t pid;
	int lock, fd;

	switch (ciq_heartbeat_hold(conf, loop_pid, n, ids, &lock, msg)) {
	case 1:
		return;
	case -1:
		warnx("cannot tell the heartbeat: the tests may be reclaimed after --timeout: %s", msg);
		return;
	}
	/* The loop is waiting on us: it lives, and its start time is read. */
	if (ciq_watch_init(&loop, loop_pid) == -1 || (pid = fork()) == -1) {
		warn("cannot start the heartbeat: the tests may be reclaimed after --timeout");
		close(lock);
		return;
	}
	if (pid > 0) {
		close(lock);
		return;
	}
	setsid();
	if (dup2(lock, 3) == -1)
		_exit(1);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	/* One call where the kernel has it (Linux 5.9), not a thousand. */
	if (close_range(4, ~0u, 0) == -1)
		for (int i = 4; i < 1024; i++)
			close(i);
	/* Three beats fit in a timeout, so one late beat loses nothing. */
	beat = ciq_conf_ms(conf, CIQ_K_HEARTBEAT);
	if (beat > ciq_conf_ms(conf, CIQ_K_TIMEOUT) / 3)
		beat = ciq_conf_ms(conf, CIQ_K_TIMEOUT) / 3;
	ciq_heartbeat_run(conf, &loop, beat > 10 ? beat : 10, 3);
	/* No exit handlers: they belong to the process that forked. */
	_exit(0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", 1, NULL, 'n' },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	struct ciq_backoff wait;
	char msg[CIQ_ERRLEN], timeout[32], count[16], **ids = NULL;
	pid_t loop = 0;
	int nids = 0, waited = 0, beats;
	long long deadline;
	long n = 1;
	int c, rc;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "hn:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;

			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > 100000) {
				warnx("invalid count '%s': expected 1 to 100000", optarg);
				ciq_tool_usage(&tool, CIQ_EX_USAGE);
			}
			break;
		}
		default:
			ciq_tool_option(&tool, &conf, c, optarg);
		}
	}
	ciq_tool_handover(&tool, &conf);
	if (optind != argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		ciq_tool_usage(&tool, CIQ_EX_USAGE);
	}
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);

	beats = ciq_conf_ms(&conf, CIQ_K_HEARTBEAT) > 0;
	snprintf(timeout, sizeof timeout, "%lld", ciq_conf_ms(&conf, CIQ_K_TIMEOUT));
	snprintf(count, sizeof count, "%ld", n);
	ciq_backoff_init(&wait, 50, 1500);
	deadline = ciq_now_ms() + ciq_conf_ms(&conf, CIQ_K_INIT_TIMEOUT);
	for (;;) {
		const char *args[4] = { timeout, count,
		    ciq_conf_get(&conf, CIQ_K_MAX_CONSECUTIVE_FAILURES), waited ? "1" : "0" };
		redisReply *r = ciq_session_run(&s, CIQ_S_POP, 4, args, NULL, &rc, msg);
		long long wait_ms = 0;
		char status[16];

		if (r == NULL)
			errx(rc, "%s", msg);
		snprintf(status, sizeof status, "%s", ciq_reply_str(r, 0));
		if (strcmp(status, "wait") == 0)
			wait_ms = strtoll(ciq_reply_str(r, 1), NULL, 10);
		if (strcmp(status, "stopped") == 0)
			warnx("the build stopped: %s tests failed (--max-failures %s)",
			    ciq_reply_str(r, 1), ciq_reply_str(r, 2));
		if (strcmp(status, "sick") == 0)
			warnx("worker '%s' stops: %s tests failed in a row on it (--max-consecutive-failures %s); "
			    "other workers take the rest", s.worker, ciq_reply_str(r, 1),
			    ciq_conf_get(&conf, CIQ_K_MAX_CONSECUTIVE_FAILURES));
		if (strcmp(status, "ok") == 0) {
			ids = ciq_calloc(r->elements / 2 + 1, sizeof *ids);
			for (size_t i = 1; i + 1 < r->elements; i += 2) {
				const redisReply *id = r->element[i];

				ids[nids++] = ciq_strdup(id->str);
				fwrite(id->str, 1, id->len, stdout);
				putchar('\n');
				if (r->element[i + 1]->len > 0)
					warnx("reclaimed '%s' from worker %s, silent for over %s s",
					    id->str, r->element[i + 1]->str, ciq_conf_get(&conf, CIQ_K_TIMEOUT));
			}
			freeReplyObject(r);
			break;
		}
		freeReplyObject(r);
		if (strcmp(status, "done") == 0 || strcmp(status, "stopped") == 0 ||
		    strcmp(status, "sick") == 0) {
			ciq_session_close(&s);
			ciq_conf_free(&conf);
			return CIQ_EX_NO;
		}
		if (strcmp(status, "notready") == 0 && ciq_now_ms() >= deadline)
			errx(CIQ_EX_TEMPFAIL, "build '%s' was not published within %s s "
			    "(did ciq-populate run?)", s.build, ciq_conf_get(&conf, CIQ_K_INIT_TIMEOUT));
		if (strcmp(status, "wait") == 0) {
			waited = 1;
			await_wake(&s, wait_ms, &wait);
			continue;
		}
		if (strcmp(status, "notready") != 0)
			errx(CIQ_EX_SOFTWARE, "unexpected reply from the server: '%s'", status);
		ciq_sleep_ms(ciq_backoff_next(&wait));
	}
	ciq_session_close(&s);
	/* The loop is found by our standard output, so before it is closed;
	 * without /proc, the parent is taken for it. */
	if (beats && (loop = ciq_watch_loop()) <= 0)
		loop = getppid();
	if (ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write the test ids");
	if (beats)
		heartbeat(&conf, loop, nids, (const char **)ids);
	for (int i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	ciq_conf_free(&conf);
	return CIQ_EX_OK;
}
