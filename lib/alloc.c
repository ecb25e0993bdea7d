/*
 * alloc.c - the out-of-memory policy: one message, then abort().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

void
ciq_oom(size_t n)
{
	/* The one place the library writes to stderr: there is no caller
	 * left to tell. */
	fprintf(stderr, "ciq: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
ciq_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		ciq_oom(n);
	return p;
}

void *
ciq_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		ciq_oom(n * size);
	return p;
}

void *
ciq_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		ciq_oom(n);
	return q;
}

char *
ciq_strdup(const char *s)
{
	return ciq_memdup(s, strlen(s) + 1);
}

void *
ciq_memdup(const void *p, size_t n)
{
	void *q = ciq_malloc(n);

	memcpy(q, p, n);
	return q;
}
