/*
 * pop.c - read pop.lua's replies, wait on the wake list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "pop.h"

enum ciq_pop_status
ciq_pop_status(const redisReply *r)
{
	static const char *const words[] = {
		[CIQ_POP_OK] = "ok", [CIQ_POP_WAIT] = "wait", [CIQ_POP_DONE] = "done",
		[CIQ_POP_NOTREADY] = "notready", [CIQ_POP_STOPPED] = "stopped",
		[CIQ_POP_SICK] = "sick", [CIQ_POP_TIMEUP] = "timeup",
	};
	const char *w = ciq_reply_str(r, 0);

	for (int i = 0; i < CIQ_POP_UNKNOWN; i++)
		if (strcmp(w, words[i]) == 0)
			return (enum ciq_pop_status)i;
	return CIQ_POP_UNKNOWN;
}

void
ciq_pop_await_wake(struct ciq_session *s, long long ms, struct ciq_backoff *backoff)
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
