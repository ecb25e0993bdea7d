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
			snprintf(err, CIQ_ERRLEN, "unknown option '%.*s'", (int)(kn > 40 ? 40 : kn), q);
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

static int
parse_host(const char *s, size_t n, struct ciq_url *u, char err[CIQ_ERRLEN])
{
	const char *port = NULL;
	size_t hn = n;

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
		if (parse_host(rest, auth_len, u, err) == -1)
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
ciq_url_host_is_address(const struct ciq_url *u)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, u->host, addr) == 1 || inet_pton(AF_INET6, u->host, addr) == 1;
}

char *
ciq_url_redact(const char *s)
{
	const char *scheme = strstr(s, "://");
	const char *auth = scheme ? scheme + 3 : s;
	size_t auth_len = strcspn(auth, "/?");
	const char *at = NULL, *colon, *p;
	/* Each hidden secret may grow to "***": 3 bytes per input byte is plenty. */
	char *out = ciq_malloc(3 * strlen(s) + 8), *o = out;

	for (p = auth; p < auth + auth_len; p++)
		if (*p == '@')
			at = p;
	p = s;
	if (at != NULL) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		p = colon != NULL ? colon + 1 : auth;
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		memcpy(o, "***", 3);
		o += 3;
		p = at;
	}
	/* A ?password=... in the query is hidden too. */
	for (; *p; p++) {
		*o++ = *p;
		if ((*p == '?' || *p == '&') && strncmp(p + 1, "password=", 9) == 0) {
			memcpy(o, "password=***", 12);
			o += 12;
			p += 9 + strcspn(p + 10, "&");
		}
	}
	*o = '\0';
	return out;
}
