/*
 * keys.c - the key prefix of a build.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "keys.h"

/* Append s to o with ':' and '%' escaped; returns the new end. */
static char *
escape(char *o, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == ':' || *s == '%') {
			memcpy(o, *s == ':' ? "%3A" : "%25", 3);
			o += 3;
		} else {
			*o++ = *s;
		}
	}
	return o;
}

void
ciq_keys_init(struct ciq_keys *k, const char *ns, const char *build)
{
	char *o;

	k->prefix = ciq_malloc(3 * (strlen(ns) + strlen(build)) + 16);
	o = k->prefix;
	memcpy(o, "ciq:{", 5);
	o += 5;
	if (*ns != '\0') {
		o = escape(o, ns);
		*o++ = ':';
	}
	o = escape(o, build);
	memcpy(o, "}:", 3);
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
