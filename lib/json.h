/*
 * json.h - the little JSON writing the tools need.
 */
#ifndef CIQ_JSON_H
#define CIQ_JSON_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write s[0..n) as a JSON string, quotes included. Control characters are
 * escaped; valid UTF-8 passes through; a byte that is not part of valid
 * UTF-8 becomes U+FFFD, since JSON text must be UTF-8.
 */
void ciq_json_str(FILE *f, const char *s, size_t n);

/* The same for a C string, or null when s is NULL. */
void ciq_json_cstr(FILE *f, const char *s);

/* "name": ms, or "name": null when ms is negative (unknown). */
void ciq_json_ms(FILE *f, const char *name, long long ms);

#endif
