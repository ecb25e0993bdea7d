/*
 * t_compress.c - compress.h: the stored forms, the round trip of any
 * bytes, and stored values that no encoder wrote (cut short, bytes
 * changed, a size that lies), which must fail cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "prng.h"
#include "unit.h"

#define TAG "\0ciq"
#define HEADLEN 9

/* Encode s[0..n), check the stored form starts with the given kind ('z'
 * deflated, 'r' marked raw, 0 raw as is), decode, and compare. Returns
 * the stored size. */
static size_t
round_trip(const char *s, size_t n, char kind, const char *what)
{
	char err[CIQ_ERRLEN] = "", *enc, *dec;
	size_t elen, dlen;
	int tagged;

	enc = ciq_compress_encode(s, n, &elen);
	tagged = elen >= 5 && memcmp(enc, TAG, 4) == 0;
	unit_check(kind == 0 ? !tagged && elen == n && memcmp(enc, s, n) == 0 :
	    tagged && enc[4] == kind, __FILE__, __LINE__, "%s: stored form, kind '%c'", what,
	    kind ? kind : '0');
	unit_check(enc[elen] == '\0', __FILE__, __LINE__, "%s: NUL after the stored form", what);
	if (ciq_compress_decode(enc, elen, n, &dec, &dlen, err) != 0) {
		unit_check(0, __FILE__, __LINE__, "%s: does not decode: %s", what, err);
		free(enc);
		return elen;
	}
	unit_check(dlen == n && memcmp(dec, s, n) == 0 && dec[n] == '\0', __FILE__, __LINE__,
	    "%s: decodes to %zu bytes, not the %zu given", what, dlen, n);
	free(dec);
	free(enc);
	return elen;
}

/* What decoding s[0..n) with max says: NULL when it decodes, else the
 * error (in a static buffer). */
static const char *
refused(const char *s, size_t n, size_t max)
{
	static char err[CIQ_ERRLEN];
	char *out = (char *)1;
	size_t len;

	if (ciq_compress_decode(s, n, max, &out, &len, err) == 0) {
		free(out);
		return NULL;
	}
	CHECK(out == NULL);
	return err;
}

/* n bytes of log lines, alike but not the same. */
static char *
log_text(size_t n)
{
	char *s = malloc(n + 64);
	size_t at = 0;

	for (int i = 0; at < n; i++)
		at += (size_t)sprintf(s + at, "%05d test_cart.rb:%d: expected %d, got %d\n", i,
		    i % 97, i * 7, i * 3);
	return s;
}

static void
forms(void)
{
	char bin[300], *text = log_text(65536), rnd[4096];
	struct ciq_prng g;
	size_t stored;

	/* Short and empty outputs are stored as they are. */
	round_trip("", 0, 0, "empty");
	round_trip("boom\nat line 3", 14, 0, "short text");
	round_trip("\0ci", 3, 0, "a tag's first three bytes");
	round_trip("x\0y\r\nz", 6, 0, "NUL and CR");
	/* An output that starts like the tag is marked raw, whatever its size. */
	round_trip(TAG, 4, 'r', "the tag alone");
	round_trip(TAG "z\0\0\0\5hello", 14, 'r', "a fake deflated header");
	/* Text is deflated: a 64 KiB log to much less. */
	stored = round_trip(text, 65536, 'z', "64 KiB of log lines");
	unit_check(stored < 65536 / 4, __FILE__, __LINE__, "64 KiB of log stored in %zu bytes",
	    stored);
	round_trip(text, CIQ_COMPRESS_MIN, 'z', "text of the minimum size");
	round_trip(text, CIQ_COMPRESS_MIN - 1, 0, "text under the minimum");
	/* Binary that deflates, starting with the tag: deflated, not marked raw. */
	memset(bin, 0, sizeof bin);
	memcpy(bin, TAG "r", 5);
	round_trip(bin, sizeof bin, 'z', "NULs after a tag");
	/* Random bytes do not deflate: raw, or marked raw after a tag. */
	ciq_prng_seed_string(&g, "42", 2);
	for (size_t i = 0; i < sizeof rnd; i++)
		rnd[i] = (char)(ciq_prng_next(&g) & 0xff);
	round_trip(rnd, sizeof rnd, 0, "random bytes");
	memcpy(rnd, TAG, 4);
	CHECK(round_trip(rnd, sizeof rnd, 'r', "random bytes after a tag") == sizeof rnd + 5);
	free(text);
}

static void
corrupt(void)
{
	char *text = log_text(4096), *enc, *bad;
	size_t elen, cut_ok = 0, flip_ok = 0;
	const char *e;

	/* Values written before outputs were compressed read as they are. */
	CHECK(refused("boom", 4, 0) == NULL);
	CHECK_STR(refused(TAG, 4, 100), "truncated header");
	CHECK_STR(refused(TAG "z\0\0", 7, 100), "truncated header");
	CHECK_STR(refused(TAG "q", 5, 100), "unknown encoding 'q'");
	CHECK_STR(refused(TAG "\xff", 5, 100), "unknown encoding '\\xff'");

	enc = ciq_compress_encode(text, 4096, &elen);
	CHECK(elen > HEADLEN && enc[4] == 'z');
	/* The size is checked against the cap before anything is allocated. */
	CHECK_STR(refused(enc, elen, 4095), "says 4096 bytes, more than 4095");
	bad = malloc(elen + 1);
	memcpy(bad, enc, elen);
	bad[5] = '\x7f'; /* 2 GiB */
	CHECK_STR(refused(bad, elen, 65536), "says 2130710528 bytes, more than 65536");
	/* A size that lies within the cap. */
	memcpy(bad, enc, elen);
	bad[7]--; /* 4096 is 00 00 10 00 */
	CHECK_STR(refused(bad, elen, 65536), "corrupt deflate stream: longer than it says");
	memcpy(bad, enc, elen);
	bad[7]++;
	CHECK_STR(refused(bad, elen, 65536), "corrupt deflate stream: bad data, or cut short");
	/* Every cut, and every byte changed, is refused. */
	for (size_t n = 5; n < elen; n++)
		cut_ok += refused(enc, n, 65536) == NULL;
	CHECK(cut_ok == 0);
	for (size_t i = HEADLEN; i < elen; i++) {
		memcpy(bad, enc, elen);
		bad[i] ^= 0x21;
		flip_ok += refused(bad, elen, 65536) == NULL;
	}
	CHECK(flip_ok == 0);
	/* Bytes after the stream's end. */
	memcpy(bad, enc, elen);
	bad[elen] = 'x';
	CHECK_STR(refused(bad, elen + 1, 65536), "corrupt deflate stream: bytes after its end");
	e = refused(enc, elen - 1, 65536);
	CHECK(e != NULL && strncmp(e, "corrupt deflate stream: ", 24) == 0);
	free(bad);
	free(enc);
	free(text);
}

void
test_compress(void)
{
	forms();
	corrupt();
}
