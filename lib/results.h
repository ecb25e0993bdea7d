/*
 * results.h - send what a worker says about its tests (ciq-ack's
 * results, ciq-requeue's requeues) and read the server's answer for each.
 */
#ifndef CIQ_RESULTS_H
#define CIQ_RESULTS_H

#include "attach.h"
#include "session.h"

/* The server's answer for one test (lua/ack.lua, lua/requeue.lua). */
enum ciq_answer {
	CIQ_ANS_RECORDED,     /* ack: recorded (held 0: another worker reclaimed it);
	                         requeue: refused, the test has a result */
	CIQ_ANS_DUPLICATE,    /* ack: a result was already there */
	CIQ_ANS_FLAKY,        /* ack: this result disagrees with an earlier one */
	CIQ_ANS_NOTMINE,      /* this worker never reserved the test */
	CIQ_ANS_REQUEUED,     /* requeue: back in the queue */
	CIQ_ANS_RECLAIMED,    /* requeue: refused, another worker holds it (detail: who, or "") */
	CIQ_ANS_MAX_REQUEUES, /* requeue: refused, detail: its requeues so far */
	CIQ_ANS_TOLERANCE,    /* requeue: refused, detail: the build's "used/allowed" */
	CIQ_ANS_REPEAT        /* requeue: refused, the build is a grind (detail: its --repeat) */
};

struct ciq_answer_one {
	const char *id;
	enum ciq_answer answer;
	const char *detail;  /* see above; "" without one */
	int ended;           /* it left this worker's hands: ack ended the worker's own
	                        reservation, or requeue put it back */
	const char *ms;      /* when it ended: how long this worker held it, in ms,
	                        by the server's clock; else "" */
};

struct ciq_results {
	struct ciq_answer_one *v;  /* one per test, in the order sent */
	size_t n;
	redisReply *reply;         /* the strings above point into it */
	const redisReply *next;    /* CIQ_S_NEXT: pop.lua's reply (pop.h), within
	                              reply; {"skip"} when an id was not this
	                              worker's; NULL otherwise */
};

/*
 * Run sc (CIQ_S_ACK, CIQ_S_NEXT or CIQ_S_REQUEUE) for ids[0..n) with
 * head[0..nhead) (ack: the status; next: pop.lua's five arguments, then
 * the status; requeue: max requeues and tolerance) and the
 * attachments a, read the answers into out, and tell the loop's
 * heartbeat (hblog.h) which tests ended. Returns CIQ_EX_OK, or an exit
 * status with err filled (as ciq_session_run, or CIQ_EX_SOFTWARE for an
 * unexpected reply). Free out with ciq_results_free either way.
 */
int ciq_results_send(struct ciq_session *s, enum ciq_script sc, int nhead,
    const char *const *head, const struct ciq_attach *a, int n, char *const *ids,
    struct ciq_results *out, char err[CIQ_ERRLEN]);

void ciq_results_free(struct ciq_results *r);

#endif
