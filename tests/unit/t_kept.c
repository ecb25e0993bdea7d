/*
 * t_kept.c - kept.h: a kept reply made the array it stands for, flat and
 * nested (next.lua's), with empty strings; next.lua's replies without a
 * count of ack.lua's strings (no count, a count too large or negative)
 * flat, as any other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kept.h"
#include "unit.h"

/* A string reply holding s[0..n), as hiredis reads one. */
static redisReply *
string_reply(const char *s, size_t n)
{
	char head[32];
	redisReader *rd = redisReaderCreate();
	void *r = NULL;

	snprintf(head, sizeof head, "$%zu\r\n", n);
	redisReaderFeed(rd, head, strlen(head));
	redisReaderFeed(rd, s, n);
	redisReaderFeed(rd, "\r\n", 2);
	redisReaderGetReply(rd, &r);
	redisReaderFree(rd);
	return r;
}

/* The reply as text: strings quoted, a NUL in them as \0, arrays as
 * [a|b|...]. */
static void
show(const redisReply *r, char *out, size_t cap)
{
	size_t len = strlen(out);

	if (r->type == REDIS_REPLY_STRING) {
		snprintf(out + len, cap - len, "'");
		for (size_t i = 0; i < r->len; i++)
			snprintf(out + strlen(out), cap - strlen(out), r->str[i] ? "%c" : "\\0",
			    r->str[i]);
		snprintf(out + strlen(out), cap - strlen(out), "'");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		snprintf(out + len, cap - len, "?");
		return;
	}
	snprintf(out + len, cap - len, "[");
	for (size_t i = 0; i < r->elements; i++) {
		if (i > 0)
			snprintf(out + strlen(out), cap - strlen(out), "|");
		show(r->element[i], out, cap);
	}
	snprintf(out + strlen(out), cap - strlen(out), "]");
}

/* What s[0..n) becomes; the caller compares. */
static const char *
kept(const char *s, size_t n, int nested)
{
	static char out[1024];
	redisReply *r = ciq_kept_reply(string_reply(s, n), nested);

	out[0] = '\0';
	show(r, out, sizeof out);
	freeReplyObject(r);
	return out;
}

#define KEPT(lit, nested) kept(lit, sizeof lit - 1, nested)

void
test_kept(void)
{
	/* Flat: every string, the empty ones too. */
	CHECK_STR(KEPT("ok\0a\0queue\0\0" "1", 0), "['ok'|'a'|'queue'|''|'1']");
	CHECK_STR(KEPT("stale", 0), "['stale']");
	CHECK_STR(KEPT("", 0), "['']");
	CHECK_STR(KEPT("a\0", 0), "['a'|'']");
	CHECK_STR(KEPT("\0\0", 0), "[''|''|'']");
	/* next.lua's: ack.lua's strings, then pop.lua's as the last element. */
	CHECK_STR(KEPT("5\0ok\0a\0recorded\0" "1\0" "7\0ok\0b\0queue\0\0" "1", 1),
	    "['ok'|'a'|'recorded'|'1'|'7'|['ok'|'b'|'queue'|''|'1']]");
	CHECK_STR(KEPT("1\0a\0b", 1), "['a'|['b']]");
	CHECK_STR(KEPT("1\0a\0", 1), "['a'|['']]");
	CHECK_STR(KEPT("0\0a", 1), "[['a']]");
	/* No count of ack.lua's strings before pop.lua's: flat, as any other. */
	CHECK_STR(KEPT("stale", 1), "['stale']");
	CHECK_STR(KEPT("2\0a\0b", 1), "['2'|'a'|'b']");
	CHECK_STR(KEPT("9\0a\0b", 1), "['9'|'a'|'b']");
	CHECK_STR(KEPT("-1\0a\0b", 1), "['-1'|'a'|'b']");
	CHECK_STR(KEPT("18446744073709551615\0a\0b", 1), "['18446744073709551615'|'a'|'b']");
	CHECK_STR(KEPT("18446744073709551616\0a\0b", 1), "['18446744073709551616'|'a'|'b']");
	CHECK_STR(KEPT(" 1\0a\0b", 1), "[' 1'|'a'|'b']");
	CHECK_STR(KEPT("1x\0a\0b", 1), "['1x'|'a'|'b']");
	CHECK_STR(KEPT("", 1), "['']");
}
