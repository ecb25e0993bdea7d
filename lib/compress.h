/*
 * compress.h - a test's output (or a unit's testcases) in the form it is
 * stored in on the server, and back.
 *
 * Outputs are mostly text, and text deflates to a third or less of its
 * size; the server keeps every failure's output until the build expires,
 * so a failing build's memory is mostly outputs (bench B10). The stored
 * form is one of:
 *
 *	anything not starting with "\0ciq"   the bytes themselves (raw)
 *	"\0ciq" "z" LEN STREAM               LEN: the original size, 4 bytes,
 *	                                     big-endian; STREAM: a zlib stream
 *	                                     (deflate with its Adler-32 check)
 *	                                     of exactly LEN bytes
 *	"\0ciq" "r" BYTES                    BYTES raw: an output that itself
 *	                                     starts with "\0ciq"
 *
 * So any bytes have exactly one reading, and every value stored before
 * outputs were compressed (raw) still reads as it was. A short output, or
 * one that deflate does not shrink, is stored raw.
 */
#ifndef CIQ_COMPRESS_H
#define CIQ_COMPRESS_H

#include <stddef.h>

#include "errlen.h"

/* Outputs shorter than this are stored raw without trying: deflate's
 * header, its checksum and ours cost more than such a text would save. */
#define CIQ_COMPRESS_MIN 128

/*
 * The stored form of s[0..n) as a new buffer (*len bytes, plus a NUL
 * after them; the caller frees it): deflated when that is shorter, else
 * raw. Can't fail (a deflate error stores the output raw).
 */
char *ciq_compress_encode(const char *s, size_t n, size_t *len);

/*
 * The original of the stored form s[0..n), as a new buffer (*len bytes,
 * plus a NUL after them; the caller frees it). max is the most it may be
 * (the cap of what was stored: CIQ_OUTPUT_MAX, CIQ_CASES_MAX): a value
 * that says it is longer is refused before anything is allocated.
 * Returns 0; or -1 with *out NULL and err filled, for a value that no
 * encoder wrote: "unknown encoding 'X'", "truncated header", "says N
 * bytes, more than M", "corrupt deflate stream: ...". Reads nothing
 * outside s[0..n).
 */
int ciq_compress_decode(const char *s, size_t n, size_t max, char **out, size_t *len,
    char err[CIQ_ERRLEN]);

#endif
