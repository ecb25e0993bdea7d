/*
 * fuzz_url.c - libFuzzer harness for the queue URL parser (lib/url.c).
 *
 * The input, up to its first NUL, is a URL. ciq_url_redact must take
 * anything; ciq_url_parse must either fail with a message or give a URL
 * that holds together: a host or a socket path as the scheme wants, a
 * port and a database in range, and a shown form equal to the redacted
 * input.
 *
 * The secret check: the redacted URL may not contain the password. A
 * short password may turn up by chance in the host or the path, and a
 * percent-encoded one has no literal copy to hide, so the check is made
 * when the password has at least 4 bytes, no '*' (which "***" could
 * complete), occurs exactly once in the input and the input has no '%'.
 * In any case redaction may not add copies of it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_url: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	if (*needle == '\0')
		return 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
check_secret(const char *s, const char *secret, const char *redacted)
{
	if (secret == NULL || *secret == '\0' || strchr(secret, '*') != NULL)
		return;
	CHECK(count(redacted, secret) <= count(s, secret));
	if (strlen(secret) >= 4 && count(s, secret) == 1 && strchr(s, '%') == NULL)
		CHECK(strstr(redacted, secret) == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *redacted;
	char err[CIQ_ERRLEN];
	struct ciq_url u;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	redacted = ciq_url_redact(s);
	CHECK(redacted != NULL);
	CHECK(strlen(redacted) <= 3 * strlen(s) + 7);

	err[0] = '\0';
	if (ciq_url_parse(s, &u, err) == -1) {
		CHECK(err[0] != '\0' && memchr(err, '\0', CIQ_ERRLEN) != NULL);
		/* A failed parse leaves nothing to free. */
		CHECK(u.host == NULL && u.path == NULL && u.user == NULL &&
		    u.password == NULL && u.shown == NULL);
		goto done;
	}
	switch (u.scheme) {
	case CIQ_SCHEME_TCP:
	case CIQ_SCHEME_TLS:
		CHECK(u.host != NULL && u.host[0] != '\0' && u.path == NULL);
		CHECK(u.port >= 1 && u.port <= 65535);
		break;
	case CIQ_SCHEME_UNIX:
		CHECK(u.path != NULL && u.path[0] == '/' && u.host == NULL);
		break;
	default:
		CHECK(!"unknown scheme");
	}
	CHECK(u.db >= 0 && u.db <= 99999);
	CHECK(u.insecure == 0 || u.insecure == 1);
	CHECK(u.shown != NULL && strcmp(u.shown, redacted) == 0);
	check_secret(s, u.password, u.shown);
	ciq_url_free(&u);
	CHECK(u.host == NULL && u.password == NULL && u.shown == NULL);
done:
	free(redacted);
	free(s);
	return 0;
}
