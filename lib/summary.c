/*
 * summary.c - gather a build's results for the report.
 *
 * Read-only, with plain commands that are safe to repeat. The build has
 * finished (or the report gave up waiting), so nothing here needs the
 * atomicity of a script.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "compress.h"
#include "exit.h"
#include "readfile.h"
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
	char *key = name != NULL ? ciq_key(&rd->s->keys, name) : NULL;
	redisReply *r;
	int n = 0;

	argv[n++] = verb;
	if (key != NULL)
		argv[n++] = key;
	for (int i = 0; i < argc && i < 6; i++)
		argv[n++] = args[i];
	r = ciq_conn_command(&rd->s->conn, CIQ_REPEAT, n, argv, NULL);
	free(key);
	if (r == NULL) {
		rd->rc = ciq_session_fail(rd->s, rd->err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		char what[64];

		snprintf(what, sizeof what, "%s %s", verb, name ? name : "");
		rd->rc = ciq_session_refused(rd->s, r, what, rd->err);
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

static int
cmp_bytes(const char *a, size_t la, const char *b, size_t lb)
{
	int c = memcmp(a, b, la < lb ? la : lb);

	return c != 0 ? c : (la > lb) - (la < lb);
}

/*
 * A record is a test id and a run: a grind's server keys are the runs
 * "ID\nK" (lua/prelude.lua; no id holds a newline), any other key is a
 * test, run 0. Records are sorted by id bytewise, then by run.
 */
static size_t
split(const char *key, size_t len, long long *run)
{
	const char *nl = memchr(key, '\n', len);

	*run = nl != NULL ? strtoll(nl + 1, NULL, 10) : 0;
	return nl != NULL ? (size_t)(nl - key) : len;
}

static int
cmp_rec(const char *a, size_t la, long long ra, const char *b, size_t lb, long long rb)
{
	int c = cmp_bytes(a, la, b, lb);

	return c != 0 ? c : (ra > rb) - (ra < rb);
}

/* Records by id, for lists of them. */
static int
cmp_id_ref(const void *a, const void *b)
{
	const struct ciq_test *x = *(struct ciq_test *const *)a, *y = *(struct ciq_test *const *)b;

	return cmp_rec(x->id, x->len, x->run, y->id, y->len, y->run);
}

static int
cmp_ref(const void *a, const void *b)
{
	const redisReply *x = *(redisReply *const *)a, *y = *(redisReply *const *)b;
	long long rx, ry;
	size_t lx = split(x->str, x->len, &rx), ly = split(y->str, y->len, &ry);

	return cmp_rec(x->str, lx, rx, y->str, ly, ry);
}

/* The first record of (id, run) or after it. */
static size_t
lower_bound(const struct ciq_summary *sum, const char *id, size_t len, long long run)
{
	size_t lo = 0, hi = sum->ntests;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ciq_test *t = &sum->tests[mid];

		if (cmp_rec(t->id, t->len, t->run, id, len, run) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct ciq_test *
ciq_summary_find(const struct ciq_summary *sum, const char *id, size_t len)
{
	size_t i = lower_bound(sum, id, len, 0);

	if (i < sum->ntests && cmp_bytes(sum->tests[i].id, sum->tests[i].len, id, len) == 0)
		return &sum->tests[i];
	return NULL;
}

static void
push(struct ciq_list *l, struct ciq_test *t)
{
	if (t == NULL)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = ciq_realloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = t;
}

/* Growing array of string replies: the ids the build knows of. */
struct refs {
	const redisReply **v;
	size_t n, cap;
};

/* The empty string is a key's marker (lua/prelude.lua), never an id. */
static void
ref(struct refs *r, const redisReply *s)
{
	if (s == NULL || s->type != REDIS_REPLY_STRING || s->len == 0)
		return;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = ciq_realloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n++] = s;
}

/* Replies of a walk with HSCAN, kept until the records are filled. */
struct pages {
	redisReply **v;
	size_t n;
};

/*
 * Walk hash name with HSCAN, count fields a page: each(arg, field, value)
 * for every pair. The pages are freed as the walk goes on, or kept in
 * keep when the caller holds on to what each() saw (keep may be NULL).
 */
static int
scan(struct reader *rd, const char *name, const char *count,
    void (*each)(void *, const redisReply *, const redisReply *), void *arg, struct pages *keep)
{
	char cursor[32] = "0";

	do {
		const char *args[3] = { cursor, "COUNT", count };
		redisReply *r = cmd(rd, "HSCAN", name, 3, args);
		const redisReply *kv;

		if (r == NULL)
			return -1;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			snprintf(rd->err, CIQ_ERRLEN, "HSCAN %s: unexpected reply", name);
			rd->rc = CIQ_EX_SOFTWARE;
			freeReplyObject(r);
			return -1;
		}
		kv = r->element[1];
		for (size_t i = 0; i + 1 < kv->elements; i += 2)
			each(arg, kv->element[i], kv->element[i + 1]);
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		if (keep != NULL) {
			keep->v = ciq_realloc(keep->v, (keep->n + 1) * sizeof *keep->v);
			keep->v[keep->n++] = r;
		} else {
			freeReplyObject(r);
		}
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

static void
free_pages(struct pages *p)
{
	for (size_t i = 0; i < p->n; i++)
		freeReplyObject(p->v[i]);
	free(p->v);
	memset(p, 0, sizeof *p);
}

/* Parse "CODE MS WORKER" from the results hash into t. */
static void
parse_result(struct ciq_test *t, const char *rec)
{
	const char *ms = rec[0] != '\0' ? rec + 1 : rec, *sp;

	t->outcome = rec[0] == 'p' ? CIQ_PASSED : rec[0] == 'f' ? CIQ_FAILED :
	    rec[0] == 's' ? CIQ_SKIPPED : CIQ_NONE;
	if (*ms == ' ')
		ms++;
	t->ms = *ms >= '0' && *ms <= '9' ? strtoll(ms, NULL, 10) : -1;
	sp = strchr(ms, ' ');
	free(t->worker);
	t->worker = ciq_strdup(sp != NULL ? sp + 1 : "");
}

/*
 * One record per distinct id of the replies in refs, sorted bytewise.
 */
static void
make_records(struct ciq_summary *sum, struct refs *refs)
{
	if (refs->n > 1)
		qsort(refs->v, refs->n, sizeof *refs->v, cmp_ref);
	sum->tests = ciq_calloc(refs->n + 1, sizeof *sum->tests);
	for (size_t i = 0; i < refs->n; i++) {
		const redisReply *r = refs->v[i];
		struct ciq_test *t;

		long long run;
		size_t len = split(r->str, r->len, &run);

		if (sum->ntests > 0 && cmp_rec(r->str, len, run, sum->tests[sum->ntests - 1].id,
		    sum->tests[sum->ntests - 1].len, sum->tests[sum->ntests - 1].run) == 0)
			continue;
		t = &sum->tests[sum->ntests++];
		t->id = ciq_memdup(r->str, len + 1);
		t->id[len] = '\0';
		t->len = len;
		t->run = run;
		t->worker = ciq_strdup("");
		t->holder = ciq_strdup("");
		t->ms = -1;
		t->started_ms = -1;
	}
}

/* The record of a server key: a test, or a grind's run. */
static struct ciq_test *
find(const struct ciq_summary *sum, const redisReply *r)
{
	long long run;
	size_t len, i;

	if (r->type != REDIS_REPLY_STRING)
		return NULL;
	len = split(r->str, r->len, &run);
	i = lower_bound(sum, r->str, len, run);
	if (i < sum->ntests && cmp_rec(sum->tests[i].id, sum->tests[i].len, sum->tests[i].run,
	    r->str, len, run) == 0)
		return &sum->tests[i];
	return NULL;
}

/* The runner's testcases of a unit (each value up to CIQ_CASES_MAX). */
static void
store_cases(void *arg, const redisReply *k, const redisReply *v)
{
	struct ciq_test *rec = find(arg, k);
	struct ciq_cases c;
	char err[CIQ_ERRLEN], *s;
	size_t n;
	int bad;

	memset(&c, 0, sizeof c);
	if (rec == NULL || rec->cases != NULL || v->type != REDIS_REPLY_STRING ||
	    ciq_compress_decode(v->str, v->len, CIQ_CASES_MAX, &s, &n, err) == -1)
		return;
	bad = ciq_cases_decode(s, n, &c) == -1;
	free(s);
	if (!bad)
		rec->cases = ciq_memdup(&c, sizeof c);
}

/* Workers in a natural order: 2 before 10. */
static int
cmp_worker(const void *a, const void *b)
{
	const char *x = ((const struct ciq_worker_stats *)a)->id;
	const char *y = ((const struct ciq_worker_stats *)b)->id;
	size_t lx = strspn(x, "0123456789"), ly = strspn(y, "0123456789");
	int nx = lx > 0 && x[lx] == '\0', ny = ly > 0 && y[ly] == '\0';

	/* Ids of digits alone first, shorter first (numbers in numeric
	 * order), then the others; bytewise within each. */
	if (nx != ny)
		return nx ? -1 : 1;
	if (nx && lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x, y);
}

/*
 * The build's wall time, from publication to the last sign of life of a
 * worker that ran tests (its last ack, or the pop that found the queue
 * exhausted), or to now while tests remain. The scripts record no time
 * of the last result itself; the workers' last-seen times come closest.
 */
static void
timing(struct ciq_summary *sum, int unfinished)
{
	long long end = -1;

	sum->end_ms = sum->wall_ms = -1;
	sum->utilisation = -1;
	for (size_t i = 0; i < sum->nworkers; i++) {
		const struct ciq_worker_stats *w = &sum->workers[i];
		long long seen = w->last_seen_ms < 0 ? -w->last_seen_ms : w->last_seen_ms;

		sum->busy_ms += w->busy_ms;
		if (w->reserved > 0 && seen > end)
			end = seen;
	}
	if (sum->created_ms < 0)
		return;
	if (unfinished || end < 0)
		end = unfinished ? sum->now_ms : sum->created_ms;
	sum->end_ms = end;
	sum->wall_ms = end > sum->created_ms ? end - sum->created_ms : 0;
	for (size_t i = 0; i < sum->nworkers; i++) {
		struct ciq_worker_stats *w = &sum->workers[i];

		w->idle_ms = sum->wall_ms > w->busy_ms ? sum->wall_ms - w->busy_ms : 0;
	}
	if (sum->nworkers > 0 && sum->wall_ms > 0) {
		/* Tests reserved together (pop -n) each count from the
		 * reservation, so their sum can pass the wall time. */
		sum->utilisation = (double)sum->busy_ms / ((double)sum->nworkers * (double)sum->wall_ms);
		if (sum->utilisation > 1)
			sum->utilisation = 1;
	}
}

static void
lose(struct ciq_summary *sum, const char *name)
{
	sum->lost = ciq_realloc(sum->lost, (sum->nlost + 1) * sizeof *sum->lost);
	sum->lost[sum->nlost++] = ciq_strdup(name);
}

/* 1 when a command's integer reply is 1 (SISMEMBER), 0 otherwise, -1 on failure. */
static int
is_one(struct reader *rd, const char *verb, const char *name, const char *arg)
{
	redisReply *r = cmd(rd, verb, name, 1, &arg);
	int one;

	if (r == NULL)
		return -1;
	one = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return one;
}

/*
 * After the records are read, look for doubt: the status script names
 * the keys of the marker list that lost their marker; the leader key
 * must still name the leader (read_orders checks the workers' orders), and
 * a retried build must still have its retrying set. A build whose meta
 * went meanwhile is vanished.
 */
static int
audit(struct reader *rd, struct ciq_summary *sum, const redisReply *meta)
{
	struct ciq_session *s = rd->s;
	const char *args[1] = { "0" };
	const redisReply *retrying;
	redisReply *r;
	int rc;

	if ((r = ciq_session_run(s, CIQ_S_STATUS, 1, args, NULL, &rc, rd->err)) == NULL) {
		rd->rc = rc;
		return -1;
	}
	if (strcmp(ciq_reply_str(r, 0), "ready") != 0) {
		freeReplyObject(r);
		snprintf(rd->err, CIQ_ERRLEN, "the keys of build '%s' vanished while the report read "
		    "them: expired, evicted or flushed", s->build);
		rd->rc = CIQ_EX_VANISHED;
		return -1;
	}
	for (size_t i = 10; i < r->elements; i++)
		lose(sum, r->element[i]->str);
	freeReplyObject(r);
	if ((r = cmd(rd, "GET", "leader", 0, NULL)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STRING || strcmp(r->str, sum->leader) != 0)
		lose(sum, "leader");
	freeReplyObject(r);
	retrying = field(meta, "retrying");
	if (retrying != NULL && retrying->type == REDIS_REPLY_STRING && strcmp(retrying->str, "1") == 0) {
		int one = is_one(rd, "SISMEMBER", "retrying", "");

		if (one == -1)
			return -1;
		if (!one)
			lose(sum, "retrying");
	}
	return 0;
}

static int
cmp_split(const void *a, const void *b)
{
	const struct ciq_split_note *x = a, *y = b;

	return cmp_bytes(x->id, x->len, y->id, y->len);
}

/* The units publish.lua noted as "split:UNIT" = parts in meta. */
static void
read_splits(struct ciq_summary *sum, const redisReply *meta)
{
	for (size_t i = 0; i + 1 < meta->elements; i += 2) {
		const redisReply *k = meta->element[i], *v = meta->element[i + 1];
		struct ciq_split_note *n;

		if (k->type != REDIS_REPLY_STRING || k->len < 6 || memcmp(k->str, "split:", 6) != 0)
			continue;
		sum->splits = ciq_realloc(sum->splits, (sum->nsplits + 1) * sizeof *sum->splits);
		n = &sum->splits[sum->nsplits++];
		n->len = k->len - 6;
		n->id = ciq_memdup(k->str + 6, n->len + 1);
		n->parts = num(v);
	}
	if (sum->nsplits > 1)
		qsort(sum->splits, sum->nsplits, sizeof *sum->splits, cmp_split);
}

/* The workers join.lua recorded as "mismatch:WORKER" = "IDS DIGEST" in meta. */
static void
read_mismatches(struct ciq_summary *sum, const redisReply *meta)
{
	for (size_t i = 0; i + 1 < meta->elements; i += 2) {
		const redisReply *k = meta->element[i], *v = meta->element[i + 1];
		struct ciq_mismatch *m;
		const char *sp;

		if (k->type != REDIS_REPLY_STRING || strncmp(k->str, "mismatch:", 9) != 0 ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		sum->mismatches = ciq_realloc(sum->mismatches,
		    (sum->nmismatches + 1) * sizeof *sum->mismatches);
		m = &sum->mismatches[sum->nmismatches++];
		m->worker = ciq_strdup(k->str + 9);
		m->ids = strtoll(v->str, NULL, 10);
		sp = strchr(v->str, ' ');
		m->digest = ciq_strdup(sp != NULL ? sp + 1 : "");
	}
}

int
ciq_summary_doubt(const struct ciq_summary *sum)
{
	return sum->nlost > 0 || sum->processed < sum->total;
}

/* A running test's owner value, "WORKER MS" or "WORKER MS streak" (ciq(7)
 * STORAGE): the worker, and the reservation's server time into
 * rec->started_ms. A value that is not of that form (an older version's,
 * without the time) is the worker alone, as lua/prelude.lua's holder()
 * reads it. */
static void
read_owner(struct ciq_test *rec, const redisReply *v)
{
	const char *s = v != NULL && v->type == REDIS_REPLY_STRING ? v->str : "";
	const char *sp = strchr(s, ' ');
	char *end;
	long long ms;

	free(rec->holder);
	rec->holder = ciq_strdup(s);
	if (sp == NULL || sp == s || !isdigit((unsigned char)sp[1]))
		return;
	ms = strtoll(sp + 1, &end, 10);
	if (*end == '\0' || strcmp(end, " streak") == 0) {
		rec->holder[sp - s] = '\0';
		rec->started_ms = ms;
	}
}

/* Whether member i of running (ZRANGE WITHSCORES) is a reservation: the
 * marker is the member at +inf (lua/prelude.lua). */
static int
reservation(const redisReply *running, size_t i)
{
	const redisReply *score = running->element[i + 1];

	return !(score->type == REDIS_REPLY_STRING && strcmp(score->str, "inf") == 0);
}

/* What the queue, the reservations and the sets and hashes of counts
 * say of each record. */
static void
mark_records(struct ciq_summary *sum, const redisReply *queue, const redisReply *running,
    const redisReply *owner, const redisReply *flaky, const redisReply *requeues,
    const redisReply *reclaims)
{
	for (size_t i = 0; i < queue->elements; i++) {
		struct ciq_test *rec = find(sum, queue->element[i]);

		if (rec != NULL)
			rec->queued = 1;
		push(&sum->unrun, rec);
	}
	for (size_t i = 0; i + 1 < running->elements; i += 2) {
		struct ciq_test *rec = reservation(running, i) ? find(sum, running->element[i]) : NULL;

		if (rec == NULL)
			continue;
		rec->running = 1;
		read_owner(rec, field(owner, running->element[i]->str));
		push(&sum->unrun, rec);
	}
	for (size_t i = 0; i < flaky->elements; i++) {
		struct ciq_test *rec = find(sum, flaky->element[i]);

		if (rec != NULL)
			rec->flaky = 1;
	}
	for (size_t i = 0; i + 1 < requeues->elements; i += 2) {
		struct ciq_test *rec = find(sum, requeues->element[i]);

		if (rec != NULL) {
			rec->requeues = num(requeues->element[i + 1]);
			sum->requeued += rec->requeues;
		}
	}
	for (size_t i = 0; i + 1 < reclaims->elements; i += 2) {
		struct ciq_test *rec = find(sum, reclaims->element[i]);

		if (rec != NULL) {
			rec->reclaims = num(reclaims->element[i + 1]);
			sum->reclaimed += rec->reclaims;
		}
	}
}

/*
 * A stored output (of the last failure), decoded (compress.h). One that
 * does not decode (corrupt, cut short, written by no version of ciq) is
 * shown as a line that says so: a failure must never look as if it had
 * printed nothing.
 */
static void
store_output(void *arg, const redisReply *k, const redisReply *v)
{
	struct ciq_test *rec = find(arg, k);
	char err[CIQ_ERRLEN], line[CIQ_ERRLEN + 128];
	int n;

	if (rec == NULL || v->type != REDIS_REPLY_STRING || rec->output != NULL)
		return;
	if (ciq_compress_decode(v->str, v->len, CIQ_OUTPUT_MAX, &rec->output, &rec->outlen,
	    err) == 0)
		return;
	n = snprintf(line, sizeof line, "[ciq: the stored output (%zu bytes) could not be read: %s]\n",
	    v->len, err);
	if (n < 0 || (size_t)n >= sizeof line)
		n = (int)strlen(line);
	rec->output = ciq_memdup(line, (size_t)n + 1);
	rec->outlen = (size_t)n;
}

/* An id of the results hash, kept to make its record. */
static void
ref_field(void *arg, const redisReply *k, const redisReply *v)
{
	(void)v;
	ref(arg, k);
}

/* The longest running first (an unknown start last), then by id. */
static int
cmp_started(const void *a, const void *b)
{
	const struct ciq_test *x = *(struct ciq_test *const *)a, *y = *(struct ciq_test *const *)b;

	if (x->started_ms != y->started_ms) {
		if (x->started_ms < 0 || y->started_ms < 0)
			return x->started_ms < 0 ? 1 : -1;
		return x->started_ms < y->started_ms ? -1 : 1;
	}
	return cmp_bytes(x->id, x->len, y->id, y->len);
}

/* The running tests, the longest running first. */
static void
list_running(struct ciq_summary *sum)
{
	for (size_t i = 0; i < sum->ntests; i++)
		if (sum->tests[i].running)
			push(&sum->running_tests, &sum->tests[i]);
	if (sum->running_tests.n > 1)
		qsort(sum->running_tests.v, sum->running_tests.n, sizeof *sum->running_tests.v,
		    cmp_started);
}

long long
ciq_test_running_ms(const struct ciq_summary *sum, const struct ciq_test *t)
{
	if (!t->running || t->started_ms < 0 || sum->now_ms <= 0)
		return -1;
	return sum->now_ms > t->started_ms ? sum->now_ms - t->started_ms : 0;
}

void
ciq_summary_quarantine(struct ciq_summary *sum, const struct ciq_quarantine *q)
{
	size_t kept = 0;

	sum->known_flaky = 1;
	sum->known_listed = q->n;
	sum->known_absent = q->n;
	for (size_t i = 0; i < q->n; i++) {
		struct ciq_test *t = ciq_summary_find(sum, q->ids[i].s, q->ids[i].len), *first;
		const struct ciq_test *end = sum->tests + sum->ntests;
		int clean;

		if (t == NULL)
			continue;
		sum->known_absent--;
		/* Every run of it, in a grind: named as passed when each did. */
		first = t;
		clean = 1;
		for (; t < end && cmp_bytes(t->id, t->len, q->ids[i].s, q->ids[i].len) == 0; t++) {
			if (t->outcome == CIQ_FAILED && !t->quarantined) {
				t->quarantined = 1;
				sum->failed--;
				sum->quarantined++;
			}
			clean = clean && t->outcome == CIQ_PASSED && !t->flaky;
		}
		if (clean)
			push(&sum->known_passed, first);
	}
	/* Both lists in id order, as the records are. */
	for (size_t i = 0; i < sum->failures.n; i++) {
		if (sum->failures.v[i]->quarantined)
			push(&sum->quarantined_tests, sum->failures.v[i]);
		else
			sum->failures.v[kept++] = sum->failures.v[i];
	}
	sum->failures.n = kept;
	if (sum->known_passed.n > 1)
		qsort(sum->known_passed.v, sum->known_passed.n, sizeof *sum->known_passed.v, cmp_id_ref);
}

static void
make_lists(struct ciq_summary *sum)
{
	for (size_t i = 0; i < sum->ntests; i++) {
		struct ciq_test *rec = &sum->tests[i];

		if (rec->outcome == CIQ_FAILED)
			push(&sum->failures, rec);
		if (rec->flaky)
			push(&sum->flaky_tests, rec);
		if (rec->requeues > 0)
			push(&sum->requeued_tests, rec);
		if (rec->reclaims > 0)
			push(&sum->reclaimed_tests, rec);
	}

}

/* Each worker's counts, from wstats ("WORKER:FIELD"), in id order (reserved: read_orders). */
static void
read_workers(struct ciq_summary *sum, const redisReply *workers, const redisReply *wstats)
{
	sum->workers = ciq_calloc(workers->elements / 2 + 1, sizeof *sum->workers);
	for (size_t i = 0; i + 1 < workers->elements; i += 2) {
		struct ciq_worker_stats *w;
		char name[300];
#define WSTAT(f) (snprintf(name, sizeof name, "%s:" #f, w->id), num(field(wstats, name)))
		if (workers->element[i]->len == 0)
			continue;  /* the marker */
		w = &sum->workers[sum->nworkers++];
		w->id = dupstr(workers->element[i]);
		w->last_seen_ms = num(workers->element[i + 1]);
		/* 1 or 0 until read_orders (reserved: as older versions wrote) */
		w->reserved = WSTAT(ordered) > 0 || WSTAT(reserved) > 0;
		w->requeued = WSTAT(requeued);
		w->reclaimed = WSTAT(reclaimed);
		w->busy_ms = WSTAT(busy_ms);
		w->idle_ms = -1;
#undef WSTAT
	}
	qsort(sum->workers, sum->nworkers, sizeof *sum->workers, cmp_worker);
}

static int
cmp_worker_id(const void *a, const void *b)
{
	return strcmp((*(struct ciq_worker_stats *const *)a)->id,
	    (*(struct ciq_worker_stats *const *)b)->id);
}

/*
 * Each worker's passes, failures and skips: the results that name it as
 * the worker that recorded them (a flaky test's pass, not the failure it
 * replaced), so that the workers' counts add up to the build's.
 */
static void
count_results(struct ciq_summary *sum)
{
	struct ciq_worker_stats **by_id = ciq_calloc(sum->nworkers + 1, sizeof *by_id);

	for (size_t i = 0; i < sum->nworkers; i++)
		by_id[i] = &sum->workers[i];
	qsort(by_id, sum->nworkers, sizeof *by_id, cmp_worker_id);
	for (size_t i = 0; i < sum->ntests; i++) {
		const struct ciq_test *t = &sum->tests[i];
		struct ciq_worker_stats key = { .id = t->worker }, *k = &key, **w;

		if (t->worker == NULL || t->outcome == CIQ_NONE ||
		    (w = bsearch(&k, by_id, sum->nworkers, sizeof *by_id, cmp_worker_id)) == NULL)
			continue;
		(*w)->passed += t->outcome == CIQ_PASSED;
		(*w)->failed += t->outcome == CIQ_FAILED;
		(*w)->skipped += t->outcome == CIQ_SKIPPED;
	}
	free(by_id);
}

/*
 * The tests each worker reserved: its order list (pop.lua), less the
 * marker it starts with. A worker that reserved tests has "ordered" set
 * in wstats; its list without the marker was lost (doubt).
 */
static int
read_orders(struct reader *rd, struct ciq_summary *sum)
{
	for (size_t i = 0; i < sum->nworkers; i++) {
		struct ciq_worker_stats *w = &sum->workers[i];
		char name[300];
		redisReply *r;
		int marked;

		if (w->reserved == 0)
			continue;
		snprintf(name, sizeof name, "order:%s", w->id);
		if ((r = cmd(rd, "LINDEX", name, 1, (const char *[]){ "0" })) == NULL)
			return -1;
		marked = r->type == REDIS_REPLY_STRING && r->len == 0;
		freeReplyObject(r);
		if (!marked)
			lose(sum, name);
		if ((r = cmd(rd, "LLEN", name, 0, NULL)) == NULL)
			return -1;
		w->reserved = r->type == REDIS_REPLY_INTEGER ? r->integer - marked : 0;
		freeReplyObject(r);
	}
	return 0;
}

int
ciq_summary_read(struct ciq_session *s, struct ciq_summary *sum, char err[CIQ_ERRLEN])
{
	struct reader rd = { s, CIQ_EX_OK, err };
	redisReply *meta = NULL, *stats = NULL, *requeues = NULL, *reclaims = NULL, *flaky = NULL,
	    *queue = NULL, *running = NULL, *owner = NULL, *wstats = NULL, *workers = NULL,
	    *now = NULL;
	struct pages results = { NULL, 0 };
	struct refs refs = { NULL, 0, 0 };
	const char *all[2] = { "0", "-1" }, *scores[3] = { "0", "-1", "WITHSCORES" };
	const redisReply *created;

	memset(sum, 0, sizeof *sum);
	sum->created_ms = sum->end_ms = sum->wall_ms = -1;
	sum->utilisation = -1;
	if ((meta = cmd(&rd, "HGETALL", "meta", 0, NULL)) == NULL)
		goto out;
	if (meta->elements == 0) {
		snprintf(err, CIQ_ERRLEN, "the keys of build '%s' are gone: expired, evicted or flushed",
		    s->build);
		rd.rc = CIQ_EX_VANISHED;
		goto out;
	}
	sum->total = num(field(meta, "total"));
	sum->repeat = field(meta, "repeat") != NULL ? num(field(meta, "repeat")) : 1;
	sum->seed = dupstr(field(meta, "seed"));
	sum->order = dupstr(field(meta, "order"));
	sum->leader = dupstr(field(meta, "leader"));
	if ((created = field(meta, "created_ms")) != NULL)
		sum->created_ms = num(created);
	if ((now = cmd(&rd, "TIME", NULL, 0, NULL)) == NULL)
		goto out;
	if (now->type == REDIS_REPLY_ARRAY && now->elements == 2)
		sum->now_ms = num(now->element[0]) * 1000 + num(now->element[1]) / 1000;
	if ((stats = cmd(&rd, "HGETALL", "stats", 0, NULL)) == NULL ||
	    (requeues = cmd(&rd, "HGETALL", "requeues", 0, NULL)) == NULL ||
	    (reclaims = cmd(&rd, "HGETALL", "reclaims", 0, NULL)) == NULL ||
	    (flaky = cmd(&rd, "SMEMBERS", "flaky", 0, NULL)) == NULL ||
	    (queue = cmd(&rd, "LRANGE", "queue", 2, all)) == NULL ||
	    (running = cmd(&rd, "ZRANGE", "running", 3, scores)) == NULL ||
	    (owner = cmd(&rd, "HGETALL", "owner", 0, NULL)) == NULL ||
	    (wstats = cmd(&rd, "HGETALL", "wstats", 0, NULL)) == NULL ||
	    (workers = cmd(&rd, "ZRANGE", "workers", 3, scores)) == NULL)
		goto out;
	sum->released = num(field(stats, "released"));
	read_mismatches(sum, meta);
	read_splits(sum, meta);
	/* Every id the build knows of gets a record. */
	if (scan(&rd, "results", "1000", ref_field, &refs, &results) == -1)
		goto out;
	for (size_t i = 0; i < queue->elements; i++)
		ref(&refs, queue->element[i]);
	for (size_t i = 0; i + 1 < running->elements; i += 2)
		if (reservation(running, i))
			ref(&refs, running->element[i]);
	for (size_t i = 0; i < flaky->elements; i++)
		ref(&refs, flaky->element[i]);
	for (size_t i = 0; i + 1 < requeues->elements; i += 2)
		ref(&refs, requeues->element[i]);
	for (size_t i = 0; i + 1 < reclaims->elements; i += 2)
		ref(&refs, reclaims->element[i]);
	make_records(sum, &refs);

	for (size_t p = 0; p < results.n; p++) {
		const redisReply *kv = results.v[p]->element[1];

		for (size_t i = 0; i + 1 < kv->elements; i += 2) {
			struct ciq_test *rec = find(sum, kv->element[i]);

			if (rec == NULL || kv->element[i + 1]->type != REDIS_REPLY_STRING)
				continue;
			parse_result(rec, kv->element[i + 1]->str);
			sum->processed++;
			sum->passed += rec->outcome == CIQ_PASSED;
			sum->failed += rec->outcome == CIQ_FAILED;
			sum->skipped += rec->outcome == CIQ_SKIPPED;
		}
	}
	free_pages(&results);
	mark_records(sum, queue, running, owner, flaky, requeues, reclaims);
	list_running(sum);

	/* Outputs and testcases can be large: a few at a time. A value of
	 * cases that does not decode (written by another version, or
	 * corrupt) is passed over: they are detail, and the unit's result
	 * stands without them. An output that does not decode says so. */
	if (scan(&rd, "output", "100", store_output, sum, NULL) == -1 ||
	    scan(&rd, "cases", "10", store_cases, sum, NULL) == -1)
		goto out;

	make_lists(sum);
	read_workers(sum, workers, wstats);
	count_results(sum);
	if (read_orders(&rd, sum) == -1)
		goto out;
	sum->flaky = (long long)sum->flaky_tests.n;
	/* Tests waiting in retried jobs' lists are not in the queue. */
	timing(sum, sum->unrun.n > 0 || num(field(stats, "retry_left")) > 0);
	audit(&rd, sum, meta);
out:
	{
		redisReply *owned[] = { meta, stats, requeues, reclaims, flaky, queue, running,
		    owner, wstats, workers, now };

		for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
			if (owned[i] != NULL)
				freeReplyObject(owned[i]);
	}
	free_pages(&results);
	free(refs.v);
	return rd.rc;
}

void
ciq_summary_free(struct ciq_summary *sum)
{
	for (size_t i = 0; i < sum->ntests; i++) {
		free(sum->tests[i].id);
		free(sum->tests[i].worker);
		free(sum->tests[i].holder);
		free(sum->tests[i].output);
		if (sum->tests[i].cases != NULL)
			ciq_cases_free(sum->tests[i].cases);
		free(sum->tests[i].cases);
	}
	free(sum->tests);
	free(sum->failures.v);
	free(sum->flaky_tests.v);
	free(sum->requeued_tests.v);
	free(sum->reclaimed_tests.v);
	free(sum->unrun.v);
	free(sum->running_tests.v);
	free(sum->quarantined_tests.v);
	free(sum->known_passed.v);
	for (size_t i = 0; i < sum->nworkers; i++)
		free(sum->workers[i].id);
	free(sum->workers);
	for (size_t i = 0; i < sum->nlost; i++)
		free(sum->lost[i]);
	free(sum->lost);
	for (size_t i = 0; i < sum->nmismatches; i++) {
		free(sum->mismatches[i].worker);
		free(sum->mismatches[i].digest);
	}
	free(sum->mismatches);
	for (size_t i = 0; i < sum->nsplits; i++)
		free(sum->splits[i].id);
	free(sum->splits);
	free(sum->seed);
	free(sum->order);
	free(sum->leader);
	memset(sum, 0, sizeof *sum);
}

static int
cmp_slow(const void *a, const void *b)
{
	const struct ciq_test *x = *(struct ciq_test *const *)a, *y = *(struct ciq_test *const *)b;

	if (x->ms != y->ms)
		return x->ms > y->ms ? -1 : 1;
	return cmp_bytes(x->id, x->len, y->id, y->len);
}

size_t
ciq_summary_slowest(const struct ciq_summary *sum, struct ciq_test **out, size_t n)
{
	struct ciq_test **all;
	size_t k = 0;

	if (n == 0)
		return 0;
	all = ciq_calloc(sum->ntests + 1, sizeof *all);
	for (size_t i = 0; i < sum->ntests; i++)
		if (sum->tests[i].outcome != CIQ_NONE && sum->tests[i].ms >= 0)
			all[k++] = &sum->tests[i];
	if (k > 1)
		qsort(all, k, sizeof *all, cmp_slow);
	if (k > n)
		k = n;
	memcpy(out, all, k * sizeof *out);
	free(all);
	return k;
}

const char *
ciq_outcome_name(enum ciq_outcome o)
{
	switch (o) {
	case CIQ_PASSED:
		return "passed";
	case CIQ_FAILED:
		return "failed";
	case CIQ_SKIPPED:
		return "skipped";
	default:
		return NULL;
	}
}

long long
ciq_test_attempts(const struct ciq_test *t)
{
	return 1 + t->requeues + t->reclaims;
}

void
ciq_summary_so_far(struct ciq_session *s, long long *failed, long long *busy_ms)
{
	char *key = ciq_key(&s->keys, "stats");
	redisReply *r = ciq_conn_commandv(&s->conn, CIQ_REPEAT, "HGET", key, "failed", NULL);

	*failed = -1;
	*busy_ms = -1;
	free(key);
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		*failed = strtoll(r->str, NULL, 10);
	else if (r != NULL && r->type == REDIS_REPLY_NIL)
		*failed = 0;
	if (r != NULL)
		freeReplyObject(r);
	key = ciq_key(&s->keys, "wstats");
	r = ciq_conn_commandv(&s->conn, CIQ_REPEAT, "HGETALL", key, NULL);
	free(key);
	if (r != NULL && r->type == REDIS_REPLY_ARRAY) {
		*busy_ms = 0;
		for (size_t i = 0; i + 1 < r->elements; i += 2) {
			const char *f = r->element[i]->str, *colon = strrchr(f, ':');

			if (colon != NULL && strcmp(colon, ":busy_ms") == 0)
				*busy_ms += strtoll(r->element[i + 1]->str, NULL, 10);
		}
	}
	if (r != NULL)
		freeReplyObject(r);
}
