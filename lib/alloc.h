/*
 * alloc.h - allocation that cannot fail.
 *
 * A short-lived tool has no useful way to go on without memory, so the one
 * policy is: report and abort. No call site checks for NULL.
 */
#ifndef CIQ_ALLOC_H
#define CIQ_ALLOC_H

#include <stddef.h>

void *ciq_malloc(size_t n);
void *ciq_calloc(size_t n, size_t size);
void *ciq_realloc(void *p, size_t n);
char *ciq_strdup(const char *s);
void *ciq_memdup(const void *p, size_t n);

/* Report that n bytes could not be had, and abort: for allocations made
 * by other libraries (hiredis, OpenSSL). */
_Noreturn void ciq_oom(size_t n);

#endif
