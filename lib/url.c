/*
 * url.c - parse and redact queue URLs.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "url.h"

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..n) into a new string, or NULL on a bad escape or NUL. */
static char *
decode(const char *s, size_t n)
{
	char *out = ciq_malloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				goto bad;
			if ((*o++ = (char)(hi * 16 + lo)) == '\0')
				goto bad;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static int
parse_db(const char *s, size_t n, int *db)
{
	int v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*db = v;
	return 0;
}

static int
parse_query(const char *q, struct ciq_url *u, char err[CIQ_ERRLEN])
{
	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		size_t kn = eq ? (size_t)(eq - q) : n;
		const char *v = eq ? eq + 1 : q + n;
		size_t vn = (size_t)(q + n - v);

		if (kn == 2 && strncmp(q, "db", 2) == 0) {
			if (parse_db(v, vn, &u->db) == -1) {
				snprintf(err, CIQ_ERRLEN, "bad database number in ?db=");
				return -1;
			}
		} else if (kn == 8 && strncmp(q, "insecure", 8) == 0) {
			u->insecure = vn == 0 || (vn == 1 && *v == '1') || (vn == 4 && strncmp(v, "true", 4) == 0);
		} else if (kn == 4 && strncmp(q, "user", 4) == 0) {
			free(u->user);
			if ((u->user = decode(v, vn)) == NULL)
				goto bad_escape;
		} else if (kn == 8 && strncmp(q, "password", 8) == 0) {
			free(u->password);
			if ((u->password = decode(v, vn)) == NULL)
				goto bad_escape;
		} else {
			/* Not named: it may be the tail of a password with a raw
			 * '&' in it. */
			snprintf(err, CIQ_ERRLEN, "unknown option in the query: expected db, insecure, "
			    "user or password (percent-encode '&' and '=' in a value)");
			return -1;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
bad_escape:
	snprintf(err, CIQ_ERRLEN, "bad percent-escape in the query");
	return -1;
}

static int
parse_userinfo(const char *s, size_t n, struct ciq_url *u)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL)
		return (u->password = decode(s, n)) == NULL ? -1 : 0;
	/* redis://:secret@host is the usual "password only" form. */
	if (colon > s && (u->user = decode(s, (size_t)(colon - s))) == NULL)
		return -1;
	return (u->password = decode(colon + 1, (size_t)(s + n - colon - 1))) == NULL ? -1 : 0;
}

/* One host[:port] (or [v6]:port) of s[0..n) into node; port defaults to 6379. */
static int
parse_host(const char *s, size_t n, struct ciq_node *u, char err[CIQ_ERRLEN])
{
	const char *port = NULL;
	size_t hn = n;

	u->port = 6379;
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL) {
			snprintf(err, CIQ_ERRLEN, "unclosed '[' in the host");
			return -1;
		}
		u->host = ciq_memdup(s + 1, (size_t)(close - s));
		u->host[close - s - 1] = '\0';
		if (close + 1 < s + n) {
			if (close[1] != ':')
				goto bad_port;
			port = close + 2;
		}
	} else {
		const char *colon = memchr(s, ':', n);

		if (colon != NULL) {
			hn = (size_t)(colon - s);
			port = colon + 1;
		}
		u->host = ciq_memdup(s, hn + 1);
		u->host[hn] = '\0';
	}
	if (u->host[0] == '\0') {
		snprintf(err, CIQ_ERRLEN, "no host");
		return -1;
	}
	if (port != NULL) {
		long p = 0;

		if (port == s + n)
			goto bad_port;
		for (const char *q = port; q < s + n; q++) {
			if (!isdigit((unsigned char)*q) || (p = p * 10 + (*q - '0')) > 65535)
				goto bad_port;
		}
		if (p == 0)
			goto bad_port;
		u->port = (int)p;
	}
	return 0;
bad_port:
	snprintf(err, CIQ_ERRLEN, "bad port");
	return -1;
}

/* The comma-separated seed list s[0..n): host[:port][,host[:port]...]. */
static int
parse_hosts(const char *s, size_t n, struct ciq_url *u, char err[CIQ_ERRLEN])
{
	const char *end = s + n;

	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		size_t len = (size_t)((comma ? comma : end) - s);

		u->seeds = ciq_realloc(u->seeds, (u->nseeds + 1) * sizeof *u->seeds);
		u->seeds[u->nseeds].host = NULL;
		if (parse_host(s, len, &u->seeds[u->nseeds++], err) == -1)
			return -1;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	u->host = ciq_memdup(u->seeds[0].host, strlen(u->seeds[0].host) + 1);
	u->port = u->seeds[0].port;
	return 0;
}

int
ciq_url_parse(const char *s, struct ciq_url *u, char err[CIQ_ERRLEN])
{
	const char *rest, *q, *slash, *at;
	size_t auth_len;

	memset(u, 0, sizeof *u);
	u->port = 6379;
	if (strncmp(s, "redis://", 8) == 0) {
		u->scheme = CIQ_SCHEME_TCP;
		rest = s + 8;
	} else if (strncmp(s, "rediss://", 9) == 0) {
		u->scheme = CIQ_SCHEME_TLS;
		rest = s + 9;
	} else if (strncmp(s, "unix://", 7) == 0) {
		u->scheme = CIQ_SCHEME_UNIX;
		rest = s + 7;
	} else {
		snprintf(err, CIQ_ERRLEN, "unknown scheme: expected redis://, rediss:// or unix://");
		return -1;
	}
	q = strchr(rest, '?');
	if (q == NULL)
		q = rest + strlen(rest);

	if (u->scheme == CIQ_SCHEME_UNIX) {
		if (*rest != '/' || q == rest + 1) {
			snprintf(err, CIQ_ERRLEN, "expected an absolute socket path: unix:///path/to.sock");
			goto fail;
		}
		if ((u->path = decode(rest, (size_t)(q - rest))) == NULL) {
			snprintf(err, CIQ_ERRLEN, "bad percent-escape in the path");
			goto fail;
		}
	} else {
		slash = memchr(rest, '/', (size_t)(q - rest));
		auth_len = (size_t)((slash ? slash : q) - rest);
		/* The password may hold '@'; the host never does: split at the last one. */
		at = NULL;
		for (const char *p = rest; p < rest + auth_len; p++)
			if (*p == '@')
				at = p;
		if (at != NULL) {
			if (parse_userinfo(rest, (size_t)(at - rest), u) == -1) {
				snprintf(err, CIQ_ERRLEN, "bad percent-escape in the user or password");
				goto fail;
			}
			auth_len -= (size_t)(at + 1 - rest);
			rest = at + 1;
		}
		if (parse_hosts(rest, auth_len, u, err) == -1)
			goto fail;
		if (slash != NULL && slash + 1 < q && parse_db(slash + 1, (size_t)(q - slash - 1), &u->db) == -1) {
			snprintf(err, CIQ_ERRLEN, "bad database number after the host");
			goto fail;
		}
	}
	if (*q == '?' && parse_query(q + 1, u, err) == -1)
		goto fail;
	u->shown = ciq_url_redact(s);
	return 0;
fail:
	ciq_url_free(u);
	return -1;
}

void
ciq_url_free(struct ciq_url *u)
{
	free(u->host);
	for (size_t i = 0; i < u->nseeds; i++)
		free(u->seeds[i].host);
	free(u->seeds);
	free(u->path);
	free(u->user);
	if (u->password != NULL) {
		memset(u->password, 0, strlen(u->password));
		free(u->password);
	}
	free(u->shown);
	memset(u, 0, sizeof *u);
}

int
ciq_url_is_address(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/*
 * Redaction. The string may be anything a user typed, so nothing in it is
 * trusted to be where a valid URL would have it: every part that could
 * hold a secret is hidden unless it has the form of something harmless.
 */

/* 1 when s[0..n) is all digits (or empty). */
static int
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* 1 when s[0..n) is made of letters, digits and the bytes of extra only. */
static int
made_of(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && (s[i] == '\0' || strchr(extra, s[i]) == NULL))
			return 0;
	return 1;
}

/* Append s[0..n) at *o. */
static void
put(char **o, const char *s, size_t n)
{
	memcpy(*o, s, n);
	*o += n;
}

/* One node of the host list, host[:port] or [v6]:port: shown when it has
 * that form, else *** for what does not. */
static void
redact_node(char **o, const char *s, size_t n)
{
	size_t hn = n;
	const char *close = NULL;
	int bracket = n > 0 && s[0] == '[' && (close = memchr(s, ']', n)) != NULL;

	if (bracket)
		hn = (size_t)(close + 1 - s);
	else if ((close = memchr(s, ':', n)) != NULL)
		hn = (size_t)(close - s);
	if (bracket ? made_of(s + 1, hn - 1, ":.%]") : made_of(s, hn, ".-_"))
		put(o, s, hn);
	else
		put(o, "***", 3);
	if (hn == n)
		return;
	/* No host before it: no port either, but maybe a password. */
	if (hn > 0 && s[hn] == ':' && all_digits(s + hn + 1, n - hn - 1)) {
		put(o, s + hn, n - hn);
	} else {
		put(o, s + hn, s[hn] == ':');
		put(o, "***", 3);
	}
}

/* 1 when q[0..kn) names an option the parser knows. */
static int
known_option(const char *q, size_t kn)
{
	static const char *const names[] = { "db", "insecure", "user", "password" };

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (kn == strlen(names[i]) && strncmp(q, names[i], kn) == 0)
			return 1;
	return 0;
}

/* The query q (after '?'): the names of known options are shown; values
 * only those of db, insecure and user, and only when short and plain:
 * password='s value, an unknown option whole (name and value) are ***. */
static void
redact_query(char **o, const char *q)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		size_t kn = eq ? (size_t)(eq - q) : n, vn = eq ? n - kn - 1 : 0;
		int flag = kn == 8 && strncmp(q, "insecure", 8) == 0;
		int harmless = ((kn == 2 && strncmp(q, "db", 2) == 0) || flag) && vn <= 8 &&
		    made_of(q + kn + 1, vn, "");

		/* The user is no secret, as in user:***@host. */
		if (kn == 4 && strncmp(q, "user", 4) == 0)
			harmless = vn <= 64 && made_of(q + kn + 1, vn, "._-");

		if (n == 0) {
			/* an empty part: nothing to hide */
		} else if (eq == NULL && flag) {
			put(o, q, n);
		} else if (eq == NULL || !known_option(q, kn)) {
			/* An unknown name may be the tail of a password with a
			 * raw '&' in it. */
			put(o, "***", 3);
		} else {
			put(o, q, kn + 1);
			if (harmless)
				put(o, eq + 1, vn);
			else
				put(o, "***", 3);
		}
		q += n;
		if (*q == '&')
			put(o, q++, 1);
	}
}

char *
ciq_url_redact(const char *s)
{
	const char *auth = s, *p, *at = NULL, *colon, *end;
	size_t len = strlen(s);
	/* Each hidden part may grow to "***": 3 bytes per input byte is plenty. */
	char *out = ciq_malloc(3 * len + 8), *o = out;
	int unix_path = 0;

	/* The scheme, even mistyped: "redis://", "redis:/", "redis//",
	 * "redis:". The authority starts after it, or at the start. */
	if (isalpha((unsigned char)*s)) {
		for (p = s + 1; isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.'; p++)
			;
		if (*p == ':' || *p == '/') {
			unix_path = p - s == 4 && strncasecmp(s, "unix", 4) == 0;
			auth = p + (*p == ':');
			while (*auth == '/')
				auth++;
		}
	}
	/* A unix socket path has no user or host; one with an '@' may be a
	 * mistyped user and password, and is treated as such. */
	if (unix_path && auth > s && auth[-1] == '/' && memchr(auth, '@', strcspn(auth, "?")) == NULL) {
		auth--;
		end = auth + strcspn(auth, "?");
		put(&o, s, (size_t)(end - s));
	} else {
		put(&o, s, (size_t)(auth - s));
		/* The password may hold any byte, '@', '/' and '?' too: all up
		 * to the last '@' of the string may be it. A user before a ':'
		 * is shown, as the parser reads it. */
		for (p = auth; *p; p++)
			if (*p == '@')
				at = p;
		if (at != NULL) {
			const char *query = memchr(auth, '?', (size_t)(at - auth));

			colon = memchr(auth, ':', (size_t)(at - auth));
			if (colon != NULL && query == NULL && made_of(auth, (size_t)(colon - auth), "._-%~"))
				put(&o, auth, (size_t)(colon + 1 - auth));
			put(&o, "***@", 4);
			auth = at + 1;
			/* An '@' past a '?' may be inside a query value, whose
			 * rest runs to the next '&': hidden too. */
			if (query != NULL) {
				end = auth + strcspn(auth, "&");
				if (end > auth)
					put(&o, "***", 3);
				if (*end == '&') {
					put(&o, "&", 1);
					redact_query(&o, end + 1);
				}
				*o = '\0';
				return out;
			}
		}
		/* The hosts: "host:port" where the '@' was forgotten holds a
		 * password where the port should be. */
		end = auth + strcspn(auth, "/?");
		for (p = auth; p < end; ) {
			size_t n = strcspn(p, ",/?");

			redact_node(&o, p, n);
			p += n;
			if (*p == ',')
				put(&o, p++, 1);
		}
		/* The db: digits, else hidden. */
		if (*end == '/') {
			p = end + 1;
			end = p + strcspn(p, "?");
			put(&o, "/", 1);
			if (all_digits(p, (size_t)(end - p)))
				put(&o, p, (size_t)(end - p));
			else
				put(&o, "***", 3);
		}
	}
	if (*end == '?') {
		put(&o, "?", 1);
		redact_query(&o, end + 1);
	}
	*o = '\0';
	return out;
}
