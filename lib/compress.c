/*
 * compress.c - the stored form of an output: raw, or deflated (compress.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "alloc.h"
#include "compress.h"

#define TAG "\0ciq"
#define TAGLEN 4
#define HEADLEN (TAGLEN + 1 + 4)  /* the tag, the kind, the original size */

/*
 * Level 6, zlib's default. On 64 KiB of a test log (bench B10's) it took
 * 1.1 ms of CPU for 18% of the size, on English prose 2.4 ms for 32%;
 * level 9 saved 2% and 0.2% more for 1.4 to 1.5 times the time, level 1
 * took a third of the time for 22% and 39% (bench/RESULTS.md, issue 16
 * item 4).
 */
#define LEVEL 6

static int
tagged(const char *s, size_t n)
{
	return n >= TAGLEN && memcmp(s, TAG, TAGLEN) == 0;
}

/* A new buffer of head[0..hn) then s[0..n), NUL-terminated. */
static char *
join(const char *head, size_t hn, const char *s, size_t n, size_t *len)
{
	char *out = ciq_malloc(hn + n + 1);

	memcpy(out, head, hn);
	if (n > 0)
		memcpy(out + hn, s, n);
	out[hn + n] = '\0';
	*len = hn + n;
	return out;
}

char *
ciq_compress_encode(const char *s, size_t n, size_t *len)
{
	if (n >= CIQ_COMPRESS_MIN && n <= UINT32_MAX) {
		uLongf dlen = compressBound((uLong)n);
		unsigned char *out = ciq_malloc(HEADLEN + dlen + 1);

		if (compress2(out + HEADLEN, &dlen, (const Bytef *)s, (uLong)n, LEVEL) == Z_OK &&
		    HEADLEN + dlen < n) {
			memcpy(out, TAG "z", TAGLEN + 1);
			out[TAGLEN + 1] = (unsigned char)(n >> 24);
			out[TAGLEN + 2] = (unsigned char)(n >> 16);
			out[TAGLEN + 3] = (unsigned char)(n >> 8);
			out[TAGLEN + 4] = (unsigned char)n;
			out[HEADLEN + dlen] = '\0';
			*len = HEADLEN + dlen;
			return (char *)out;
		}
		free(out);
	}
	/* Raw. An output that starts like a tag is marked raw, so that it is
	 * never read as one. */
	if (tagged(s, n))
		return join(TAG "r", TAGLEN + 1, s, n, len);
	return join("", 0, s, n, len);
}

int
ciq_compress_decode(const char *s, size_t n, size_t max, char **out, size_t *len,
    char err[CIQ_ERRLEN])
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long want;
	uLongf got;
	uLong used;
	char *buf;
	int rc;

	*out = NULL;
	if (!tagged(s, n)) {
		*out = join("", 0, s, n, len);
		return 0;
	}
	if (n < TAGLEN + 1) {
		snprintf(err, CIQ_ERRLEN, "truncated header");
		return -1;
	}
	if (s[TAGLEN] == 'r') {
		*out = join("", 0, s + TAGLEN + 1, n - TAGLEN - 1, len);
		return 0;
	}
	if (s[TAGLEN] != 'z') {
		if (u[TAGLEN] > ' ' && u[TAGLEN] < 0x7f)
			snprintf(err, CIQ_ERRLEN, "unknown encoding '%c'", s[TAGLEN]);
		else
			snprintf(err, CIQ_ERRLEN, "unknown encoding '\\x%02x'", u[TAGLEN]);
		return -1;
	}
	if (n < HEADLEN) {
		snprintf(err, CIQ_ERRLEN, "truncated header");
		return -1;
	}
	want = (unsigned long)u[TAGLEN + 1] << 24 | (unsigned long)u[TAGLEN + 2] << 16 |
	    (unsigned long)u[TAGLEN + 3] << 8 | (unsigned long)u[TAGLEN + 4];
	/* The size is checked before it is trusted with an allocation. */
	if (want > max) {
		snprintf(err, CIQ_ERRLEN, "says %lu bytes, more than %zu", want, max);
		return -1;
	}
	buf = ciq_malloc(want + 1);
	got = want;
	used = n - HEADLEN;
	/* uncompress2 writes at most got bytes and reads at most used. */
	rc = uncompress2((Bytef *)buf, &got, u + HEADLEN, &used);
	if (rc == Z_OK && got != want)
		rc = Z_DATA_ERROR;
	if (rc != Z_OK || used != n - HEADLEN) {
		snprintf(err, CIQ_ERRLEN, "corrupt deflate stream: %s",
		    rc == Z_BUF_ERROR ? "longer than it says" :
		    rc == Z_MEM_ERROR ? "out of memory" :
		    rc == Z_OK ? "bytes after its end" : "bad data, or cut short");
		free(buf);
		return -1;
	}
	buf[want] = '\0';
	*out = buf;
	*len = want;
	return 0;
}
