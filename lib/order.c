/*
 * order.c - read a worker's recorded order (order.h).
 *
 * Plain commands, safe to repeat: the list only grows, and a reader that
 * races a pop sees a prefix of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "exit.h"
#include "order.h"

/* Run one command on the build's key name; NULL with rc and err set. */
static redisReply *
run(struct ciq_session *s, const char *verb, const char *name, const char *a1,
    const char *a2, int *rc, char err[CIQ_ERRLEN])
{
	char *key = ciq_key(&s->keys, name);
	redisReply *r = ciq_conn_commandv(&s->conn, CIQ_REPEAT, verb, key, a1, a2, NULL);

	free(key);
	if (r == NULL) {
		*rc = ciq_session_fail(s, err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		char what[64];

		snprintf(what, sizeof what, "%s %s", verb, name);
		*rc = ciq_session_refused(s, r, what, err);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

int
ciq_order_read(struct ciq_session *s, const char *worker, struct ciq_order *o,
    char err[CIQ_ERRLEN])
{
	char name[320], field[320], old[320];
	redisReply *r;
	int rc = CIQ_EX_OK, marked = 0;

	memset(o, 0, sizeof *o);
	if ((r = run(s, "HGET", "meta", "status", NULL, &rc, err)) == NULL)
		return rc;
	if (r->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		snprintf(err, CIQ_ERRLEN, "build '%s' is gone: its keys expired, were evicted or "
		    "were never published", s->build);
		return CIQ_EX_VANISHED;
	}
	freeReplyObject(r);

	snprintf(name, sizeof name, "order:%s", worker);
	if ((r = run(s, "LRANGE", name, "0", "-1", &rc, err)) == NULL)
		return rc;
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
		marked = r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len == 0;
		o->ids = ciq_calloc(r->elements, sizeof *o->ids);
		o->lens = ciq_calloc(r->elements, sizeof *o->lens);
		for (size_t i = marked; i < r->elements; i++) {
			const redisReply *e = r->element[i];

			if (e->type != REDIS_REPLY_STRING || e->len == 0)
				continue;
			o->ids[o->n] = ciq_memdup(e->str, e->len + 1);
			o->lens[o->n++] = e->len;
		}
	}
	freeReplyObject(r);
	if (marked)
		return rc;

	/* No marker: the worker took nothing, or its list was lost. Its
	 * list was made if wstats says so: "ordered", or the "reserved"
	 * counter of older versions. */
	snprintf(field, sizeof field, "%s:ordered", worker);
	snprintf(old, sizeof old, "%s:reserved", worker);
	if ((r = run(s, "HMGET", "wstats", field, old, &rc, err)) == NULL)
		return rc;
	if (o->n == 0 && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_NIL && r->element[1]->type == REDIS_REPLY_NIL) {
		snprintf(err, CIQ_ERRLEN, "worker '%s' took no test in build '%s'", worker, s->build);
		rc = CIQ_EX_NO;
	} else {
		snprintf(err, CIQ_ERRLEN, "the order of worker '%s' in build '%s' was lost "
		    "(its key was evicted or deleted)", worker, s->build);
		rc = CIQ_EX_VANISHED;
	}
	freeReplyObject(r);
	return rc;
}

void
ciq_order_free(struct ciq_order *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->ids[i]);
	free(o->ids);
	free(o->lens);
	memset(o, 0, sizeof *o);
}
