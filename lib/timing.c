/*
 * timing.c - the namespace's duration history: merge and order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "exit.h"
#include "timing.h"

#define BATCH 1000

/* The history, ciq:timing:{NS}; with suffix ":seen", its lists' hash. */
static char *
history_key(const struct ciq_session *s, const char *suffix)
{
	const char *ns = ciq_conf_get(s->conf, CIQ_K_NAMESPACE);
	char *key = ciq_malloc(strlen(ns) + strlen(suffix) + 16);

	sprintf(key, "ciq:timing:{%s}%s", ns, suffix);
	return key;
}

static char *
timing_key(const struct ciq_session *s)
{
	return history_key(s, "");
}

/* A failed call as an exit status: the connection, or the server's word. */
static int
failed(struct ciq_session *s, redisReply *r, char err[CIQ_ERRLEN])
{
	int rc = CIQ_EX_SOFTWARE;

	if (r == NULL)
		return ciq_session_fail(s, err);
	if (r->type == REDIS_REPLY_ERROR)
		rc = ciq_session_refused(s, r, "the timing history", err);
	else
		snprintf(err, CIQ_ERRLEN, "the server refused the timing history: unexpected reply");
	freeReplyObject(r);
	return rc;
}

/* Run the history script sc, which answers an integer (into *out, when
 * not NULL). Returns CIQ_EX_OK or the failure's status. */
static int
run_int(struct ciq_session *s, enum ciq_script sc, int nkeys, const char **keys, int argc,
    const char **argv, const size_t *lens, long long *out, char err[CIQ_ERRLEN])
{
	redisReply *r = ciq_script_run_keys(&s->conn, sc, nkeys, keys, argc, argv, lens);

	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		return failed(s, r, err);
	if (out != NULL)
		*out = r->integer;
	freeReplyObject(r);
	return CIQ_EX_OK;
}

/* Fold n (id, ms) pairs into the history: one script, one step
 * (lua/timing.lua), so concurrent merges lose no update. */
int
ciq_timing_fold(struct ciq_session *s, size_t n, const char **ids, const long long *ms,
    char err[CIQ_ERRLEN])
{
	char *key = timing_key(s);
	const char *keys[1] = { key };
	const char **argv = ciq_calloc(2 * n + 1, sizeof *argv);
	char (*vals)[24] = ciq_calloc(n + 1, sizeof *vals);
	int rc;

	for (size_t i = 0; i < n; i++) {
		snprintf(vals[i], sizeof vals[i], "%lld", ms[i]);
		argv[2 * i] = ids[i];
		argv[2 * i + 1] = vals[i];
	}
	rc = run_int(s, CIQ_S_TIMING, 1, keys, 2 * (int)n, argv, NULL, NULL, err);
	free(key);
	free(argv);
	free(vals);
	return rc;
}

/* Whether to take one field of a hash (and its duration into *ms). */
typedef int pick_fn(const redisReply *field, const redisReply *value, long long arg, long long *ms);
/* What to do with n fields taken, at most BATCH. */
typedef int act_fn(struct ciq_session *s, size_t n, const char **ids, const long long *ms,
    char err[CIQ_ERRLEN]);

/* Walk hash key with HSCAN, a page at a time: act on the fields that
 * pick(field, value, arg) takes, BATCH at a time. A page has no bound:
 * COUNT is a hint, and a hash the server keeps compact (a listpack, up
 * to hash-max-listpack-entries fields) comes whole in one page. Returns
 * CIQ_EX_OK or act's failure. */
static int
walk(struct ciq_session *s, const char *key, pick_fn *pick, long long arg, act_fn *act,
    char err[CIQ_ERRLEN])
{
	char cursor[32] = "0";
	int rc = CIQ_EX_OK;

	do {
		redisReply *r = ciq_conn_commandv(&s->conn, CIQ_REPEAT, "HSCAN", key, cursor, "COUNT",
		    "1000", NULL);
		const redisReply *page;
		const char **ids;
		long long *ms;
		size_t n = 0;

		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			rc = failed(s, r, err);
			break;
		}
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		page = r->element[1];
		ids = ciq_calloc(page->elements / 2 + 1, sizeof *ids);
		ms = ciq_calloc(page->elements / 2 + 1, sizeof *ms);
		for (size_t i = 0; i + 1 < page->elements; i += 2) {
			const redisReply *k = page->element[i];

			if (pick(k, page->element[i + 1], arg, &ms[n]))
				ids[n++] = k->str;
		}
		for (size_t i = 0; i < n && rc == CIQ_EX_OK; i += BATCH)
			rc = act(s, n - i < BATCH ? n - i : BATCH, ids + i, ms + i, err);
		free(ids);
		free(ms);
		freeReplyObject(r);
	} while (rc == CIQ_EX_OK && strcmp(cursor, "0") != 0);
	return rc;
}

/* A result with a duration, "CODE MS WORKER": a stale ack has none; the
 * marker (lua/prelude.lua) is empty. A grind's runs ("ID\nK") teach
 * nothing: a grind is no build of the suite. */
static int
timed_result(const redisReply *field, const redisReply *value, long long arg, long long *ms)
{
	const char *rec = value->str;

	(void)arg;
	if (value->len > 2 && rec[1] == ' ' && rec[2] >= '0' && rec[2] <= '9' &&
	    strchr(field->str, '\n') == NULL) {
		*ms = strtoll(rec + 2, NULL, 10);
		return 1;
	}
	return 0;
}

int
ciq_timing_merge(struct ciq_session *s, char err[CIQ_ERRLEN])
{
	char *meta = ciq_key(&s->keys, "meta"), *results = ciq_key(&s->keys, "results");
	char *key = timing_key(s);
	redisReply *r;
	int rc = CIQ_EX_OK;

	r = ciq_conn_commandv(&s->conn, CIQ_REPEAT, "HSETNX", meta, "timing_merged", "1", NULL);
	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		rc = failed(s, r, err);
		goto out;
	}
	if (r->integer == 0) {
		freeReplyObject(r);
		goto out;
	}
	freeReplyObject(r);
	rc = walk(s, results, timed_result, 0, ciq_timing_fold, err);
	if (rc == CIQ_EX_OK) {
		r = ciq_conn_commandv(&s->conn, CIQ_REPEAT, "EXPIRE", key,
		    ciq_conf_get(s->conf, CIQ_K_TIMING_TTL), NULL);
		if (r != NULL)
			freeReplyObject(r);
		rc = ciq_timing_prune(s, err);
	}
out:
	free(meta);
	free(results);
	free(key);
	return rc;
}

struct timed {
	struct ciq_id id;
	long long ms;
};

static int
longest_first(const void *a, const void *b)
{
	const struct timed *x = a, *y = b;
	int c;

	if (x->ms != y->ms)
		return x->ms > y->ms ? -1 : 1;
	c = memcmp(x->id.s, y->id.s, x->id.len < y->id.len ? x->id.len : y->id.len);
	return c != 0 ? c : (x->id.len > y->id.len) - (x->id.len < y->id.len);
}

int
ciq_timing_durations(struct ciq_session *s, const struct ciq_idlist *l, long long *ms,
    char err[CIQ_ERRLEN])
{
	char *key = timing_key(s);
	const char **argv = ciq_calloc(BATCH + 2, sizeof *argv);
	size_t *lens = ciq_calloc(BATCH + 2, sizeof *lens);
	int rc = CIQ_EX_OK;

	argv[0] = "HMGET";
	argv[1] = key;
	lens[0] = 5;
	lens[1] = strlen(key);
	for (size_t i = 0; i < l->n && rc == CIQ_EX_OK; i += BATCH) {
		size_t n = l->n - i < BATCH ? l->n - i : BATCH;
		redisReply *r;

		for (size_t j = 0; j < n; j++) {
			argv[2 + j] = l->ids[i + j].s;
			lens[2 + j] = l->ids[i + j].len;
		}
		r = ciq_conn_command(&s->conn, CIQ_REPEAT, (int)n + 2, argv, lens);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != n) {
			rc = failed(s, r, err);
			break;
		}
		for (size_t j = 0; j < n; j++)
			ms[i + j] = r->element[j]->type == REDIS_REPLY_STRING ?
			    strtoll(r->element[j]->str, NULL, 10) : -1;
		freeReplyObject(r);
	}
	free(key);
	free(argv);
	free(lens);
	return rc;
}

int
ciq_timing_order(struct ciq_session *s, struct ciq_idlist *l, const char *seed,
    char err[CIQ_ERRLEN])
{
	long long *ms = ciq_calloc(l->n + 1, sizeof *ms);
	struct timed *known = ciq_calloc(l->n + 1, sizeof *known);
	size_t nknown = 0, nnew = 0;
	int rc;

	/* The seeded shuffle first: the ids without history keep its order. */
	ciq_idlist_shuffle(l, seed);
	if ((rc = ciq_timing_durations(s, l, ms, err)) == CIQ_EX_OK) {
		for (size_t i = 0; i < l->n; i++) {
			if (ms[i] >= 0) {
				known[nknown].id = l->ids[i];
				known[nknown++].ms = ms[i];
			} else {
				/* Compact the new ones in place, keeping their order. */
				l->ids[nnew++] = l->ids[i];
			}
		}
		if (nknown > 1)
			qsort(known, nknown, sizeof *known, longest_first);
		for (size_t i = 0; i < nknown; i++)
			l->ids[nnew + i] = known[i].id;
	}
	free(ms);
	free(known);
	return rc;
}

int
ciq_timing_seen(struct ciq_session *s, const struct ciq_idlist *l, long long *gen,
    char err[CIQ_ERRLEN])
{
	char *key = history_key(s, ":seen"), num[32];
	const char *keys[1] = { key };
	const char **argv = ciq_calloc(BATCH + 2, sizeof *argv);
	size_t *lens = ciq_calloc(BATCH + 2, sizeof *lens);
	int rc = CIQ_EX_OK;

	for (size_t i = 0; i < l->n && rc == CIQ_EX_OK; i += BATCH) {
		size_t n = l->n - i < BATCH ? l->n - i : BATCH;

		*num = '\0';
		if (*gen > 0)
			snprintf(num, sizeof num, "%lld", *gen);
		argv[0] = num;
		argv[1] = ciq_conf_get(s->conf, CIQ_K_TIMING_TTL);
		lens[0] = strlen(argv[0]);
		lens[1] = strlen(argv[1]);
		for (size_t j = 0; j < n; j++) {
			argv[2 + j] = l->ids[i + j].s;
			lens[2 + j] = l->ids[i + j].len;
		}
		rc = run_int(s, CIQ_S_SEEN, 1, keys, (int)n + 2, argv, lens, gen, err);
	}
	free(key);
	free(argv);
	free(lens);
	return rc;
}

/* A list's id (not the counter) last held by list arg or before. */
static int
stale(const redisReply *field, const redisReply *value, long long arg, long long *ms)
{
	(void)ms;
	return field->len > 0 && strtoll(value->str, NULL, 10) <= arg;
}

/* Drop n ids (C strings) that no recent list held: prune.lua. */
static int
prune_batch(struct ciq_session *s, size_t n, const char **ids, const long long *ms,
    char err[CIQ_ERRLEN])
{
	char *history = history_key(s, ""), *seen = history_key(s, ":seen");
	const char *keys[2] = { history, seen };
	const char **argv = ciq_calloc(n + 1, sizeof *argv);
	char keep[16];
	int rc;

	snprintf(keep, sizeof keep, "%d", CIQ_TIMING_KEEP);
	argv[0] = keep;
	memcpy(argv + 1, ids, n * sizeof *ids);
	(void)ms;
	rc = run_int(s, CIQ_S_PRUNE, 2, keys, (int)n + 1, argv, NULL, NULL, err);
	free(history);
	free(seen);
	free(argv);
	return rc;
}

int
ciq_timing_prune(struct ciq_session *s, char err[CIQ_ERRLEN])
{
	char *seen = history_key(s, ":seen");
	redisReply *r = ciq_conn_commandv(&s->conn, CIQ_REPEAT, "HGET", seen, "", NULL);
	long long last = 0;
	int rc = CIQ_EX_OK;

	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		rc = failed(s, r, err);
	} else {
		if (r->type == REDIS_REPLY_STRING)
			last = strtoll(r->str, NULL, 10);
		freeReplyObject(r);
		if (last > CIQ_TIMING_KEEP)
			rc = walk(s, seen, stale, last - CIQ_TIMING_KEEP, prune_batch, err);
	}
	free(seen);
	return rc;
}
