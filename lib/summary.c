/*
 * summary.c - gather a build's results for the report.
 *
 * Read-only, with plain commands that are safe to repeat. The build has
 * finished (or the report gave up waiting), so nothing here needs the
 * atomicity of a script.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "exit.h"
#include "summary.h"

struct reader {
	struct ciq_session *s;
	int rc;
	char *err;
};

/* Run a command on one key of the build; NULL on failure (rd->rc set). */
static redisReply *
cmd(struct reader *rd, const char *verb, const char *name, int argc, const char **args)
{
	const char *argv[8];
	char *key = ciq_key(&rd->s->keys, name);
	redisReply *r;

	argv[0] = verb;
	argv[1] = key;
	for (int i = 0; i < argc && i < 6; i++)
		argv[2 + i] = args[i];
	r = ciq_conn_command(&rd->s->conn, CIQ_REPEAT, 2 + argc, argv, NULL);
	free(key);
	if (r == NULL) {
		rd->rc = ciq_session_fail(rd->s, rd->err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(rd->err, CIQ_ERRLEN, "%s %s: %s", verb, name, r->str);
		rd->rc = CIQ_EX_SOFTWARE;
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static long long
num(const redisReply *r)
{
	if (r == NULL)
		return 0;
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return 0;
}

/* Value of field name in a HGETALL reply, or NULL. */
static const redisReply *
field(const redisReply *h, const char *name)
{
	for (size_t i = 0; h != NULL && i + 1 < h->elements; i += 2)
		if (strcmp(h->element[i]->str, name) == 0)
			return h->element[i + 1];
	return NULL;
}

static char *
dupstr(const redisReply *r)
{
	return ciq_strdup(r != NULL && r->type == REDIS_REPLY_STRING ? r->str : "");
}

static struct ciq_item *
push(struct ciq_list *l, const char *id, size_t len)
{
	struct ciq_item *it;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = ciq_realloc(l->v, l->cap * sizeof *l->v);
	}
	it = &l->v[l->n++];
	memset(it, 0, sizeof *it);
	it->id = ciq_memdup(id, len + 1);
	it->len = len;
	it->worker = ciq_strdup("");
	it->ms = -1;
	return it;
}

static int
cmp_item(const void *a, const void *b)
{
	const struct ciq_item *x = a, *y = b;
	int c = memcmp(x->id, y->id, x->len < y->len ? x->len : y->len);

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Parse "CODE MS WORKER" from the results hash into it. */
static void
parse_result(struct ciq_item *it, const char *rec)
{
	const char *ms = rec + 2, *sp = strchr(ms, ' ');

	it->ms = *ms != ' ' ? strtoll(ms, NULL, 10) : -1;
	free(it->worker);
	it->worker = ciq_strdup(sp != NULL ? sp + 1 : "");
}

/* Fill requeue/reclaim counts and stored output for every item of l. */
static int
details(struct reader *rd, struct ciq_list *l, const redisReply *requeues,
    const redisReply *reclaims, const redisReply *results, int want_output)
{
	for (size_t i = 0; i < l->n; i++) {
		struct ciq_item *it = &l->v[i];
		const char *args[1] = { it->id };
		redisReply *r;

		it->requeues = num(field(requeues, it->id));
		it->reclaims = num(field(reclaims, it->id));
		if (results != NULL) {
			const redisReply *rec = field(results, it->id);

			if (rec != NULL)
				parse_result(it, rec->str);
		}
		if (!want_output)
			continue;
		if ((r = cmd(rd, "HGET", "output", 1, args)) == NULL)
			return -1;
		if (r->type == REDIS_REPLY_STRING) {
			it->output = ciq_memdup(r->str, r->len + 1);
			it->outlen = r->len;
		}
		freeReplyObject(r);
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, cmp_item);
	return 0;
}

/* Walk the results hash with HSCAN, keeping the failures. */
static int
scan_results(struct reader *rd, struct ciq_summary *sum)
{
	char cursor[32] = "0";

	do {
		const char *args[3] = { cursor, "COUNT", "1000" };
		redisReply *r = cmd(rd, "HSCAN", "results", 3, args), *kv;

		if (r == NULL)
			return -1;
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		kv = r->element[1];
		for (size_t i = 0; i + 1 < kv->elements; i += 2) {
			if (kv->element[i + 1]->str[0] == 'f') {
				struct ciq_item *it = push(&sum->failures, kv->element[i]->str,
				    kv->element[i]->len);

				parse_result(it, kv->element[i + 1]->str);
			}
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

/* Workers in a natural order: 2 before 10. */
static int
cmp_worker(const void *a, const void *b)
{
	const char *x = ((const struct ciq_worker_stats *)a)->id;
	const char *y = ((const struct ciq_worker_stats *)b)->id;
	size_t lx = strspn(x, "0123456789"), ly = strspn(y, "0123456789");

	if (lx > 0 && ly > 0 && x[lx] == '\0' && y[ly] == '\0' && lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x, y);
}

int
ciq_summary_read(struct ciq_session *s, struct ciq_summary *sum, char err[CIQ_ERRLEN])
{
	struct reader rd = { s, CIQ_EX_OK, err };
	redisReply *meta = NULL, *stats = NULL, *requeues = NULL, *reclaims = NULL, *flaky = NULL,
	    *queue = NULL, *running = NULL, *owner = NULL, *wstats = NULL, *workers = NULL,
	    *results = NULL, *t;
	const char *all[2] = { "0", "-1" }, *scores[3] = { "0", "-1", "WITHSCORES" };

	memset(sum, 0, sizeof *sum);
	if ((meta = cmd(&rd, "HGETALL", "meta", 0, NULL)) == NULL)
		goto out;
	if (meta->elements == 0) {
		snprintf(err, CIQ_ERRLEN, "the keys of build '%s' are gone: expired, evicted or flushed",
		    s->build);
		rd.rc = CIQ_EX_VANISHED;
		goto out;
	}
	sum->total = num(field(meta, "total"));
	sum->seed = dupstr(field(meta, "seed"));
	sum->order = dupstr(field(meta, "order"));
	sum->leader = dupstr(field(meta, "leader"));
	if ((stats = cmd(&rd, "HGETALL", "stats", 0, NULL)) == NULL ||
	    (requeues = cmd(&rd, "HGETALL", "requeues", 0, NULL)) == NULL ||
	    (reclaims = cmd(&rd, "HGETALL", "reclaims", 0, NULL)) == NULL ||
	    (flaky = cmd(&rd, "SMEMBERS", "flaky", 0, NULL)) == NULL ||
	    (queue = cmd(&rd, "LRANGE", "queue", 2, all)) == NULL ||
	    (running = cmd(&rd, "ZRANGE", "running", 3, scores)) == NULL ||
	    (owner = cmd(&rd, "HGETALL", "owner", 0, NULL)) == NULL ||
	    (wstats = cmd(&rd, "HGETALL", "wstats", 0, NULL)) == NULL ||
	    (workers = cmd(&rd, "ZRANGE", "workers", 3, scores)) == NULL ||
	    (t = cmd(&rd, "HLEN", "results", 0, NULL)) == NULL)
		goto out;
	sum->processed = num(t);
	freeReplyObject(t);
	sum->passed = num(field(stats, "passed"));
	sum->failed = num(field(stats, "failed"));
	sum->skipped = num(field(stats, "skipped"));
	sum->flaky = num(field(stats, "flaky"));
	sum->requeued = num(field(stats, "requeued"));
	sum->reclaimed = num(field(stats, "reclaimed"));
	sum->released = num(field(stats, "released"));

	if (scan_results(&rd, sum) == -1)
		goto out;
	for (size_t i = 0; i < flaky->elements; i++)
		push(&sum->flaky_tests, flaky->element[i]->str, flaky->element[i]->len);
	for (size_t i = 0; i + 1 < requeues->elements; i += 2)
		push(&sum->requeued_tests, requeues->element[i]->str, requeues->element[i]->len);
	for (size_t i = 0; i + 1 < reclaims->elements; i += 2)
		push(&sum->reclaimed_tests, reclaims->element[i]->str, reclaims->element[i]->len);
	for (size_t i = 0; i < queue->elements; i++)
		push(&sum->unrun, queue->element[i]->str, queue->element[i]->len);
	for (size_t i = 0; i + 1 < running->elements; i += 2) {
		struct ciq_item *it = push(&sum->unrun, running->element[i]->str, running->element[i]->len);
		const redisReply *w = field(owner, it->id);

		it->running = 1;
		free(it->worker);
		it->worker = dupstr(w);
	}
	/* Flaky, requeued and reclaimed tests want their recorded result too. */
	if (sum->flaky_tests.n + sum->requeued_tests.n + sum->reclaimed_tests.n > 0 &&
	    (results = cmd(&rd, "HGETALL", "results", 0, NULL)) == NULL)
		goto out;
	if (details(&rd, &sum->failures, requeues, reclaims, NULL, 1) == -1 ||
	    details(&rd, &sum->flaky_tests, requeues, reclaims, results, 1) == -1 ||
	    details(&rd, &sum->requeued_tests, requeues, reclaims, results, 0) == -1 ||
	    details(&rd, &sum->reclaimed_tests, requeues, reclaims, results, 0) == -1)
		goto out;

	sum->workers = ciq_calloc(workers->elements / 2 + 1, sizeof *sum->workers);
	for (size_t i = 0; i + 1 < workers->elements; i += 2) {
		struct ciq_worker_stats *w = &sum->workers[sum->nworkers++];
		char name[300];
#define WSTAT(f) (snprintf(name, sizeof name, "%s:" #f, w->id), num(field(wstats, name)))
		w->id = dupstr(workers->element[i]);
		w->last_seen_ms = num(workers->element[i + 1]);
		w->reserved = WSTAT(reserved);
		w->passed = WSTAT(passed);
		w->failed = WSTAT(failed);
		w->skipped = WSTAT(skipped);
		w->requeued = WSTAT(requeued);
		w->reclaimed = WSTAT(reclaimed);
		w->busy_ms = WSTAT(busy_ms);
#undef WSTAT
	}
	qsort(sum->workers, sum->nworkers, sizeof *sum->workers, cmp_worker);
out:
	{
		redisReply *owned[] = { meta, stats, requeues, reclaims, flaky, queue, running,
		    owner, wstats, workers, results };

		for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
			if (owned[i] != NULL)
				freeReplyObject(owned[i]);
	}
	return rd.rc;
}

static void
free_list(struct ciq_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].worker);
		free(l->v[i].output);
	}
	free(l->v);
}

void
ciq_summary_free(struct ciq_summary *sum)
{
	free_list(&sum->failures);
	free_list(&sum->flaky_tests);
	free_list(&sum->requeued_tests);
	free_list(&sum->reclaimed_tests);
	free_list(&sum->unrun);
	for (size_t i = 0; i < sum->nworkers; i++)
		free(sum->workers[i].id);
	free(sum->workers);
	free(sum->seed);
	free(sum->order);
	free(sum->leader);
	memset(sum, 0, sizeof *sum);
}
