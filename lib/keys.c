/*
 * keys.c - the key prefix of a build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "keys.h"

void
ciq_keys_init(struct ciq_keys *k, const char *ns, const char *build)
{
	size_t n = strlen(ns) + strlen(build) + 16;

	k->prefix = ciq_malloc(n);
	if (*ns != '\0')
		snprintf(k->prefix, n, "ciq:{%s:%s}:", ns, build);
	else
		snprintf(k->prefix, n, "ciq:{%s}:", build);
	k->len = strlen(k->prefix);
}

void
ciq_keys_free(struct ciq_keys *k)
{
	free(k->prefix);
	k->prefix = NULL;
}

char *
ciq_key(const struct ciq_keys *k, const char *name)
{
	size_t n = strlen(name);
	char *s = ciq_malloc(k->len + n + 1);

	memcpy(s, k->prefix, k->len);
	memcpy(s + k->len, name, n + 1);
	return s;
}
