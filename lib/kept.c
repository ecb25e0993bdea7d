/*
 * kept.c - a reply a script kept, made the array it stands for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "kept.h"

redisReply *
ciq_kept_reply(redisReply *r, int nested)
{
	const char *p = r->str, *end = r->str + r->len;
	size_t fields = 1, first = 0, cap, len = 0;
	char *resp;
	redisReader *rd;
	void *out = NULL;

	for (const char *q = p; q < end; q++)
		fields += *q == '\0';
	/* next.lua's: how many of the strings after the first are ack.lua's
	 * (its other replies, such as "stale", are flat). */
	if (nested) {
		char *stop = NULL;
		unsigned long long n = *p >= '0' && *p <= '9' ? strtoull(p, &stop, 10) : 0;

		nested = stop != NULL && *stop == '\0' && n < fields - 1;
		if (nested) {
			first = (size_t)n;
			fields--;
			p += strlen(p) + 1;
		}
	}
	/* Each string's "$LEN\r\n" and "\r\n", the arrays' "*N\r\n". */
	cap = r->len + fields * 26 + 64;
	resp = ciq_malloc(cap);
	len += (size_t)snprintf(resp, cap, "*%zu\r\n", nested ? first + 1 : fields);
	for (size_t i = 0; i < fields; i++) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t l = z != NULL ? (size_t)(z - p) : (size_t)(end - p);

		if (nested && i == first)
			len += (size_t)snprintf(resp + len, cap - len, "*%zu\r\n", fields - first);
		len += (size_t)snprintf(resp + len, cap - len, "$%zu\r\n", l);
		memcpy(resp + len, p, l);
		memcpy(resp + len + l, "\r\n", 2);
		len += l + 2;
		p += l + 1;
	}
	rd = redisReaderCreate();
	if (rd != NULL && redisReaderFeed(rd, resp, len) == REDIS_OK &&
	    redisReaderGetReply(rd, &out) == REDIS_OK && out != NULL) {
		freeReplyObject(r);
		r = out;
	}
	if (rd != NULL)
		redisReaderFree(rd);
	free(resp);
	return r;
}
