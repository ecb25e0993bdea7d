/*
 * publish.c - the leader's publish, a follower's join, a retried job's
 * list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "backoff.h"
#include "clock.h"
#include "exit.h"
#include "publish.h"
#include "timing.h"

/* Ids per RPUSH, and RPUSHes in flight before their replies are read. */
#define BATCH_IDS    1000
#define BATCH_BYTES  (1 << 20)
#define WINDOW       16

/* Room for a batch of runs: BATCH_BYTES of ids, the one that crosses
 * it, and a "\nK" suffix for each. */
#define RUNS_BYTES   (BATCH_BYTES + CIQ_ID_MAX + BATCH_IDS * 24)

/*
 * Entry i of the queue as pushed: the id, or in a grind of repeat runs
 * the run "ID\nK" (lua/prelude.lua), rounds one after another so that
 * the runs of one id are spread over the build. A run is written at
 * *buf, which then moves past it.
 */
static const char *
entry(const struct ciq_idlist *l, long long repeat, size_t i, char **buf, size_t *len)
{
	const struct ciq_id *id = &l->ids[i % l->n];
	char *run = *buf;

	if (repeat == 1) {
		*len = id->len;
		return id->s;
	}
	memcpy(run, id->s, id->len);
	*len = id->len + (size_t)sprintf(run + id->len, "\n%zu", i / l->n + 1);
	*buf += *len;
	return run;
}

/*
 * Push every entry to the (hidden) queue. Returns 0; -1 when the
 * connection broke: the caller reconnects and pushes again from scratch,
 * which is safe because nobody reads the queue before publish; -2 when
 * the server refused the ids (err filled).
 */
static int
push(struct ciq_session *s, const struct ciq_idlist *l, long long repeat, char err[CIQ_ERRLEN])
{
	char *queue = ciq_key(&s->keys, "queue");
	const char **argv = ciq_calloc(BATCH_IDS + 2, sizeof *argv);
	size_t *lens = ciq_calloc(BATCH_IDS + 2, sizeof *lens);
	char *runs = repeat > 1 ? ciq_malloc(RUNS_BYTES) : NULL, *next;
	size_t i = 0, inflight = 0, n = l->n * (size_t)repeat;
	int ret = -1;
	redisReply *r;


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
	while (i < n || inflight > 0) {
		if (i < n && inflight < WINDOW) {
			int argc = 2;
			size_t bytes = 0;

			/* hiredis copies the arguments as it formats the command:
			 * every batch may reuse the room for runs. */
			next = runs;
			while (i < n && argc < BATCH_IDS + 2 && bytes < BATCH_BYTES) {
				argv[argc] = entry(l, repeat, i++, &next, &lens[argc]);
				bytes += lens[argc++];
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
			snprintf(err, CIQ_ERRLEN, "the server refused the ids of build '%s': %s: "
			    "nothing was published", s->build, r->str);
			freeReplyObject(r);
			ret = -2;
			goto out;
		}
		freeReplyObject(r);
	}
	ret = 0;
out:
	free(runs);
	free(queue);
	free(argv);
	free(lens);
	return ret;
}

int
ciq_publish_order(struct ciq_session *s, struct ciq_idlist *l, char err[CIQ_ERRLEN])
{
	const char *seed = ciq_conf_get(s->conf, CIQ_K_SEED);
	const char *order = ciq_conf_get(s->conf, CIQ_K_ORDER);

	if (strcmp(order, "random") == 0)
		ciq_idlist_shuffle(l, seed);
	else if (strcmp(order, "timing") == 0)
		return ciq_timing_order(s, l, seed, err);
	return CIQ_EX_OK;
}

/* Push the list, then run publish.lua with args: again from scratch after
 * a broken connection, within the reconnect budget. */
static int
publish(struct ciq_session *s, struct ciq_idlist *l, long long repeat, int argc,
    const char **args, const size_t *lens, char err[CIQ_ERRLEN])
{
	long long deadline = ciq_now_ms() + s->conn.reconnect_ms;
	int rc;

	for (;;) {
		redisReply *r;
		const char *status;

		if (ciq_conn_ensure(&s->conn) == -1 || (rc = push(s, l, repeat, err)) == -1) {
			if (s->conn.err != CIQ_CONN_UNREACHABLE || ciq_now_ms() >= deadline)
				return ciq_session_fail(s, err);
			continue;
		}
		if (rc == -2)
			return CIQ_EX_SOFTWARE;
		if ((r = ciq_session_run(s, CIQ_S_PUBLISH, argc, args, lens, &rc, err)) == NULL)
			return rc;
		status = ciq_reply_str(r, 0);
		rc = CIQ_EX_OK;
		if (strcmp(status, "notleader") == 0) {
			snprintf(err, CIQ_ERRLEN, "lost the leadership of build '%s' to worker '%s' "
			    "while publishing (did the leader key expire?)", s->build, ciq_reply_str(r, 1));
			rc = CIQ_EX_SOFTWARE;
		} else if (strcmp(status, "ready") != 0) {
			snprintf(err, CIQ_ERRLEN, "the queue holds %s ids after publishing %s",
			    ciq_reply_str(r, 1), args[0]);
			rc = CIQ_EX_SOFTWARE;
		}
		freeReplyObject(r);
		return rc;
	}
}

int
ciq_publish(struct ciq_session *s, struct ciq_idlist *l, long long repeat,
    const struct ciq_split *split, const char *digest, char err[CIQ_ERRLEN])
{
	const char *seed = ciq_conf_get(s->conf, CIQ_K_SEED);
	const char *order = ciq_conf_get(s->conf, CIQ_K_ORDER);
	char total[32], rep[32], (*parts)[24];
	const char **args;
	size_t *lens, nunits;
	int rc;

	if ((rc = ciq_publish_order(s, l, err)) != CIQ_EX_OK)
		return rc;
	snprintf(total, sizeof total, "%llu", (unsigned long long)l->n * (unsigned long long)repeat);
	snprintf(rep, sizeof rep, "%lld", repeat);
	/* The units split, as "unit parts" pairs after the fixed arguments. */
	nunits = split != NULL ? split->nunits : 0;
	args = ciq_calloc(7 + 2 * nunits, sizeof *args);
	lens = ciq_calloc(7 + 2 * nunits, sizeof *lens);
	parts = ciq_calloc(nunits + 1, sizeof *parts);
	args[0] = total, args[1] = digest, args[2] = seed, args[3] = order;
	args[4] = ciq_conf_get(s->conf, CIQ_K_TTL);
	args[5] = ciq_conf_get(s->conf, CIQ_K_MAX_FAILURES);
	args[6] = rep;
	for (int i = 0; i < 7; i++)
		lens[i] = strlen(args[i]);
	for (size_t i = 0; i < nunits; i++) {
		snprintf(parts[i], sizeof parts[i], "%zu", split->units[i].parts);
		args[7 + 2 * i] = split->units[i].id.s;
		lens[7 + 2 * i] = split->units[i].id.len;
		args[8 + 2 * i] = parts[i];
		lens[8 + 2 * i] = strlen(parts[i]);
	}
	rc = publish(s, l, repeat, (int)(7 + 2 * nunits), args, lens, err);
	free(args);
	free(lens);
	free(parts);
	return rc;
}


int
ciq_join(struct ciq_session *s, const char *leader, const struct ciq_idlist *l,
    const char *digest, int may_differ, redisReply **reply, char err[CIQ_ERRLEN])
{
	char ids[32];
	const char *args[3] = { digest, ids, may_differ ? "0" : "1" };
	long long deadline = ciq_now_ms() + ciq_conf_ms(s->conf, CIQ_K_INIT_TIMEOUT);
	struct ciq_backoff wait;
	int rc;

	snprintf(ids, sizeof ids, "%zu", l != NULL ? l->n : 0);
	ciq_backoff_init(&wait, 50, 1000);
	for (;;) {
		redisReply *r = ciq_session_run(s, CIQ_S_JOIN, digest != NULL ? 3 : 0, args, NULL,
		    &rc, err);

		if (r == NULL)
			return rc;
		if (strcmp(ciq_reply_str(r, 0), "ready") == 0) {
			*reply = r;
			return CIQ_EX_OK;
		}
		freeReplyObject(r);
		if (ciq_now_ms() >= deadline && leader != NULL) {
			snprintf(err, CIQ_ERRLEN, "the leader (worker '%s') did not publish build '%s' "
			    "within %s s", leader, s->build, ciq_conf_get(s->conf, CIQ_K_INIT_TIMEOUT));
			return CIQ_EX_TEMPFAIL;
		} else if (ciq_now_ms() >= deadline) {
			snprintf(err, CIQ_ERRLEN, "build '%s' was not published within %s s (did its "
			    "leader run ciq-populate with the list?)", s->build,
			    ciq_conf_get(s->conf, CIQ_K_INIT_TIMEOUT));
			return CIQ_EX_TEMPFAIL;
		}
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

int
ciq_eviction_risk(struct ciq_session *s, char warning[CIQ_ERRLEN])
{
	char maxmemory[32], policy[64];

	config_get(s, "maxmemory", maxmemory, sizeof maxmemory);
	config_get(s, "maxmemory-policy", policy, sizeof policy);
	if (*maxmemory == '\0' || strcmp(maxmemory, "0") == 0 || *policy == '\0' ||
	    strcmp(policy, "noeviction") == 0)
		return 0;
	snprintf(warning, CIQ_ERRLEN, "the server may evict this build's keys when it runs out of "
	    "memory (maxmemory %s, maxmemory-policy %s): set maxmemory-policy noeviction, or the "
	    "report will say the build vanished", maxmemory, policy);
	return 1;
}

int
ciq_retry_list(struct ciq_session *s, long long *n, char err[CIQ_ERRLEN])
{
	redisReply *r;
	int rc;

	for (;;) {
		if ((r = ciq_session_run(s, CIQ_S_RETRY, 0, NULL, NULL, &rc, err)) == NULL) {
			if (rc == CIQ_EX_VANISHED)
				snprintf(err, CIQ_ERRLEN, "build '%s' cannot be retried: its keys are gone "
				    "(it is older than its --ttl, or it never ran)", s->build);
			return rc;
		}
		if (strcmp(ciq_reply_str(r, 0), "retry") == 0) {
			*n = strtoll(ciq_reply_str(r, 1), NULL, 10);
			freeReplyObject(r);
			return CIQ_EX_OK;
		}
		if (strcmp(ciq_reply_str(r, 0), "live") == 0) {
			*n = -1;
			freeReplyObject(r);
			return CIQ_EX_OK;
		}
		freeReplyObject(r);
		/* Not published yet: wait for it like any follower, then look again. */
		if ((rc = ciq_join(s, NULL, NULL, NULL, 0, &r, err)) != CIQ_EX_OK)
			return rc;
		freeReplyObject(r);
	}
}
