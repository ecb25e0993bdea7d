/*
 * ciq-populate - put the build's test ids in the queue, once.
 *
 * Every worker runs it with the same list. Each reads and validates the
 * whole list first, so a bad list never wins the election. The winner
 * orders the ids (seeded shuffle, or as given), pushes them in pipelined
 * batches and marks the queue ready with its total and a digest of the
 * set; nothing is visible to workers before that. The others wait for
 * ready; one whose list differs from the leader's says so, records it
 * on the server (the report is then not green) and exits 65, unless
 * --allow-mismatch says the lists may differ. Running it again is
 * harmless: a published build is only joined.
 *
 * In retry mode (a retried CI job, or --retry true) on a build whose
 * queue is drained, this worker is given the tests that failed in its
 * earlier attempt instead (every failure when it ran nothing before);
 * a build whose keys are gone cannot be retried.
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
#include "exit.h"
#include "idlist.h"
#include "session.h"
#include "tool.h"
#include "timing.h"
#include "transport.h"

/* Ids per RPUSH, and RPUSHes in flight before their replies are read. */
#define BATCH_IDS    1000
#define BATCH_BYTES  (1 << 20)
#define WINDOW       16
#define MAX_WARNINGS 10

/* Options without a short form; below CIQ_OPT_BASE. */
enum { OPT_ALLOW_MISMATCH = 0x80 };

static const struct ciq_tool tool = {
	"ciq-populate",
	"usage: ciq-populate [--queue URL] [--build ID] [--worker ID] [--seed SEED]\n"
	    "                    [--order random|timing|given] [--init-timeout SECONDS] [--ttl SECONDS]\n"
	    "                    [--allow-mismatch] [options] [FILE...]\n",
	NULL
};

static void
read_inputs(struct ciq_idlist *l, int argc, char **argv)
{
	char msg[CIQ_ERRLEN];

	if (argc == 0 && ciq_idlist_read(l, 0, "<stdin>", msg) == -1)
		errx(CIQ_EX_DATAERR, "%s: nothing was published", msg);
	for (int i = 0; i < argc; i++) {
		int stdin_ = strcmp(argv[i], "-") == 0;
		int fd = stdin_ ? 0 : open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd == -1)
			err(CIQ_EX_DATAERR, "cannot open '%s'", argv[i]);
		if (ciq_idlist_read(l, fd, stdin_ ? "<stdin>" : argv[i], msg) == -1)
			errx(CIQ_EX_DATAERR, "%s: nothing was published", msg);
		if (!stdin_)
			close(fd);
	}
	for (size_t i = 0; i < l->ndups && i < MAX_WARNINGS; i++)
		warnx("%s:%zu: duplicate id '%s' dropped", l->dups[i].file, l->dups[i].line,
		    l->dups[i].id.s);
	if (l->ndups > MAX_WARNINGS)
		warnx("%zu more duplicate ids dropped", l->ndups - MAX_WARNINGS);
	if (l->n == 0)
		errx(CIQ_EX_DATAERR, "no test ids in the input: nothing was published");
}

/*
 * Push every id to the (hidden) queue. Returns 0, or -1 when the
 * connection broke: the caller reconnects and pushes again from scratch,
 * which is safe because nobody reads the queue before publish.
 */
static int
push(struct ciq_session *s, const struct ciq_idlist *l)
{
	char *queue = ciq_key(&s->keys, "queue");
	const char **argv = calloc(BATCH_IDS + 2, sizeof *argv);
	size_t *lens = calloc(BATCH_IDS + 2, sizeof *lens);
	size_t i = 0, inflight = 0;
	int ret = -1;
	redisReply *r;

	if (argv == NULL || lens == NULL)
		errx(CIQ_EX_SOFTWARE, "out of memory");
	/* Redis Cluster: pipeline on the node that serves the queue's slot.
	 * It costs one round trip (and a connect when the last command went
	 * to another slot's node). A MOVED or ASK among the replies (the slot
	 * moved meanwhile) fails the push like a broken stream (conn.h): the
	 * caller pushes again from scratch, after routing again. */
	if (ciq_conn_route(&s->conn, queue) == -1)
		goto out;
	argv[0] = "DEL";
	argv[1] = queue;
	lens[0] = 3;
	lens[1] = strlen(queue);
	ciq_conn_append(&s->conn, 2, argv, lens);
	inflight++;
	argv[0] = "RPUSH";
	lens[0] = 5;
	while (i < l->n || inflight > 0) {
		if (i < l->n && inflight < WINDOW) {
			int argc = 2;
			size_t bytes = 0;

			while (i < l->n && argc < BATCH_IDS + 2 && bytes < BATCH_BYTES) {
				argv[argc] = l->ids[i].s;
				lens[argc++] = l->ids[i].len;
				bytes += l->ids[i++].len;
			}
			ciq_conn_append(&s->conn, argc, argv, lens);
			/* Every key has a TTL from its creation on, even a queue
			 * whose leader dies half way through. */
			{
				const char *ex[3] = { "EXPIRE", queue, ciq_conf_get(s->conf, CIQ_K_TTL) };

				ciq_conn_append(&s->conn, 3, ex, NULL);
			}
			inflight += 2;
			continue;
		}
		if ((r = ciq_conn_reply(&s->conn)) == NULL)
			goto out;
		inflight--;
		if (r->type == REDIS_REPLY_ERROR) {
			char why[CIQ_ERRLEN];

			snprintf(why, sizeof why, "%s", r->str);
			freeReplyObject(r);
			free(queue);
			free(argv);
			free(lens);
			errx(CIQ_EX_SOFTWARE, "the server refused the ids of build '%s': %s: "
			    "nothing was published", s->build, why);
		}
		freeReplyObject(r);
	}
	ret = 0;
out:
	free(queue);
	free(argv);
	free(lens);
	return ret;
}

static void
publish(struct ciq_session *s, struct ciq_idlist *l, const char *digest)
{
	const char *seed = ciq_conf_get(s->conf, CIQ_K_SEED);
	const char *order = ciq_conf_get(s->conf, CIQ_K_ORDER);
	long long deadline = ciq_now_ms() + s->conn.reconnect_ms;
	char total[32], msg[CIQ_ERRLEN];
	int rc;

	if (strcmp(order, "random") == 0)
		ciq_idlist_shuffle(l, seed);
	else if (strcmp(order, "timing") == 0 && (rc = ciq_timing_order(s, l, seed, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	snprintf(total, sizeof total, "%zu", l->n);
	for (;;) {
		const char *args[6] = { total, digest, seed, order, ciq_conf_get(s->conf, CIQ_K_TTL),
		    ciq_conf_get(s->conf, CIQ_K_MAX_FAILURES) };
		redisReply *r;
		const char *status;

		if (ciq_conn_ensure(&s->conn) == -1 || push(s, l) == -1) {
			if (s->conn.err != CIQ_CONN_UNREACHABLE || ciq_now_ms() >= deadline)
				errx(ciq_session_fail(s, msg), "%s", msg);
			continue;
		}
		if ((r = ciq_session_run(s, CIQ_S_PUBLISH, 6, args, NULL, &rc, msg)) == NULL)
			errx(rc, "%s", msg);
		status = ciq_reply_str(r, 0);
		if (strcmp(status, "ready") == 0) {
			freeReplyObject(r);
			return;
		}
		if (strcmp(status, "notleader") == 0)
			errx(CIQ_EX_SOFTWARE, "lost the leadership of build '%s' to worker '%s' "
			    "while publishing (did the leader key expire?)", s->build, ciq_reply_str(r, 1));
		errx(CIQ_EX_SOFTWARE, "the queue holds %s ids after publishing %s", ciq_reply_str(r, 1), total);
	}
}

/*
 * Wait for the leader's publish; returns the JOIN reply. With a list
 * (digest not NULL), a digest other than the published one is recorded
 * on the server unless the lists may differ.
 */
static redisReply *
join(struct ciq_session *s, const char *leader, const struct ciq_idlist *l, const char *digest,
    int may_differ)
{
	char ids[32];
	const char *args[3] = { digest, ids, may_differ ? "0" : "1" };

	long long deadline = ciq_now_ms() + ciq_conf_ms(s->conf, CIQ_K_INIT_TIMEOUT);
	struct ciq_backoff wait;
	char msg[CIQ_ERRLEN];
	int rc;

	snprintf(ids, sizeof ids, "%zu", l != NULL ? l->n : 0);
	ciq_backoff_init(&wait, 50, 1000);
	for (;;) {
		redisReply *r = ciq_session_run(s, CIQ_S_JOIN, digest != NULL ? 3 : 0, args, NULL,
		    &rc, msg);

		if (r == NULL)
			errx(rc, "%s", msg);
		if (strcmp(ciq_reply_str(r, 0), "ready") == 0)
			return r;
		freeReplyObject(r);
		if (ciq_now_ms() >= deadline)
			errx(CIQ_EX_TEMPFAIL, "the leader (worker '%s') did not publish build '%s' within %s s",
			    leader, s->build, ciq_conf_get(s->conf, CIQ_K_INIT_TIMEOUT));
		ciq_sleep_ms(ciq_backoff_next(&wait));
	}
}

/* The value of a server setting, or "" when CONFIG is not allowed. */
static void
config_get(struct ciq_session *s, const char *name, char *out, size_t len)
{
	redisReply *r = ciq_conn_commandv(&s->conn, CIQ_REPEAT, "CONFIG", "GET", name, NULL);

	*out = '\0';
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_STRING)
		snprintf(out, len, "%s", r->element[1]->str);
	if (r != NULL)
		freeReplyObject(r);
}

/*
 * Every key of a build has a TTL, so any eviction policy but noeviction
 * may drop the queue when the server runs out of memory. Say so early;
 * hosted servers that refuse CONFIG are not second-guessed.
 */
static void
check_eviction(struct ciq_session *s)
{
	char maxmemory[32], policy[64];

	config_get(s, "maxmemory", maxmemory, sizeof maxmemory);
	config_get(s, "maxmemory-policy", policy, sizeof policy);
	if (*maxmemory != '\0' && strcmp(maxmemory, "0") != 0 && *policy != '\0' &&
	    strcmp(policy, "noeviction") != 0)
		warnx("warning: the server may evict this build's keys when it runs out of memory "
		    "(maxmemory %s, maxmemory-policy %s): set maxmemory-policy noeviction, or the "
		    "report will say the build vanished", maxmemory, policy);
}

/*
 * Retry mode: set up this worker's list of tests to run again. Returns 1
 * when it did, 0 when the build is still running (join it as usual).
 */
static int
retry(struct ciq_session *s)
{
	char msg[CIQ_ERRLEN];
	redisReply *r;
	int rc;

	for (;;) {
		if ((r = ciq_session_run(s, CIQ_S_RETRY, 0, NULL, NULL, &rc, msg)) == NULL) {
			if (rc == CIQ_EX_VANISHED)
				errx(rc, "build '%s' cannot be retried: its keys are gone (it is older "
				    "than its --ttl, or it never ran)", s->build);
			errx(rc, "%s", msg);
		}
		if (strcmp(ciq_reply_str(r, 0), "retry") == 0) {
			warnx("retry of build '%s': worker '%s' runs %s failed tests again",
			    s->build, s->worker, ciq_reply_str(r, 1));
			freeReplyObject(r);
			return 1;
		}
		if (strcmp(ciq_reply_str(r, 0), "live") == 0) {
			freeReplyObject(r);
			return 0;
		}
		freeReplyObject(r);
		/* Not published yet: wait for it like any follower, then look again. */
		freeReplyObject(join(s, "?", NULL, NULL, 0));
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "allow-mismatch", 0, NULL, OPT_ALLOW_MISMATCH },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	struct ciq_idlist list;
	char msg[CIQ_ERRLEN], digest[65];
	const char *ttl_args[1];
	redisReply *r;
	int c, rc, may_differ = 0, status = CIQ_EX_OK;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ALLOW_MISMATCH:
			may_differ = 1;
			break;
		default:
			ciq_tool_option(&tool, &conf, c, optarg);
		}
	}
	ciq_tool_handover(&tool, &conf);
	ciq_conf_resolve(&conf);
	if (ciq_conf_check(&conf, CIQ_NEED_WORKER, msg) == -1)
		errx(CIQ_EX_CONFIG, "%s", msg);

	/* Validate everything before talking to anyone. */
	ciq_idlist_init(&list);
	read_inputs(&list, argc - optind, argv + optind);
	ciq_idlist_digest(&list, digest);

	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if (strcmp(ciq_conf_get(&conf, CIQ_K_RETRY), "true") == 0 && retry(&s)) {
		ciq_session_close(&s);
		ciq_idlist_free(&list);
		ciq_conf_free(&conf);
		return CIQ_EX_OK;
	}
	ttl_args[0] = ciq_conf_get(&conf, CIQ_K_TTL);
	if ((r = ciq_session_run(&s, CIQ_S_ELECT, 1, ttl_args, NULL, &rc, msg)) == NULL)
		errx(rc, "%s", msg);
	if (strcmp(ciq_reply_str(r, 0), s.worker) == 0 && strcmp(ciq_reply_str(r, 1), "ready") != 0) {
		check_eviction(&s);
		publish(&s, &list, digest);
	} else {
		redisReply *j = join(&s, ciq_reply_str(r, 0), &list, digest, may_differ);

		if (strcmp(ciq_reply_str(j, 2), digest) != 0) {
			warnx("%sthis worker's list (%zu ids, digest %.12s) differs from the one worker "
			    "'%s' published (%s ids, digest %.12s): the queue holds the published one%s",
			    may_differ ? "warning: " : "", list.n, digest, ciq_reply_str(j, 3),
			    ciq_reply_str(j, 1), ciq_reply_str(j, 2), may_differ ? "" :
			    ", and the build's report will say so (--allow-mismatch when they differ on purpose)");
			status = may_differ ? CIQ_EX_OK : CIQ_EX_DATAERR;
		}
		freeReplyObject(j);
	}
	freeReplyObject(r);
	ciq_session_close(&s);
	ciq_idlist_free(&list);
	ciq_conf_free(&conf);
	return ciq_tool_exit(&tool, status);
}
