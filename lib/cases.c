/*
 * cases.c - a unit's testcases, and their encoding for the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cases.h"

#define MAGIC "ciq-cases-1"
#define CASE_FIELDS 8

struct ciq_case *
ciq_cases_add(struct ciq_cases *c)
{
	struct ciq_case *k;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = ciq_realloc(c->v, c->cap * sizeof *c->v);
	}
	k = &c->v[c->n++];
	memset(k, 0, sizeof *k);
	k->ms = -1;
	return k;
}

static void
case_free(struct ciq_case *k)
{
	free(k->classname);
	free(k->name);
	free(k->file);
	free(k->type);
	free(k->message);
	free(k->output);
}

void
ciq_cases_free(struct ciq_cases *c)
{
	for (size_t i = 0; i < c->n; i++)
		case_free(&c->v[i]);
	free(c->v);
	free(c->worker);
	memset(c, 0, sizeof *c);
}

size_t
ciq_cases_count(const struct ciq_cases *c, enum ciq_case_outcome o)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->v[i].outcome == o;
	return n;
}

const char *
ciq_case_outcome_name(enum ciq_case_outcome o)
{
	switch (o) {
	case CIQ_CASE_FAILED:
		return "failed";
	case CIQ_CASE_ERROR:
		return "error";
	case CIQ_CASE_SKIPPED:
		return "skipped";
	default:
		return "passed";
	}
}

static const char outcome_codes[] = "pfes";

/* A growing byte buffer. */
struct buf {
	char *s;
	size_t n, cap;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		while (b->n + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 1024;
		b->s = ciq_realloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* One "LEN:BYTES" field. */
static void
field(struct buf *b, const char *s, size_t n)
{
	char len[24];

	put(b, len, (size_t)snprintf(len, sizeof len, "%zu:", n));
	put(b, s, n);
}

static void
cfield(struct buf *b, const char *s)
{
	field(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

/* Digits of a field's length prefix, its colon, and the bytes. */
static size_t
field_size(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0, size = n + 2;

	for (size_t d = n; d >= 10; d /= 10)
		size++;
	return size;
}

static void
encode_case(struct buf *b, const struct ciq_case *k)
{
	char ms[24] = "";

	field(b, &outcome_codes[k->outcome], 1);
	if (k->ms >= 0)
		snprintf(ms, sizeof ms, "%lld", k->ms);
	cfield(b, ms);
	cfield(b, k->classname);
	cfield(b, k->name);
	cfield(b, k->file);
	cfield(b, k->type);
	cfield(b, k->message);
	cfield(b, k->output);
}

static size_t
case_size(const struct ciq_case *k)
{
	/* The outcome and up to 20 digits of ms, with their prefixes. */
	return 3 + 23 + field_size(k->classname) + field_size(k->name) + field_size(k->file) +
	    field_size(k->type) + field_size(k->message) + field_size(k->output);
}

/* Which cases go first when not all fit: failures and errors, then skips. */
static int
rank(enum ciq_case_outcome o)
{
	return o == CIQ_CASE_FAILED || o == CIQ_CASE_ERROR ? 0 : o == CIQ_CASE_SKIPPED ? 1 : 2;
}

char *
ciq_cases_encode(const struct ciq_cases *c, size_t *len)
{
	struct buf b = { NULL, 0, 0 };
	unsigned char *keep = ciq_calloc(c->n + 1, 1);
	/* The header, with room for the largest count of omitted cases. */
	size_t used = field_size(MAGIC) + 3 + field_size(c->worker) + 23, kept = 0;
	char result = c->result != '\0' ? c->result : 'p', omitted[24];

	for (int r = 0; r < 3; r++) {
		for (size_t i = 0; i < c->n; i++) {
			size_t size = case_size(&c->v[i]);

			if (rank(c->v[i].outcome) != r || used + size > CIQ_CASES_MAX)
				continue;
			keep[i] = 1;
			used += size;
			kept++;
		}
	}
	cfield(&b, MAGIC);
	field(&b, &result, 1);
	cfield(&b, c->worker);
	snprintf(omitted, sizeof omitted, "%lld", c->omitted + (long long)(c->n - kept));
	cfield(&b, omitted);
	for (size_t i = 0; i < c->n; i++)
		if (keep[i])
			encode_case(&b, &c->v[i]);
	free(keep);
	if (b.s == NULL)
		put(&b, "", 0);
	*len = b.n;
	return b.s;
}

/* The next field of s[*pos..n) as a new string; NULL when malformed or
 * when it holds a NUL byte. */
static char *
next(const char *s, size_t n, size_t *pos)
{
	size_t i = *pos, flen = 0;
	char *v;

	if (i >= n || s[i] < '0' || s[i] > '9')
		return NULL;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		/* No field is longer than s: stop before the number overflows. */
		if (flen > n)
			return NULL;
		flen = flen * 10 + (size_t)(s[i] - '0');
	}
	if (i >= n || s[i] != ':' || flen > n - i - 1 || memchr(s + i + 1, '\0', flen) != NULL)
		return NULL;
	*pos = i + 1 + flen;
	v = ciq_malloc(flen + 1);
	memcpy(v, s + i + 1, flen);
	v[flen] = '\0';
	return v;
}

int
ciq_cases_decode(const char *s, size_t n, struct ciq_cases *c)
{
	size_t pos = 0;
	char *f[4] = { NULL, NULL, NULL, NULL }, *end;
	int ok = 0;

	for (int i = 0; i < 4; i++)
		if ((f[i] = next(s, n, &pos)) == NULL)
			goto out;
	if (strcmp(f[0], MAGIC) != 0 || strlen(f[1]) != 1 || strchr("pfsr", f[1][0]) == NULL)
		goto out;
	c->result = f[1][0];
	c->worker = f[2];
	f[2] = NULL;
	c->omitted = strtoll(f[3], &end, 10);
	if (*f[3] == '\0' || *end != '\0' || c->omitted < 0)
		goto out;
	while (pos < n) {
		char *v[CASE_FIELDS] = { NULL };
		struct ciq_case *k;
		const char *code;
		int bad = 0;

		for (int i = 0; i < CASE_FIELDS && !bad; i++)
			bad = (v[i] = next(s, n, &pos)) == NULL;
		if (!bad && (strlen(v[0]) != 1 || (code = strchr(outcome_codes, v[0][0])) == NULL))
			bad = 1;
		if (!bad && *v[1] != '\0' && (strtoll(v[1], &end, 10) < 0 || *end != '\0'))
			bad = 1;
		if (bad) {
			for (int i = 0; i < CASE_FIELDS; i++)
				free(v[i]);
			goto out;
		}
		k = ciq_cases_add(c);
		k->outcome = (enum ciq_case_outcome)(code - outcome_codes);
		k->ms = *v[1] != '\0' ? strtoll(v[1], NULL, 10) : -1;
		k->classname = v[2];
		k->name = v[3];
		k->file = v[4];
		k->type = v[5];
		k->message = v[6];
		k->output = v[7];
		free(v[0]);
		free(v[1]);
	}
	ok = 1;
out:
	for (int i = 0; i < 4; i++)
		free(f[i]);
	if (!ok)
		ciq_cases_free(c);
	return ok ? 0 : -1;
}
