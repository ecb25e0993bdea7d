/*
 * results.c - send results or requeues, read the answer for each test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "exit.h"
#include "hblog.h"
#include "results.h"

static const struct {
	const char *word;
	enum ciq_answer answer;
} words[] = {
	{ "recorded", CIQ_ANS_RECORDED }, { "duplicate", CIQ_ANS_DUPLICATE },
	{ "flaky", CIQ_ANS_FLAKY }, { "notmine", CIQ_ANS_NOTMINE },
	{ "requeued", CIQ_ANS_REQUEUED }, { "reclaimed", CIQ_ANS_RECLAIMED },
	{ "max-requeues", CIQ_ANS_MAX_REQUEUES }, { "tolerance", CIQ_ANS_TOLERANCE },
	{ "repeat", CIQ_ANS_REPEAT },
};

/* The answer a word names; -1 for none. */
static int
answer(const char *w)
{
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcmp(words[i].word, w) == 0)
			return (int)words[i].answer;
	return -1;
}

/* Read {"ok", id, answer, detail, ms, ...}; -1 when it is not that, with
 * *bad the word that was not understood. */
static int
parse(enum ciq_script sc, redisReply *r, struct ciq_results *out, const char **bad)
{
	*bad = ciq_reply_str(r, 0);
	if (strcmp(*bad, "ok") != 0)
		return -1;
	out->v = ciq_calloc(r->elements / 4 + 1, sizeof *out->v);
	for (size_t i = 1; i + 3 < r->elements; i += 4) {
		struct ciq_answer_one *one = &out->v[out->n];
		int a = answer(ciq_reply_str(r, i + 1));

		if (a == -1) {
			*bad = ciq_reply_str(r, i + 1);
			return -1;
		}
		one->id = ciq_reply_str(r, i);
		one->answer = (enum ciq_answer)a;
		one->detail = ciq_reply_str(r, i + 2);
		/* ack: detail "1" says the worker's own reservation ended. */
		one->ended = sc != CIQ_S_REQUEUE ? strcmp(one->detail, "1") == 0 :
		    a == CIQ_ANS_REQUEUED;
		one->ms = ciq_reply_str(r, i + 3);
		out->n++;
	}
	if (sc == CIQ_S_NEXT) {
		/* pop.lua's reply comes last, a list that starts with its word. */
		const redisReply *last = r->elements > 1 ? r->element[r->elements - 1] : NULL;

		if (last == NULL || last->type != REDIS_REPLY_ARRAY || last->elements == 0 ||
		    last->element[0]->type != REDIS_REPLY_STRING) {
			*bad = "(no reservation)";
			return -1;
		}
		out->next = last;
	}
	return 0;
}

int
ciq_results_send(struct ciq_session *s, enum ciq_script sc, int nhead,
    const char *const *head, const struct ciq_attach *a, int n, char *const *ids,
    struct ciq_results *out, char err[CIQ_ERRLEN])
{
	int nargs = nhead + 4 + n, at = 0, rc;
	const char **args = ciq_calloc((size_t)nargs, sizeof *args), **ended, *bad;
	size_t *lens = ciq_calloc((size_t)nargs, sizeof *lens);
	int nended = 0;

	memset(out, 0, sizeof *out);
	for (int i = 0; i < nhead; i++)
		args[at++] = head[i];
	args[at] = a->output != NULL ? a->output : "";
	lens[at++] = a->outlen;
	args[at++] = a->output != NULL ? "1" : "0";
	args[at] = a->cases != NULL ? a->cases : "";
	lens[at++] = a->caseslen;
	args[at++] = a->cases != NULL ? "1" : "0";
	for (int i = 0; i < n; i++)
		args[at++] = ids[i];
	for (int i = 0; i < nargs; i++)
		if (i != nhead && i != nhead + 2)
			lens[i] = strlen(args[i]);
	out->reply = ciq_session_run(s, sc, nargs, args, lens, &rc, err);
	free(args);
	free(lens);
	if (out->reply == NULL)
		return rc;
	if (parse(sc, out->reply, out, &bad) == -1) {
		snprintf(err, CIQ_ERRLEN, "unexpected reply from the server: '%.160s'", bad);
		return CIQ_EX_SOFTWARE;
	}
	/* Their heartbeat has nothing left to do. */
	ended = ciq_calloc(out->n + 1, sizeof *ended);
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].ended)
			ended[nended++] = out->v[i].id;
	ciq_hblog_done(s->conf, nended, ended);
	free(ended);
	return CIQ_EX_OK;
}

void
ciq_results_free(struct ciq_results *r)
{
	free(r->v);
	if (r->reply != NULL)
		freeReplyObject(r->reply);
	memset(r, 0, sizeof *r);
}
