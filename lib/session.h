/*
 * session.h - one tool's hold on one build: its configuration, its
 * connection and its key names.
 *
 * Functions here return an exit status from exit.h and fill err; the
 * mains decide to exit with it. Nothing here prints.
 */
#ifndef CIQ_SESSION_H
#define CIQ_SESSION_H

#include "conf.h"
#include "conn.h"
#include "keys.h"
#include "script.h"

struct ciq_session {
	struct ciq_conf *conf;
	struct ciq_conn conn;
	struct ciq_keys keys;
	const char *worker;   /* "" for tools that are not workers */
	const char *build;
};

/*
 * Resolve and check conf (need: CIQ_NEED_* bits), then connect.
 * Returns CIQ_EX_OK, or CIQ_EX_CONFIG / CIQ_EX_UNAVAILABLE / ... with
 * err saying what failed, the URL shown without its password. The
 * session must be closed either way.
 */
int ciq_session_open(struct ciq_session *s, struct ciq_conf *conf, unsigned need,
    char err[CIQ_ERRLEN]);

void ciq_session_close(struct ciq_session *s);

/*
 * Run a script (see script.h) and check its reply: an array whose first
 * element is a string status. Returns the reply (the caller frees it), or
 * NULL with *rc and err set: the connection failed, the script failed
 * (ciq_session_refused), the first element is "gone" (rc
 * CIQ_EX_VANISHED), or "stale": a newer call of this worker ran first
 * (CIQ_EX_SOFTWARE; two tools of one worker id at once, or a clock that
 * went back).
 */
redisReply *ciq_session_run(struct ciq_session *s, enum ciq_script sc, int argc,
    const char **argv, const size_t *lens, int *rc, char err[CIQ_ERRLEN]);

/*
 * Check a script's reply r: an array of strings, the first not "stale"
 * or "gone" (see ciq_session_run); with nested, the last element may be
 * a reply of its own, which its reader checks (next.lua's pop.lua
 * part). Returns 0, or -1 with *rc and err set.
 */
int ciq_session_check(struct ciq_session *s, const redisReply *r, int nested, int *rc,
    char err[CIQ_ERRLEN]);

/* Exit status and message for a failed connection call. */
int ciq_session_fail(struct ciq_session *s, char err[CIQ_ERRLEN]);

/*
 * Exit status and message for an error reply r to what (a script's or a
 * command's name): CIQ_EX_CONFIG when the server's ACL refuses the user
 * a command or a key (the message names the command and points at ACL in
 * ciq(7)), else CIQ_EX_SOFTWARE. r stays the caller's.
 */
int ciq_session_refused(struct ciq_session *s, const redisReply *r, const char *what,
    char err[CIQ_ERRLEN]);

/* Element i of a reply as a C string, "" when missing or not a string. */
const char *ciq_reply_str(const redisReply *r, size_t i);

#endif
