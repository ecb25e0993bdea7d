/*
 * conn.c - talk to the queue server: connect, authenticate, select,
 * send commands, read replies, reconnect.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "backoff.h"
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

redisReply *
ciq_conn_reply(struct ciq_conn *c)
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
	return ciq_conn_reply(c);
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

			snprintf(msg, sizeof msg, "cannot select database %d: %s", c->url.db, r->str);
			fail(c, strncmp(r->str, "NOAUTH", 6) == 0 ? CIQ_CONN_AUTH : CIQ_CONN_CONFIG, msg);
			freeReplyObject(r);
			drop(c);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

static int
connect_once(struct ciq_conn *c)
{
	char err[CIQ_ERRLEN];

	drop(c);
	switch (ciq_transport_open(&c->tr, &c->url, c->connect_ms, err)) {
	case 0:
		break;
	case -2:
		/* A TLS setting or a URL scheme that will never work: final
		 * (exit 78), not worth a retry. */
		fail(c, CIQ_CONN_SETUP, err);
		return -1;
	default:
		fail(c, CIQ_CONN_UNREACHABLE, err);
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

/* Reconnect with backoff until the budget is spent; auth errors are final. */
static int
reconnect(struct ciq_conn *c, long long budget_ms, int max_tries)
{
	long long deadline = ciq_now_ms() + budget_ms;
	struct ciq_backoff b;

	ciq_backoff_init(&b, 100, 2000);
	for (int tries = 1;; tries++) {
		long long d;

		if (connect_once(c) == 0)
			return 0;
		if (c->err == CIQ_CONN_AUTH || c->err == CIQ_CONN_SETUP)
			return -1;
		if (max_tries > 0 && tries >= max_tries)
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
	ciq_url_free(&c->url);
}

/* Error replies that mean "not executed, try again shortly". */
static int
transient(const redisReply *r)
{
	static const char *const prefixes[] = { "LOADING", "BUSY ", "MASTERDOWN", "TRYAGAIN" };

	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
		if (strncmp(r->str, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

redisReply *
ciq_conn_command(struct ciq_conn *c, enum ciq_retry retry, int argc,
    const char **argv, const size_t *lens)
{
	long long deadline = ciq_now_ms() + c->reconnect_ms;
	struct ciq_backoff b;
	redisReply *r;

	ciq_backoff_init(&b, 100, 2000);
	for (;;) {
		if (c->reader == NULL && reconnect(c, deadline - ciq_now_ms(), 0) == -1)
			return NULL;
		r = roundtrip(c, argc, argv, lens);
		/* Redis 7 answers a long command from a client that has not
		 * logged in with a protocol error rather than NOAUTH. */
		if (r != NULL && r->type == REDIS_REPLY_ERROR && (strncmp(r->str, "NOAUTH", 6) == 0 ||
		    strstr(r->str, "unauthenticated") != NULL)) {
			freeReplyObject(r);
			fail(c, CIQ_CONN_AUTH, "the server requires a password: set CIQ_PASSWORD or put it in the URL");
			return NULL;
		}
		if (r != NULL && !transient(r))
			return r;
		if (r == NULL && (retry == CIQ_ONCE || c->err != CIQ_CONN_UNREACHABLE))
			return NULL;
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
