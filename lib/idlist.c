/*
 * idlist.c - read, validate, deduplicate, digest and shuffle test ids.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "readfile.h"
#include "idlist.h"
#include "prng.h"
#include "sha256.h"

void
ciq_idlist_init(struct ciq_idlist *l)
{
	memset(l, 0, sizeof *l);
}

void
ciq_idlist_free(struct ciq_idlist *l)
{
	for (size_t i = 0; i < l->nbufs; i++)
		free(l->bufs[i]);
	free(l->bufs);
	free(l->ids);
	free(l->dups);
	free(l->slots);
	memset(l, 0, sizeof *l);
}

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;   /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
	return h;
}

static void
grow_set(struct ciq_idlist *l)
{
	size_t n = l->nslots ? l->nslots * 2 : 1024;

	free(l->slots);
	l->slots = ciq_calloc(n, sizeof *l->slots);
	l->nslots = n;
	for (size_t i = 0; i < l->n; i++) {
		size_t j = hash(l->ids[i].s, l->ids[i].len) & (n - 1);

		while (l->slots[j] != 0)
			j = (j + 1) & (n - 1);
		l->slots[j] = i + 1;
	}
}

int
ciq_idlist_add(struct ciq_idlist *l, const char *s, size_t len)
{
	size_t j;

	if ((l->n + 1) * 2 > l->nslots)
		grow_set(l);
	j = hash(s, len) & (l->nslots - 1);
	for (; l->slots[j] != 0; j = (j + 1) & (l->nslots - 1)) {
		const struct ciq_id *o = &l->ids[l->slots[j] - 1];

		if (o->len == len && memcmp(o->s, s, len) == 0)
			return 0;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->ids = ciq_realloc(l->ids, l->cap * sizeof *l->ids);
	}
	l->ids[l->n].s = s;
	l->ids[l->n].len = len;
	l->slots[j] = ++l->n;
	return 1;
}

static void
add_dup(struct ciq_idlist *l, const char *s, size_t len, const char *file, size_t line)
{
	if (l->ndups == l->dupcap) {
		l->dupcap = l->dupcap ? l->dupcap * 2 : 16;
		l->dups = ciq_realloc(l->dups, l->dupcap * sizeof *l->dups);
	}
	l->dups[l->ndups++] = (struct ciq_dup){ { s, len }, file, line };
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

int
ciq_idlist_read(struct ciq_idlist *l, int fd, const char *name, char err[CIQ_ERRLEN])
{
	size_t len;
	char *buf;

	if (ciq_readfile_fd(fd, name, SIZE_MAX, &buf, &len, err) == -1)
		return -1;
	return ciq_idlist_take(l, buf, len, name, err);
}

int
ciq_idlist_take(struct ciq_idlist *l, char *buf, size_t len, const char *name,
    char err[CIQ_ERRLEN])
{
	size_t line = 0;
	char *p, *end, *nl;

	/* A last line without a newline gets one (the spare byte), so every
	 * id ends in place. */
	if (len > 0 && buf[len - 1] != '\n')
		buf[len++] = '\n';
	l->bufs = ciq_realloc(l->bufs, (l->nbufs + 1) * sizeof *l->bufs);
	l->bufs[l->nbufs++] = buf;

	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);

		line++;
		if (memchr(p, '\0', n) != NULL) {
			snprintf(err, CIQ_ERRLEN, "%s:%zu: id contains a NUL byte", name, line);
			return -1;
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > CIQ_ID_MAX) {
			snprintf(err, CIQ_ERRLEN, "%s:%zu: id is %zu bytes long, more than %d",
			    name, line, n, CIQ_ID_MAX);
			return -1;
		}
		p[n] = '\0';
		if (!blank(p, n) && !ciq_idlist_add(l, p, n))
			add_dup(l, p, n, name, line);
	}
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	const struct ciq_id *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

void
ciq_idlist_digest(const struct ciq_idlist *l, char out[65])
{
	struct ciq_id *sorted = ciq_calloc(l->n ? l->n : 1, sizeof *l->ids);
	struct ciq_sha256 ctx;
	unsigned char md[CIQ_SHA256_LEN];

	/* An empty list has no ids array to copy from. */
	if (l->n > 0)
		memcpy(sorted, l->ids, l->n * sizeof *sorted);
	qsort(sorted, l->n, sizeof *sorted, cmp_id);
	ciq_sha256_init(&ctx);
	for (size_t i = 0; i < l->n; i++) {
		unsigned char be[8];

		for (int b = 0; b < 8; b++)
			be[b] = (unsigned char)((uint64_t)sorted[i].len >> (56 - 8 * b));
		ciq_sha256_update(&ctx, be, sizeof be);
		ciq_sha256_update(&ctx, sorted[i].s, sorted[i].len);
	}
	ciq_sha256_final(&ctx, md);
	free(sorted);
	for (int i = 0; i < CIQ_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void
ciq_idlist_shuffle(struct ciq_idlist *l, const char *seed)
{
	struct ciq_prng rng;

	/* An empty list has no ids array, and qsort may not be given NULL. */
	if (l->n == 0)
		return;
	qsort(l->ids, l->n, sizeof *l->ids, cmp_id);
	ciq_prng_seed_string(&rng, seed, strlen(seed));
	for (size_t i = l->n; i > 1; i--) {
		size_t j = (size_t)ciq_prng_below(&rng, i);
		struct ciq_id t = l->ids[i - 1];

		l->ids[i - 1] = l->ids[j];
		l->ids[j] = t;
	}
}
