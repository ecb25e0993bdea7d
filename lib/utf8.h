/*
 * utf8.h - telling valid UTF-8 from stray bytes.
 *
 * Test ids and outputs are bytes, stored as the workers gave them; JSON,
 * XML and Markdown want valid UTF-8. The writers keep every valid
 * sequence and replace each byte that is not part of one.
 */
#ifndef CIQ_UTF8_H
#define CIQ_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, for a byte that is not valid UTF-8. */
#define CIQ_UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes, n > 0), or 0
 * when s[0] does not start one. Overlong forms, surrogates and values
 * past U+10FFFF are not valid. When cp is not NULL it gets the code point.
 */
size_t ciq_utf8_len(const char *s, size_t n, unsigned int *cp);

#endif
