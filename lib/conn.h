/*
 * conn.h - a connection to the queue server.
 *
 * Commands are formatted and replies parsed by hiredis; bytes travel over
 * a ciq_transport, so TLS can be added below this layer. A broken
 * connection is reopened with backoff within the reconnect budget, for
 * the calls the caller marks as safe to repeat.
 *
 * Redis Cluster: a command sent to a node that does not serve its key's
 * slot is answered "MOVED slot host:port" or, while the slot migrates,
 * "ASK slot host:port", and was not executed. ciq_conn_command() then
 * connects to that node (the same handshake: AUTH, TLS verified against
 * the address the cluster announced) and sends the command again there,
 * after ASKING for an ASK; at most CIQ_CONN_MAX_REDIRECTS times per
 * command. The connection stays on the last node, so the next command on
 * the same slot goes straight there: one connection at a time, no slot
 * map. When the node stops answering, the other known nodes (the URL's
 * seeds, then those learned from redirects) are tried in turn, with
 * backoff, within the reconnect budget: after a failover one of them
 * redirects to the promoted replica.
 */
#ifndef CIQ_CONN_H
#define CIQ_CONN_H

#include <hiredis/hiredis.h>

#include "conf.h"
#include "transport.h"
#include "url.h"

/* Why the last call failed. */
enum ciq_conn_err {
	CIQ_CONN_OK,
	CIQ_CONN_UNREACHABLE, /* cannot connect, or the stream broke (exit 69) */
	CIQ_CONN_AUTH,        /* the server refused our credentials (exit 78) */
	CIQ_CONN_SETUP,       /* a setting that can never connect: TLS files, wrong scheme (exit 78) */
	CIQ_CONN_PROTOCOL,    /* a reply we cannot parse (exit 70) */
	CIQ_CONN_CONFIG       /* the URL does not parse (exit 78) */
};

/* Whether a command may be sent again after a broken connection. */
enum ciq_retry {
	CIQ_ONCE,    /* not safe: fail on the first broken connection */
	CIQ_REPEAT   /* idempotent, or fenced by the script itself */
};

/* Redirects followed (to a node that answered) for one command. */
#define CIQ_CONN_MAX_REDIRECTS 16

struct ciq_conn {
	struct ciq_url url;
	struct ciq_node *nodes;    /* TCP, TLS: the URL's seeds, then the nodes
	                              redirects named; none for unix */
	size_t nnodes;
	size_t node;               /* the node connected to, or to try first */
	int asked;                 /* the last command was answered after an
	                              ASK: its slot is migrating */
	struct ciq_transport tr;
	redisReader *reader;
	char *out;                 /* pipelined commands not yet sent */
	char *in;                  /* what replies are read into, made at the first read */
	size_t outlen, outcap;
	size_t pending;            /* replies owed for sent commands */
	long long connect_ms, command_ms, reconnect_ms;
	unsigned generation;       /* bumped on every (re)connect: scripts reload */
	enum ciq_conn_err err;
	char errstr[CIQ_ERRLEN];   /* never holds the password */
};

/*
 * Connect as the conf says: queue URL, password and user (URL first, then
 * CIQ_PASSWORD/CIQ_USER), database, timeouts. The first connection gets a
 * few quick attempts only, so an unreachable server fails in seconds.
 * Returns 0, or -1 with c->err and c->errstr set; close c either way.
 */
int ciq_conn_open(struct ciq_conn *c, const struct ciq_conf *conf);

/* Close and free. Safe on a failed or closed connection. */
void ciq_conn_close(struct ciq_conn *c);

/*
 * Send one command and wait for its reply. Error replies from the server
 * are returned as replies (type REDIS_REPLY_ERROR) for the caller to
 * judge; a NULL return means the connection failed (c->err, c->errstr).
 * With CIQ_REPEAT a broken connection is reopened and the command sent
 * again until the reconnect budget is spent. The caller frees the reply
 * with freeReplyObject().
 */
redisReply *ciq_conn_command(struct ciq_conn *c, enum ciq_retry retry, int argc,
    const char **argv, const size_t *lens);

/* The same with NUL-terminated arguments, for fixed commands. */
redisReply *ciq_conn_commandv(struct ciq_conn *c, enum ciq_retry retry, ...);

/*
 * Pipelining: queue a command without waiting, then collect each reply
 * in order with ciq_conn_reply(), which sends what is queued first. No
 * retry: the caller restarts a failed pipeline as a whole.
 */
/*
 * Reconnect if the last call broke the connection, within the reconnect
 * budget. Returns 0, or -1 with c->err set.
 */
int ciq_conn_ensure(struct ciq_conn *c);

/*
 * On a cluster, a pipeline must go to the node that serves its keys
 * (all in one slot): call ciq_conn_route() first. A MOVED or ASK among
 * the replies means the slot moved: ciq_conn_reply() then drops the
 * connection, points it at the new owner and returns NULL with
 * CIQ_CONN_UNREACHABLE, like a broken stream, so the caller restarts the
 * pipeline as it would after one.
 */
void ciq_conn_append(struct ciq_conn *c, int argc, const char **argv, const size_t *lens);
redisReply *ciq_conn_reply(struct ciq_conn *c);

/*
 * Put the connection on the node that serves key's slot: EXISTS key,
 * following redirects (a no-op round trip on a single server). While the
 * slot migrates it waits, with backoff, within the reconnect budget, for
 * the migration to end. Returns 0, or -1 with c->err set.
 */
int ciq_conn_route(struct ciq_conn *c, const char *key);

#endif
