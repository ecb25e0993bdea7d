/*
 * url.h - queue URLs.
 *
 *   redis://[user[:password]@]host[:port][,host[:port]...][/db][?option=value&...]
 *   rediss://...                     the same, over TLS
 *   unix:///path/to.sock[?db=N&...]
 *
 * Options: db=N, insecure=1 (TLS without verifying the server),
 * user=NAME and password=SECRET (percent-encoded like the userinfo).
 *
 * Several comma-separated hosts are seed nodes of a Redis Cluster: the
 * connection starts at the first that answers and follows the cluster's
 * redirects from there (conn.h). A single host is a plain server, or any
 * one node of a cluster.
 */
#ifndef CIQ_URL_H
#define CIQ_URL_H

#include "errlen.h"

enum ciq_scheme {
	CIQ_SCHEME_TCP,   /* redis:// */
	CIQ_SCHEME_TLS,   /* rediss:// */
	CIQ_SCHEME_UNIX   /* unix:// */
};

/* A server to connect to: a seed node of the URL, or a cluster node. */
struct ciq_node {
	char *host;      /* name or address, without brackets */
	int port;
};

struct ciq_url {
	enum ciq_scheme scheme;
	char *host;      /* TCP and TLS: the first seed's host (a copy of seeds[0].host) */
	int port;        /* TCP and TLS: the first seed's port, default 6379 */
	struct ciq_node *seeds; /* TCP and TLS: every host the URL names, in order */
	size_t nseeds;   /* at least 1 for TCP and TLS; 0 for unix */
	char *path;      /* unix: socket path */
	char *user;      /* ACL user, or NULL */
	char *password;  /* or NULL */
	int db;          /* SELECT this database when not 0 */
	int insecure;    /* TLS: accept any certificate */
	char *shown;     /* the URL as messages may show it: password as *** */
};

/*
 * Parse s into u. Returns 0, or -1 with a message in err that never
 * contains the password. On success free u with ciq_url_free().
 */
int ciq_url_parse(const char *s, struct ciq_url *u, char err[CIQ_ERRLEN]);

/* Release what ciq_url_parse allocated. Can't fail. */
void ciq_url_free(struct ciq_url *u);

/* 1 when host is an IPv4 or IPv6 address, 0 for a name. */
int ciq_url_is_address(const char *host);

/*
 * The URL s with any password replaced by ***, in a new string the caller
 * frees. Works on strings that do not parse, for messages about them.
 */
char *ciq_url_redact(const char *s);

#endif
