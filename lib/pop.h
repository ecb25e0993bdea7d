/*
 * pop.h - ciq-pop's side of lua/pop.lua: what a reply says, and the wait
 * on the build's wake list.
 */
#ifndef CIQ_POP_H
#define CIQ_POP_H

#include "backoff.h"
#include "session.h"

/* The first element of pop.lua's reply. */
enum ciq_pop_status {
	CIQ_POP_OK,        /* {"ok", id, origin, from, attempt, ...}: CIQ_POP_FIELDS
	                      per test; origin "queue", "reclaim" or "retry"; from
	                      the previous owner of a reclaimed test, else "";
	                      attempt 1 + its requeues and reclaims (+ 1 in retry) */
	CIQ_POP_WAIT,      /* {"wait", ms}: tests in flight elsewhere, wait at most ms */
	CIQ_POP_DONE,      /* {"done"}: exhausted */
	CIQ_POP_NOTREADY,  /* {"notready"}: not published yet */
	CIQ_POP_STOPPED,   /* {"stopped", failed, max}: the build reached --max-failures */
	CIQ_POP_SICK,      /* {"sick", streak}: this worker failed that many in a row */
	CIQ_POP_TIMEUP,    /* {"timeup", elapsed_ms}: this worker's --max-duration is over */
	CIQ_POP_UNKNOWN    /* anything else */
};

/* The elements per test of an "ok" reply. */
#define CIQ_POP_FIELDS 4

enum ciq_pop_status ciq_pop_status(const redisReply *r);

/*
 * Wait for a token on the build's wake list, at most ms (0: a short
 * while, a backoff step), and within the command timeout. A server that
 * cannot block (before Redis 6, a broken connection) is asked again after
 * a backoff instead; the next call reconnects if need be. Can't fail.
 */
void ciq_pop_await_wake(struct ciq_session *s, long long ms, struct ciq_backoff *backoff);

#endif
