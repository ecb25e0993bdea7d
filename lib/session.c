/*
 * session.c - open a build, run its scripts, turn failures into exit
 * statuses.
 */
#include <stdio.h>
#include <string.h>

#include "exit.h"
#include "session.h"

int
ciq_session_fail(struct ciq_session *s, char err[CIQ_ERRLEN])
{
	const char *shown = s->conn.url.shown ? s->conn.url.shown : "?";

	switch (s->conn.err) {
	case CIQ_CONN_CONFIG:
		snprintf(err, CIQ_ERRLEN, "invalid queue URL: %s", s->conn.errstr);
		return CIQ_EX_CONFIG;
	case CIQ_CONN_AUTH:
		snprintf(err, CIQ_ERRLEN, "cannot log in to '%s': %s", shown, s->conn.errstr);
		return CIQ_EX_CONFIG;
	case CIQ_CONN_SETUP:
		snprintf(err, CIQ_ERRLEN, "cannot connect to '%s': %s", shown, s->conn.errstr);
		return CIQ_EX_CONFIG;
	case CIQ_CONN_PROTOCOL:
		snprintf(err, CIQ_ERRLEN, "bad reply from '%s': %s", shown, s->conn.errstr);
		return CIQ_EX_SOFTWARE;
	default:
		snprintf(err, CIQ_ERRLEN, "cannot reach '%s': %s", shown, s->conn.errstr);
		return CIQ_EX_UNAVAILABLE;
	}
}

int
ciq_session_refused(struct ciq_session *s, const redisReply *r, const char *what,
    char err[CIQ_ERRLEN])
{
	const char *user = s->conn.url.user != NULL ? s->conn.url.user :
	    ciq_conf_get(s->conf, CIQ_K_USER);
	/* A script's error ends with " script: SHA, on @user_script:N.". */
	const char *tail = strstr(r->str, " script: ");
	int n = tail != NULL ? (int)(tail - r->str) : (int)strlen(r->str);
	/* Commands and keys refused outright say NOPERM, and name them; a
	 * command refused inside a script says "can't run", and the server
	 * says which when asked (acl.lua). */
	int in_script = strstr(r->str, "can't run this command") != NULL;
	char lacks[512] = "";

	if (in_script)
		ciq_script_refused(&s->conn, lacks, sizeof lacks);
	if (lacks[0] != '\0') {
		snprintf(err, CIQ_ERRLEN, "the server's ACL does not let user '%s' run %s, which %s "
		    "needs (%.*s): give the user the rule under ACL in ciq(7)",
		    user != NULL ? user : "default", lacks, what, n, r->str);
		return CIQ_EX_CONFIG;
	}
	if (strncmp(r->str, "NOPERM", 6) == 0 || in_script) {
		snprintf(err, CIQ_ERRLEN, "the server's ACL does not let user '%s' do what %s needs "
		    "(%.*s): give the user the rule under ACL in ciq(7)", user != NULL ? user : "default",
		    what, n, r->str);
		return CIQ_EX_CONFIG;
	}
	if (strstr(r->str, "WRONGTYPE") != NULL)
		snprintf(err, CIQ_ERRLEN, "a key under '%s' holds the wrong type of value "
		    "(written by another program?): %s", s->keys.prefix, r->str);
	else
		snprintf(err, CIQ_ERRLEN, "the server refused %s: %s", what, r->str);
	return CIQ_EX_SOFTWARE;
}

int
ciq_session_open(struct ciq_session *s, struct ciq_conf *conf, unsigned need,
    char err[CIQ_ERRLEN])
{
	memset(s, 0, sizeof *s);
	s->conn.tr.fd = -1;
	s->conf = conf;
	ciq_conf_resolve(conf);
	if (ciq_conf_check(conf, need, err) == -1)
		return CIQ_EX_CONFIG;
	s->worker = ciq_conf_get(conf, CIQ_K_WORKER);
	if (s->worker == NULL || !(need & CIQ_NEED(CIQ_K_WORKER)))
		s->worker = "";
	s->build = ciq_conf_get(conf, CIQ_K_BUILD);
	ciq_keys_init(&s->keys, ciq_conf_get(conf, CIQ_K_NAMESPACE), s->build);
	if (ciq_conn_open(&s->conn, conf) == -1) {
		if (s->conn.err == CIQ_CONN_UNREACHABLE) {
			snprintf(err, CIQ_ERRLEN, "cannot connect to '%s': %s",
			    s->conn.url.shown, s->conn.errstr);
			return CIQ_EX_UNAVAILABLE;
		}
		return ciq_session_fail(s, err);
	}
	return CIQ_EX_OK;
}

void
ciq_session_close(struct ciq_session *s)
{
	ciq_conn_close(&s->conn);
	ciq_keys_free(&s->keys);
}

const char *
ciq_reply_str(const redisReply *r, size_t i)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
		return "";
	r = r->element[i];
	if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
		return "";
	return r->str;
}

int
ciq_session_check(struct ciq_session *s, const redisReply *r, int nested, int *rc,
    char err[CIQ_ERRLEN])
{
	size_t strings = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;

	/* A reply within the last element is checked by its reader. */
	if (nested && strings > 1 && r->element[strings - 1]->type == REDIS_REPLY_ARRAY)
		strings--;
	for (size_t i = 0; i < strings; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING)
			strings = 0;
	if (strings == 0) {
		snprintf(err, CIQ_ERRLEN, "unexpected reply from the server");
		*rc = CIQ_EX_SOFTWARE;
		return -1;
	}
	if (strcmp(r->element[0]->str, "stale") == 0) {
		snprintf(err, CIQ_ERRLEN, "a newer call of worker '%s' already ran on build '%s': "
		    "is another job running with the same worker id, or did this machine's clock "
		    "go back?", s->worker, s->build);
		*rc = CIQ_EX_SOFTWARE;
		return -1;
	}
	if (strcmp(r->element[0]->str, "gone") == 0) {
		snprintf(err, CIQ_ERRLEN, "no queue for build '%s': never populated, or its keys "
		    "expired, were evicted or flushed", s->build);
		*rc = CIQ_EX_VANISHED;
		return -1;
	}
	return 0;
}

redisReply *
ciq_session_run(struct ciq_session *s, enum ciq_script sc, int argc,
    const char **argv, const size_t *lens, int *rc, char err[CIQ_ERRLEN])
{
	redisReply *r = ciq_script_run(&s->conn, &s->keys, sc, s->worker, argc, argv, lens);

	if (r == NULL) {
		*rc = ciq_session_fail(s, err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		*rc = ciq_session_refused(s, r, "a script", err);
		goto fail;
	}
	/* next.lua's last element is pop.lua's reply. */
	if (ciq_session_check(s, r, sc == CIQ_S_NEXT, rc, err) == -1)
		goto fail;
	return r;
fail:
	freeReplyObject(r);
	return NULL;
}
