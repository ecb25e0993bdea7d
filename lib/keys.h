/*
 * keys.h - names of a build's keys.
 *
 * Every key of a build is ciq:{NAMESPACE:BUILD}:NAME, or ciq:{BUILD}:NAME
 * without a namespace, where a ':' or '%' inside NAMESPACE or BUILD is
 * written %3A or %25: the only bare ':' in the braces separates the two,
 * so no two (namespace, build) pairs share a key. Neither may hold a
 * brace (conf.c), so the braces are a Redis Cluster hash tag: all keys of
 * one build hash to one slot, and every script may touch all of them.
 */
#ifndef CIQ_KEYS_H
#define CIQ_KEYS_H

#include <stddef.h>

struct ciq_keys {
	char *prefix;   /* "ciq:{ns:build}:" */
	size_t len;
};

/* Build the prefix. ns may be empty. Can't fail. */
void ciq_keys_init(struct ciq_keys *k, const char *ns, const char *build);
void ciq_keys_free(struct ciq_keys *k);

/* prefix + name, in a new string the caller frees. */
char *ciq_key(const struct ciq_keys *k, const char *name);

#endif
