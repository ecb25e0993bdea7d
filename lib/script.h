/*
 * script.h - the Lua scripts that change a build's state.
 *
 * The scripts live in lua/, one per state change, and are embedded at
 * build time (lua/embed.sh) with their SHA1 and the key names each one
 * takes, read from its "-- KEYS:" line. A call sends EVALSHA and falls
 * back to EVAL (which also caches the script) on NOSCRIPT, so a restarted
 * server that lost its script cache is handled without a round trip more
 * in the steady state.
 *
 * ARGV of every script starts with a nonce and the worker id. The nonce
 * makes a call safe to repeat after a lost reply: the script remembers
 * the last reply it gave this worker and returns it again for the same
 * nonce instead of acting twice. The nonce begins with the client's
 * clock, so a copy of a call delivered after a newer call of the same
 * worker is answered {"stale"} and changes nothing. A reply the script
 * remembers comes as it keeps it, one string (cheaper for the server to
 * send than an array of strings); the calls here return it as the array
 * it stands for, like any other reply.
 */
#ifndef CIQ_SCRIPT_H
#define CIQ_SCRIPT_H

#include "conn.h"
#include "keys.h"

enum ciq_script {
	CIQ_S_ELECT,    /* leader election and state of the build */
	CIQ_S_PUBLISH,  /* the leader marks the queue ready */
	CIQ_S_JOIN,     /* a worker registers and reads the build's state */
	CIQ_S_POP,      /* reserve tests: lost ones first, then the queue */
	CIQ_S_ACK,      /* record results */
	CIQ_S_NEXT,     /* record results, then reserve the next test (ack, pop) */
	CIQ_S_REQUEUE,  /* put a failed test back for another worker */
	CIQ_S_RELEASE,  /* give reservations back */
	CIQ_S_STATUS,   /* progress, for the report's wait */
	CIQ_S_RETRY,    /* a retried job's list of tests to run again */
	CIQ_S_HEARTBEAT, /* keep a running test's reservation fresh */
	CIQ_S_TIMING,   /* fold durations into a namespace's history */
	CIQ_S_SEEN,     /* note the ids of a published list, for pruning */
	CIQ_S_PRUNE,    /* drop the ids no recent list held from the history */
	CIQ_S_ACL,      /* the commands of the scripts the user may not run */
	CIQ_S_COUNT
};

/*
 * Run script s for worker (may be "" for the report) with extra arguments
 * argv[0..argc) (lens may be NULL for C strings). The keys come from the
 * script's KEYS line under the build prefix; a name ending in ':' gets the
 * worker id appended ("order:" is this worker's own list). Returns the
 * reply (free with freeReplyObject), which may be an error reply from the
 * script; NULL when the connection failed.
 */
redisReply *ciq_script_run(struct ciq_conn *c, const struct ciq_keys *k,
    enum ciq_script s, const char *worker, int argc, const char **argv,
    const size_t *lens);

/*
 * Run script s with the keys given, for a script whose KEYS line names
 * keys outside the build ("@timing"), and argv[0..argc) as its whole ARGV:
 * no nonce, no worker. Returns the reply, as ciq_script_run does.
 */
redisReply *ciq_script_run_keys(struct ciq_conn *c, enum ciq_script s, int nkeys,
    const char **keys, int argc, const char **argv, const size_t *lens);

/*
 * The commands that the scripts run and the connection's user may not,
 * as "ZADD, HSET" in out (outlen bytes): the server's error for a command
 * refused inside a script does not say which. out is "" when it cannot
 * tell (a server before Redis 7, a broken connection) or refuses none.
 */
void ciq_script_refused(struct ciq_conn *c, char *out, size_t outlen);

#endif
