/*
 * conn.c - talk to the queue server: connect, authenticate, select,
 * send commands, read replies, reconnect, follow Redis Cluster redirects.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "backoff.h"
#include "clock.h"
#include "conn.h"

/* The most bytes one read takes from the server. */
#define CIQ_CONN_READ 16384

/* First connection: a few quick tries, so "unreachable" is said in seconds. */
#define FIRST_TRIES 3

static const char *password;   /* from CIQ_PASSWORD when the URL has none */
static const char *user;

static void
fail(struct ciq_conn *c, enum ciq_conn_err e, const char *what)
{
	c->err = e;
	snprintf(c->errstr, sizeof c->errstr, "%s", what);
}

static void
drop(struct ciq_conn *c)
{
	ciq_transport_close(&c->tr);
	if (c->reader != NULL)
		redisReaderFree(c->reader);
	c->reader = NULL;
	c->outlen = 0;
	c->pending = 0;
}

static int
flush_out(struct ciq_conn *c)
{
	char err[CIQ_ERRLEN];

	if (c->outlen == 0)
		return 0;
	if (ciq_transport_write(&c->tr, c->out, c->outlen, ciq_now_ms() + c->command_ms, err) == -1) {
		fail(c, CIQ_CONN_UNREACHABLE, err);
		drop(c);
		return -1;
	}
	c->outlen = 0;
	return 0;
}

static void
append_raw(struct ciq_conn *c, const char *buf, size_t n)
{
	if (c->outlen + n > c->outcap) {
		c->outcap = (c->outlen + n) * 2;
		c->out = ciq_realloc(c->out, c->outcap);
	}
	memcpy(c->out + c->outlen, buf, n);
	c->outlen += n;
}

void
ciq_conn_append(struct ciq_conn *c, int argc, const char **argv, const size_t *lens)
{
	char *cmd;
	int n = redisFormatCommandArgv(&cmd, argc, argv, lens);

	if (n < 0)
		ciq_oom(0);  /* only an allocation can fail here */
	append_raw(c, cmd, (size_t)n);
	redisFreeCommand(cmd);
	c->pending++;
}

/* The next reply, as the server sent it. */
static redisReply *
read_reply(struct ciq_conn *c)
{
	char err[CIQ_ERRLEN];
	void *reply = NULL;
	long long deadline;

	if (c->reader == NULL) {
		fail(c, CIQ_CONN_UNREACHABLE, "not connected");
		return NULL;
	}
	if (flush_out(c) == -1)
		return NULL;
	deadline = ciq_now_ms() + c->command_ms;
	for (;;) {
		ssize_t n;

		if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
			fail(c, CIQ_CONN_PROTOCOL, c->reader->errstr);
			drop(c);
			return NULL;
		}
		if (reply != NULL)
			break;
		/* On the heap, not the stack: only the pages a reply fills are
		 * ever touched (a large stack frame is probed page by page). */
		if (c->in == NULL)
			c->in = ciq_malloc(CIQ_CONN_READ);
		if ((n = ciq_transport_read(&c->tr, c->in, CIQ_CONN_READ, deadline, err)) == -1) {
			fail(c, CIQ_CONN_UNREACHABLE, err);
			drop(c);
			return NULL;
		}
		redisReaderFeed(c->reader, c->in, (size_t)n);
	}
	c->pending--;
	return reply;
}

/* One command on the current stream, no retry. */
static redisReply *
roundtrip(struct ciq_conn *c, int argc, const char **argv, const size_t *lens)
{
	ciq_conn_append(c, argc, argv, lens);
	return read_reply(c);
}

/* The index of host:port in the known nodes, added when new. */
static size_t
learn_node(struct ciq_conn *c, const char *host, size_t hostlen, int port)
{
	for (size_t i = 0; i < c->nnodes; i++)
		if (c->nodes[i].port == port && strlen(c->nodes[i].host) == hostlen &&
		    memcmp(c->nodes[i].host, host, hostlen) == 0)
			return i;
	c->nodes = ciq_realloc(c->nodes, (c->nnodes + 1) * sizeof *c->nodes);
	c->nodes[c->nnodes].host = ciq_memdup(host, hostlen + 1);
	c->nodes[c->nnodes].host[hostlen] = '\0';
	c->nodes[c->nnodes].port = port;
	return c->nnodes++;
}

enum redirect { NOT_REDIRECTED, MOVED, ASK };

/*
 * Whether r is a cluster redirect, "MOVED 3999 127.0.0.1:6381" or "ASK
 * 3999 ...". If so, the node it names becomes c->node: the next connect
 * goes there. An empty host (":6381") means the host of the current node.
 */
static enum redirect
redirected(struct ciq_conn *c, const redisReply *r)
{
	enum redirect kind;
	const char *addr, *colon;
	long port = 0;

	if (r->type != REDIS_REPLY_ERROR || c->nnodes == 0)  /* unix: no node to go to */
		return NOT_REDIRECTED;
	if (strncmp(r->str, "MOVED ", 6) == 0)
		kind = MOVED;
	else if (strncmp(r->str, "ASK ", 4) == 0)
		kind = ASK;
	else
		return NOT_REDIRECTED;
	if ((addr = strchr(strchr(r->str, ' ') + 1, ' ')) == NULL ||
	    (colon = strrchr(++addr, ':')) == NULL || colon[1] == '\0')
		return NOT_REDIRECTED;
	for (const char *p = colon + 1; *p != '\0'; p++)
		if (*p < '0' || *p > '9' || (port = port * 10 + (*p - '0')) > 65535)
			return NOT_REDIRECTED;
	if (port == 0)
		return NOT_REDIRECTED;
	if (colon == addr)
		c->node = learn_node(c, c->nodes[c->node].host, strlen(c->nodes[c->node].host), (int)port);
	else
		c->node = learn_node(c, addr, (size_t)(colon - addr), (int)port);
	return kind;
}

redisReply *
ciq_conn_reply(struct ciq_conn *c)
{
	redisReply *r = read_reply(c);

	/* Too late to send it again alone: the caller restarts the pipeline. */
	if (r != NULL && c->nnodes > 0 && redirected(c, r) != NOT_REDIRECTED) {
		char msg[CIQ_ERRLEN];

		snprintf(msg, sizeof msg, "the cluster redirected a pipelined command: %s", r->str);
		freeReplyObject(r);
		drop(c);
		fail(c, CIQ_CONN_UNREACHABLE, msg);
		return NULL;
	}
	return r;
}

/* AUTH and SELECT on a fresh stream. */
static int
handshake(struct ciq_conn *c)
{
	const char *pw = c->url.password ? c->url.password : password;
	const char *us = c->url.user ? c->url.user : user;
	redisReply *r;
	char db[16];

	if (pw != NULL) {
		const char *argv[3] = { "AUTH", us, pw };
		int argc = us != NULL ? 3 : 2;

		if (us == NULL)
			argv[1] = pw;
		if ((r = roundtrip(c, argc, argv, NULL)) == NULL)
			return -1;
		if (r->type == REDIS_REPLY_ERROR) {
			char msg[CIQ_ERRLEN];

			snprintf(msg, sizeof msg, "authentication failed: %s", r->str);
			freeReplyObject(r);
			fail(c, CIQ_CONN_AUTH, msg);
			drop(c);
			return -1;
		}
		freeReplyObject(r);
	}
	if (c->url.db != 0) {
		const char *argv[2] = { "SELECT", db };

		snprintf(db, sizeof db, "%d", c->url.db);
		if ((r = roundtrip(c, 2, argv, NULL)) == NULL)
			return -1;
		if (r->type == REDIS_REPLY_ERROR) {
			char msg[CIQ_ERRLEN];

			snprintf(msg, sizeof msg, "cannot select database %d: %s%s", c->url.db, r->str,
			    strstr(r->str, "cluster") != NULL ?
			    " (a Redis Cluster has database 0 only: drop the /db from the URL)" : "");
			fail(c, strncmp(r->str, "NOAUTH", 6) == 0 ? CIQ_CONN_AUTH : CIQ_CONN_CONFIG, msg);
			freeReplyObject(r);
			drop(c);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

/* Connect to c->node (the URL's server on unix) and log in. */
static int
connect_once(struct ciq_conn *c)
{
	char err[CIQ_ERRLEN];
	struct ciq_url u = c->url;  /* a shallow copy, pointed at c->node */
	int r;

	drop(c);
	if (c->nnodes > 0) {
		u.host = c->nodes[c->node].host;
		u.port = c->nodes[c->node].port;
	}
	if ((r = ciq_transport_open(&c->tr, &u, c->connect_ms, err)) != 0) {
		char msg[CIQ_ERRLEN];

		/* Name the node, unless it is the only one the URL names. */
		if (c->nnodes > 1 || c->node > 0)
			snprintf(msg, sizeof msg, "%s:%d: %s", u.host, u.port, err);
		else
			snprintf(msg, sizeof msg, "%s", err);
		/* -2: a TLS setting or a URL scheme that will never work:
		 * final (exit 78), not worth a retry. */
		fail(c, r == -2 ? CIQ_CONN_SETUP : CIQ_CONN_UNREACHABLE, msg);
		return -1;
	}
	c->reader = redisReaderCreate();
	if (c->reader == NULL)
		ciq_oom(sizeof *c->reader);
	if (handshake(c) == -1)
		return -1;
	c->generation++;
	c->err = CIQ_CONN_OK;
	return 0;
}

/*
 * Reconnect with backoff until the budget is spent; auth and setup errors
 * are final. Each round tries every known node once, c->node first: the
 * first that answers is kept. max_rounds 0 means no limit.
 */
static int
reconnect(struct ciq_conn *c, long long budget_ms, int max_rounds)
{
	long long deadline = ciq_now_ms() + budget_ms;
	struct ciq_backoff b;

	ciq_backoff_init(&b, 100, 2000);
	for (int rounds = 1;; rounds++) {
		long long d;

		for (size_t i = 0; i < (c->nnodes > 0 ? c->nnodes : 1); i++) {
			if (connect_once(c) == 0)
				return 0;
			if (c->err == CIQ_CONN_AUTH || c->err == CIQ_CONN_SETUP ||
			    c->err == CIQ_CONN_CONFIG)
				return -1;
			if (c->nnodes > 0)
				c->node = (c->node + 1) % c->nnodes;
		}
		if (max_rounds > 0 && rounds >= max_rounds)
			return -1;
		d = ciq_backoff_next(&b);
		if (ciq_now_ms() + d >= deadline)
			return -1;
		ciq_sleep_ms(d);
	}
}

int
ciq_conn_open(struct ciq_conn *c, const struct ciq_conf *conf)
{
	char err[CIQ_ERRLEN];

	memset(c, 0, sizeof *c);
	c->tr.fd = -1;
	c->connect_ms = ciq_conf_ms(conf, CIQ_K_CONNECT_TIMEOUT);
	c->command_ms = ciq_conf_ms(conf, CIQ_K_COMMAND_TIMEOUT);
	c->reconnect_ms = ciq_conf_ms(conf, CIQ_K_RECONNECT_TIMEOUT);
	if (c->connect_ms <= 0)
		c->connect_ms = 1;
	if (c->command_ms <= 0)
		c->command_ms = 1;
	password = ciq_conf_get(conf, CIQ_K_PASSWORD);
	user = ciq_conf_get(conf, CIQ_K_USER);
	if (ciq_url_parse(ciq_conf_get(conf, CIQ_K_QUEUE), &c->url, err) == -1) {
		fail(c, CIQ_CONN_CONFIG, err);
		return -1;
	}
	for (size_t i = 0; i < c->url.nseeds; i++)
		learn_node(c, c->url.seeds[i].host, strlen(c->url.seeds[i].host), c->url.seeds[i].port);
	return reconnect(c, c->connect_ms * FIRST_TRIES + 2000, FIRST_TRIES);
}

int
ciq_conn_ensure(struct ciq_conn *c)
{
	if (c->reader != NULL)
		return 0;
	return reconnect(c, c->reconnect_ms, 0);
}

void
ciq_conn_close(struct ciq_conn *c)
{
	drop(c);
	free(c->out);
	c->out = NULL;
	c->outcap = 0;
	free(c->in);
	c->in = NULL;
	for (size_t i = 0; i < c->nnodes; i++)
		free(c->nodes[i].host);
	free(c->nodes);
	c->nodes = NULL;
	c->nnodes = c->node = 0;
	ciq_url_free(&c->url);
}

/* Error replies that mean "not executed, try again shortly". */
static int
transient(const redisReply *r)
{
	/* TRYAGAIN: a multi-key command on a slot being migrated;
	 * CLUSTERDOWN: a cluster without a master for some slot (failover). */
	static const char *const prefixes[] = { "LOADING", "BUSY ", "MASTERDOWN", "TRYAGAIN",
	    "CLUSTERDOWN" };

	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
		if (strncmp(r->str, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

/* Whether r says we have not logged in. */
static int
needs_password(const redisReply *r)
{
	/* Redis 7 answers a long command from a client that has not logged
	 * in with a protocol error rather than NOAUTH. */
	return r->type == REDIS_REPLY_ERROR && (strncmp(r->str, "NOAUTH", 6) == 0 ||
	    strstr(r->str, "unauthenticated") != NULL);
}

/*
 * Send one command, after ASKING when asking: the pair in one write. A
 * refused ASKING (an ACL without it) is the answer: the command would
 * only be redirected back.
 */
static redisReply *
send_command(struct ciq_conn *c, int asking, int argc, const char **argv, const size_t *lens)
{
	const char *ask[1] = { "ASKING" };
	redisReply *r, *cmd;

	if (!asking)
		return roundtrip(c, argc, argv, lens);
	ciq_conn_append(c, 1, ask, NULL);
	ciq_conn_append(c, argc, argv, lens);
	if ((r = read_reply(c)) == NULL)
		return NULL;
	if ((cmd = read_reply(c)) == NULL || r->type != REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return cmd;
	}
	freeReplyObject(cmd);
	return r;
}

/*
 * The loop: send; a redirect resends at once on the node it names (the
 * command was not executed); a transient error or a broken stream (when
 * the caller allows) waits with backoff and sends again, reconnecting
 * (to any known node) if need be; anything else is the answer.
 */
redisReply *
ciq_conn_command(struct ciq_conn *c, enum ciq_retry retry, int argc,
    const char **argv, const size_t *lens)
{
	long long deadline = ciq_now_ms() + c->reconnect_ms;
	struct ciq_backoff b;
	redisReply *r;
	int redirects = 0, asking = 0;

	ciq_backoff_init(&b, 100, 2000);
	c->asked = 0;
	for (;;) {
		enum redirect kind;

		if (c->reader == NULL && reconnect(c, deadline - ciq_now_ms(), 0) == -1)
			return NULL;
		r = send_command(c, asking, argc, argv, lens);
		c->asked = asking;
		asking = 0;
		if (r != NULL && needs_password(r)) {
			freeReplyObject(r);
			fail(c, CIQ_CONN_AUTH, "the server requires a password: set CIQ_PASSWORD or put it in the URL");
			return NULL;
		}
		if (r != NULL && (kind = redirected(c, r)) != NOT_REDIRECTED) {
			char msg[CIQ_ERRLEN];

			snprintf(msg, sizeof msg, "%s", r->str);
			freeReplyObject(r);
			r = NULL;
			if (redirects == CIQ_CONN_MAX_REDIRECTS) {
				snprintf(c->errstr, sizeof c->errstr, "more than %d cluster redirects for "
				    "one command (the last: %s): is the cluster being resharded?",
				    CIQ_CONN_MAX_REDIRECTS, msg);
				c->err = CIQ_CONN_UNREACHABLE;
				return NULL;
			}
			/* Counted only when the node answers: one that does
			 * not (a dead master not yet failed over) is waited
			 * for below, within the reconnect budget. */
			if (connect_once(c) == 0) {
				redirects++;
				asking = kind == ASK;
				continue;
			}
			if (c->err != CIQ_CONN_UNREACHABLE)
				return NULL;
		} else if (c->nnodes == 0 && r != NULL && r->type == REDIS_REPLY_ERROR &&
		    (strncmp(r->str, "MOVED ", 6) == 0 || strncmp(r->str, "ASK ", 4) == 0)) {
			freeReplyObject(r);
			fail(c, CIQ_CONN_SETUP, "the server is a Redis Cluster node: a unix:// URL "
			    "cannot follow its redirects, use redis:// or rediss://");
			return NULL;
		} else if (r == NULL) {
			/* The stream broke: the command may have been executed. */
			if (retry == CIQ_ONCE || c->err != CIQ_CONN_UNREACHABLE)
				return NULL;
		} else if (!transient(r)) {
			return r;
		}
		if (ciq_now_ms() >= deadline) {
			if (r != NULL) {
				fail(c, CIQ_CONN_UNREACHABLE, r->str);
				freeReplyObject(r);
			}
			return NULL;
		}
		if (r != NULL)
			freeReplyObject(r);
		ciq_sleep_ms(ciq_backoff_next(&b));
	}
}

int
ciq_conn_route(struct ciq_conn *c, const char *key)
{
	long long deadline = ciq_now_ms() + c->reconnect_ms;
	struct ciq_backoff b;

	ciq_backoff_init(&b, 100, 2000);
	for (;;) {
		redisReply *r = ciq_conn_commandv(c, CIQ_REPEAT, "EXISTS", key, NULL);

		if (r == NULL)
			return -1;
		if (r->type == REDIS_REPLY_ERROR) {
			fail(c, CIQ_CONN_PROTOCOL, r->str);
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
		/* Answered after an ASK: the slot is migrating, and a pipeline
		 * there would be redirected. Wait for the migration to end. */
		if (!c->asked)
			return 0;
		if (ciq_now_ms() >= deadline) {
			fail(c, CIQ_CONN_UNREACHABLE, "the cluster slot of the queue is still migrating");
			return -1;
		}
		ciq_sleep_ms(ciq_backoff_next(&b));
	}
}

redisReply *
ciq_conn_commandv(struct ciq_conn *c, enum ciq_retry retry, ...)
{
	const char *argv[16];
	int argc = 0;
	va_list ap;

	va_start(ap, retry);
	while (argc < 16 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	return ciq_conn_command(c, retry, argc, argv, NULL);
}
