/*
 * t_url.c - url.h: schemes, userinfo, escapes, IPv6, ports, db, query
 * options, seed lists, every error, and that no password is ever shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "unit.h"

/* Parse s, which must parse; u to be freed by the caller. */
static int
ok(const char *s, struct ciq_url *u)
{
	char err[CIQ_ERRLEN] = "";
	int rc = ciq_url_parse(s, u, err);

	unit_check(rc == 0, __FILE__, __LINE__, "\"%s\" does not parse: %s", s, err);
	return rc == 0;
}

/* s must not parse, with a message holding want. */
static void
bad(const char *s, const char *want)
{
	struct ciq_url u;
	char err[CIQ_ERRLEN] = "";
	int rc = ciq_url_parse(s, &u, err);

	unit_check(rc == -1, __FILE__, __LINE__, "\"%s\" parses", s);
	if (rc == 0) {
		ciq_url_free(&u);
		return;
	}
	unit_check(strstr(err, want) != NULL, __FILE__, __LINE__,
	    "\"%s\": message \"%s\", expected \"%s\"", s, err, want);
	/* Freed and zeroed on failure. */
	CHECK(u.host == NULL && u.seeds == NULL && u.password == NULL && u.shown == NULL);
}

static void
redacts(const char *s, const char *want)
{
	char *r = ciq_url_redact(s);

	unit_check(strcmp(r, want) == 0, __FILE__, __LINE__, "redact \"%s\" is \"%s\", expected \"%s\"",
	    s, r, want);
	free(r);
}

/* Neither the message, nor shown, nor the redacted string of s holds any
 * of the secrets (a NULL-terminated list). */
static void
hides(const char *s, const char *const *secrets)
{
	struct ciq_url u;
	char err[CIQ_ERRLEN] = "";
	char *r = ciq_url_redact(s);
	int rc = ciq_url_parse(s, &u, err);
	const char *shown = rc == 0 ? u.shown : err;

	for (const char *const *p = secrets; *p; p++) {
		unit_check(strstr(r, *p) == NULL, __FILE__, __LINE__,
		    "redact \"%s\" shows \"%s\": %s", s, *p, r);
		unit_check(strstr(shown, *p) == NULL, __FILE__, __LINE__,
		    "%s of \"%s\" shows \"%s\": %s", rc == 0 ? "shown" : "message", s, *p, shown);
	}
	free(r);
	if (rc == 0)
		ciq_url_free(&u);
}

static void
parses(void)
{
	struct ciq_url u;

	if (ok("redis://localhost", &u)) {
		CHECK(u.scheme == CIQ_SCHEME_TCP);
		CHECK_STR(u.host, "localhost");
		CHECK(u.port == 6379 && u.db == 0 && u.insecure == 0 && u.nseeds == 1);
		CHECK(u.user == NULL && u.password == NULL && u.path == NULL);
		CHECK_STR(u.seeds[0].host, "localhost");
		CHECK_STR(u.shown, "redis://localhost");
		ciq_url_free(&u);
		CHECK(u.host == NULL && u.shown == NULL);
	}
	if (ok("redis://h.example.com:6380/3", &u)) {
		CHECK_STR(u.host, "h.example.com");
		CHECK(u.port == 6380 && u.db == 3);
		ciq_url_free(&u);
	}
	if (ok("redis://h/", &u)) {
		CHECK(u.db == 0 && u.port == 6379);
		ciq_url_free(&u);
	}
	if (ok("redis://h:65535/99999", &u)) {
		CHECK(u.port == 65535 && u.db == 99999);
		ciq_url_free(&u);
	}
	if (ok("rediss://u:p@h", &u)) {
		CHECK(u.scheme == CIQ_SCHEME_TLS);
		CHECK_STR(u.user, "u");
		CHECK_STR(u.password, "p");
		CHECK_STR(u.shown, "rediss://u:***@h");
		ciq_url_free(&u);
	}
	/* Password only, both ways. */
	if (ok("redis://:secret@h", &u)) {
		CHECK(u.user == NULL);
		CHECK_STR(u.password, "secret");
		ciq_url_free(&u);
	}
	if (ok("redis://secret@h", &u)) {
		CHECK(u.user == NULL);
		CHECK_STR(u.password, "secret");
		CHECK_STR(u.shown, "redis://***@h");
		ciq_url_free(&u);
	}
	if (ok("redis://u:@h", &u)) {
		CHECK_STR(u.user, "u");
		CHECK_STR(u.password, "");
		ciq_url_free(&u);
	}
	/* Escapes; the last '@' ends the userinfo; a ':' in the password. */
	if (ok("redis://us%40er:p%3Ass%2F%25@h", &u)) {
		CHECK_STR(u.user, "us@er");
		CHECK_STR(u.password, "p:ss/%");
		ciq_url_free(&u);
	}
	if (ok("redis://u:p@ss@h:7000", &u)) {
		CHECK_STR(u.password, "p@ss");
		CHECK_STR(u.host, "h");
		CHECK(u.port == 7000);
		ciq_url_free(&u);
	}
	if (ok("redis://u:a:b@h", &u)) {
		CHECK_STR(u.user, "u");
		CHECK_STR(u.password, "a:b");
		ciq_url_free(&u);
	}
	if (ok("redis://u:%c3%A9@h", &u)) {
		CHECK_STR(u.password, "\xc3\xa9");
		ciq_url_free(&u);
	}
	/* IPv6. */
	if (ok("redis://[::1]:7000/2", &u)) {
		CHECK_STR(u.host, "::1");
		CHECK(u.port == 7000 && u.db == 2);
		CHECK_STR(u.shown, "redis://[::1]:7000/2");
		ciq_url_free(&u);
	}
	if (ok("redis://u:p@[::ffff:10.0.0.1]", &u)) {
		CHECK_STR(u.host, "::ffff:10.0.0.1");
		CHECK(u.port == 6379);
		ciq_url_free(&u);
	}
	CHECK(ciq_url_is_address("::1") == 1);
	CHECK(ciq_url_is_address("127.0.0.1") == 1);
	CHECK(ciq_url_is_address("2001:db8::8a2e:370:7334") == 1);
	CHECK(ciq_url_is_address("localhost") == 0);
	CHECK(ciq_url_is_address("1.2.3") == 0);
	CHECK(ciq_url_is_address("") == 0);
	/* unix. */
	if (ok("unix:///tmp/r.sock?db=2", &u)) {
		CHECK(u.scheme == CIQ_SCHEME_UNIX);
		CHECK_STR(u.path, "/tmp/r.sock");
		CHECK(u.db == 2 && u.nseeds == 0 && u.host == NULL);
		CHECK_STR(u.shown, "unix:///tmp/r.sock?db=2");
		ciq_url_free(&u);
	}
	if (ok("unix:///tmp/a%20b.sock?password=x%26y", &u)) {
		CHECK_STR(u.path, "/tmp/a b.sock");
		CHECK_STR(u.password, "x&y");
		ciq_url_free(&u);
	}
	/* Query options; the query overrides the userinfo. */
	if (ok("redis://a:b@h?db=5&insecure=1&user=bob&password=s%26cret", &u)) {
		CHECK(u.db == 5 && u.insecure == 1);
		CHECK_STR(u.user, "bob");
		CHECK_STR(u.password, "s&cret");
		CHECK_STR(u.shown, "redis://a:***@h?db=5&insecure=1&user=bob&password=***");
		ciq_url_free(&u);
	}
	if (ok("rediss://h?insecure", &u)) {
		CHECK(u.insecure == 1);
		ciq_url_free(&u);
	}
	if (ok("rediss://h?insecure=true&", &u)) {
		CHECK(u.insecure == 1);
		ciq_url_free(&u);
	}
	if (ok("rediss://h?insecure=0", &u)) {
		CHECK(u.insecure == 0);
		ciq_url_free(&u);
	}
	if (ok("redis://h/1?db=4", &u)) {
		CHECK(u.db == 4);
		ciq_url_free(&u);
	}
	if (ok("redis://h?", &u)) {
		CHECK(u.db == 0);
		ciq_url_free(&u);
	}
	/* Seed lists. */
	if (ok("redis://host1:1,host2:2,host3", &u)) {
		CHECK(u.nseeds == 3);
		CHECK_STR(u.host, "host1");
		CHECK(u.port == 1);
		if (u.nseeds == 3) {
			CHECK_STR(u.seeds[1].host, "host2");
			CHECK(u.seeds[1].port == 2);
			CHECK_STR(u.seeds[2].host, "host3");
			CHECK(u.seeds[2].port == 6379);
		}
		CHECK_STR(u.shown, "redis://host1:1,host2:2,host3");
		ciq_url_free(&u);
	}
	if (ok("redis://u:p@[::1]:7000,[::2]:7001/1", &u)) {
		CHECK(u.nseeds == 2 && u.db == 1);
		if (u.nseeds == 2) {
			CHECK_STR(u.seeds[1].host, "::2");
			CHECK(u.seeds[1].port == 7001);
		}
		CHECK_STR(u.password, "p");
		ciq_url_free(&u);
	}
}

static void
errors(void)
{
	bad("http://h", "unknown scheme");
	bad("", "unknown scheme");
	bad("REDIS://h", "unknown scheme");
	bad("redis:/h", "unknown scheme");
	bad("redis://", "no host");
	bad("redis://:6379", "no host");
	bad("redis://u:p@", "no host");
	bad("redis://[]:1", "no host");
	bad("redis://h1,,h2", "no host");
	bad("redis://h1:1,", "no host");
	bad("redis://h:", "bad port");
	bad("redis://h:0", "bad port");
	bad("redis://h:65536", "bad port");
	bad("redis://h:99999999999999999999", "bad port");
	bad("redis://h:12a", "bad port");
	bad("redis://h:-1", "bad port");
	bad("redis://h1:1,h2:x", "bad port");
	bad("redis://[::1", "unclosed '['");
	bad("redis://[::1]x", "bad port");
	bad("redis://[::1]:", "bad port");
	bad("redis://h/abc", "bad database number after the host");
	bad("redis://h/123456", "bad database number after the host");
	bad("redis://h/-1", "bad database number after the host");
	bad("redis://h?db=x", "bad database number in ?db=");
	bad("redis://h?db=", "bad database number in ?db=");
	bad("redis://h?db", "bad database number in ?db=");
	bad("redis://h?foo=1", "unknown option");
	bad("redis://h?DB=1", "unknown option");
	bad("redis://h?password=a&b", "unknown option");
	bad("redis://u:%zz@h", "bad percent-escape in the user or password");
	bad("redis://u:%4@h", "bad percent-escape in the user or password");
	bad("redis://u:%00@h", "bad percent-escape in the user or password");
	bad("redis://%@h", "bad percent-escape in the user or password");
	bad("redis://h?password=%4", "bad percent-escape in the query");
	bad("redis://h?user=%00", "bad percent-escape in the query");
	bad("unix://relative.sock", "absolute socket path");
	bad("unix://", "absolute socket path");
	bad("unix:///", "absolute socket path");
	bad("unix:///?db=1", "absolute socket path");
	bad("unix:///a%zz", "bad percent-escape in the path");
	bad("unix:///a%00b", "bad percent-escape in the path");
	bad("unix:///a?db=1x", "bad database number in ?db=");
}

static void
redaction(void)
{
	redacts("redis://u:p@h:6379/0", "redis://u:***@h:6379/0");
	redacts("redis://h?db=2&password=x", "redis://h?db=2&password=***");
	redacts("unix:///tmp/s.sock?db=1", "unix:///tmp/s.sock?db=1");
	redacts("redis://h1:1,h2:2", "redis://h1:1,h2:2");
	redacts("redis://h:secret", "redis://h:***");
	redacts("redis://h/secret", "redis://h/***");
	redacts("redis://h?insecure&user=bob", "redis://h?insecure&user=bob");
	redacts("", "");

	/* Where a password may hide, right or wrong. */
	static const char *const one[] = { "s3cr3t", NULL };
	static const char *const tricky[] = {
		"redis://user:s3cr3t@host:6379/0",
		"redis://:s3cr3t@host",
		"redis://s3cr3t@host",
		"rediss://user:s3cr3t@host",
		"redis://user:s3cr3t@@host",
		"redis://user:p@s3cr3t@host",
		"redis://user:s3cr3t@",
		"redis://us:er:s3cr3t@h",
		"redis://host:s3cr3t",
		"redis://[::1]:s3cr3t",
		"redis://h1:1,h2:s3cr3t",
		"redis://h1:1,s3cr3t@h2:2",
		"redis://host/s3cr3t",
		"redis://user:s3cr3t/x@host",
		"redis://user:x/s3cr3t@host",
		"redis://user:s3cr3t?x@host",
		"redis://user:x?s3cr3t@host",
		"redis://user:s3cr3t,x@host",
		"redis://user:s3cr3t#x@host",
		"redis://user:s3cr3t%@host",
		"redis://h?password=s3cr3t",
		"redis://h?db=1&password=s3cr3t&user=bob",
		"redis://h?&password=s3cr3t&&",
		"redis://h?password",
		"redis://h?x=s3cr3t",
		"redis://h?s3cr3t",
		"redis://h?insecure&password=s3cr3t",
		"redis://h?passwor=s3cr3t",
		"redis://h?user=s3cr3t@x",
		"redis://u:s3cr3t@h?user=x@y",
		"redis://h?password=x@s3cr3t",
		"redis:/user:s3cr3t@host",
		"redis//user:s3cr3t@host",
		"redis:user:s3cr3t@host",
		"REDIS://user:s3cr3t@host",
		"http://user:s3cr3t@host",
		"user:s3cr3t@host",
		":s3cr3t@host",
		"s3cr3t@",
		"unix://user:s3cr3t@/tmp/sock",
		"unix:///tmp/sock?password=s3cr3t",
		"unix:///tmp/s@ck?password=s3cr3t",
		"unix:user:s3cr3t@/tmp/sock",
		"redis://user:s3cr3t@h1,h2",
		"redis://user:s3cr3t@[::1",
		"redis://user:s3cr3t@h:bad",
		"redis://user:s3cr3t@h/bad",
		"redis://user:s3cr3t@h?bad=1",
	};

	for (size_t i = 0; i < sizeof tricky / sizeof *tricky; i++)
		hides(tricky[i], one);
	/* Percent-encoded, it shows neither way. */
	{
		static const char *const both[] = { "s3cr3t", "s3%63r3t", NULL };

		hides("redis://u:s3%63r3t@h", both);
		hides("redis://h?password=s3%63r3t", both);
	}
	/* A raw '&' cuts a password in the query: neither part shows. */
	{
		static const char *const parts[] = { "abc123", "xyz789", NULL };

		hides("redis://h?password=abc123&xyz789", parts);
		hides("redis://h?password=abc123&xyz789=1&db=2", parts);
		hides("redis://h?user=bob&password=abc123&xyz789&db=1", parts);
	}
}

/* URLs made at random (a fixed seed) from pieces: whenever one parses
 * with a password, shown does not hold it. */
static void
random_urls(void)
{
	static const char *const pieces[] = {
		"redis://", "rediss://", "unix://", "/", "u", ":", "@", "PWsecret", "h",
		":6379", "?", "password=", "&", "db=1", "user=", ",", "[::1]", "%41", "%",
		"insecure", "=", "x@y",
	};
	const size_t np = sizeof pieces / sizeof *pieces;
	unsigned long long seed = 7;
	size_t leaks = 0, parsed = 0, tries = 100000;

	for (size_t t = 0; t < tries; t++) {
		char s[256] = "";
		struct ciq_url u;
		char err[CIQ_ERRLEN] = "";
		size_t n;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		n = 2 + (size_t)(seed >> 60) % 6;
		strcat(s, pieces[(seed >> 33) % 3]);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			strcat(s, pieces[(seed >> 33) % np]);
		}
		if (ciq_url_parse(s, &u, err) == -1) {
			leaks += strstr(err, "PW") != NULL;
			continue;
		}
		parsed++;
		/* The hosts and the user are shown: they must not hold it. */
		int shown_part = u.user != NULL && strstr(u.user, "PW") != NULL;

		for (size_t i = 0; i < u.nseeds; i++)
			shown_part |= strstr(u.seeds[i].host, "PW") != NULL;
		if (!shown_part && u.password != NULL && strstr(u.password, "PW") &&
		    strstr(u.shown, "PW")) {
			if (leaks++ < 5)
				unit_check(0, __FILE__, __LINE__, "shown \"%s\" holds the password of \"%s\"",
				    u.shown, s);
		}
		ciq_url_free(&u);
	}
	CHECK(leaks == 0);
	CHECK(parsed > tries / 20);
}

void
test_url(void)
{
	parses();
	errors();
	redaction();
	random_urls();
}
