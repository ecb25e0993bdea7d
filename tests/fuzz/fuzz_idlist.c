/*
 * fuzz_idlist.c - libFuzzer harness for the id list reader (lib/idlist.c).
 *
 * The input is a list as ciq-populate reads it. A form feed, if any,
 * splits it into two inputs read one after the other into the same list,
 * as with two FILE arguments; each goes through a memfd, so the reader
 * sees a real file descriptor. The seed of the shuffle is the input's
 * last 16 bytes (up to a NUL).
 *
 * Besides not crashing, the result must match a plain reference reading
 * of the same bytes: the same error, or the same set of ids with every
 * later copy counted as a duplicate. Then the digest may not depend on
 * the order of the ids, and the shuffle must be a permutation that the
 * same seed repeats.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "idlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_idlist: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

struct ref {
	struct ciq_id *ids;  /* every non-blank line, in input order */
	size_t n;
	int bad;             /* a line the reader must refuse */
};

static int
cmp_id(const void *a, const void *b)
{
	const struct ciq_id *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* The reading idlist.h documents, done the slow and obvious way. */
static void
ref_read(struct ref *r, const char *s, size_t size)
{
	size_t start = 0;

	while (start < size && !r->bad) {
		const char *nl = memchr(s + start, '\n', size - start);
		size_t end = nl != NULL ? (size_t)(nl - s) : size, n = end - start, i;

		if (memchr(s + start, '\0', n) != NULL)
			r->bad = 1;
		if (n > 0 && s[start + n - 1] == '\r')
			n--;
		if (n > CIQ_ID_MAX)
			r->bad = 1;
		for (i = 0; i < n && (s[start + i] == ' ' || s[start + i] == '\t'); i++)
			;
		if (!r->bad && i < n) {
			r->ids = realloc(r->ids, (r->n + 1) * sizeof *r->ids);
			CHECK(r->ids != NULL);
			r->ids[r->n++] = (struct ciq_id){ s + start, n };
		}
		start = end + 1;
	}
}

static int
read_part(struct ciq_idlist *l, const uint8_t *data, size_t size, const char *name)
{
	char err[CIQ_ERRLEN];
	int fd = memfd_create("fuzz_idlist", MFD_CLOEXEC), rc;
	size_t off = 0;

	CHECK(fd != -1);
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);

		CHECK(w > 0);
		off += (size_t)w;
	}
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	err[0] = '\0';
	rc = ciq_idlist_read(l, fd, name, err);
	close(fd);
	CHECK(rc == 0 || rc == -1);
	CHECK(rc == 0 || (err[0] != '\0' && memchr(err, '\0', CIQ_ERRLEN) != NULL));
	CHECK(rc == -1 || err[0] == '\0');
	return rc;
}

static void
check_digest(const char *d)
{
	CHECK(strlen(d) == 64);
	for (int i = 0; i < 64; i++)
		CHECK((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f'));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *ff = memchr(data, '\f', size);
	size_t n1 = ff != NULL ? (size_t)(ff - data) : size;
	struct ciq_idlist l;
	struct ref r = { NULL, 0, 0 };
	struct ciq_id *sorted = NULL, *order = NULL;
	char seed[17], d1[65], d2[65];
	size_t sl = size < 16 ? size : 16, uniq = 0;
	int rc;

	if (sl > 0)
		memcpy(seed, data + size - sl, sl);
	seed[sl] = '\0';

	ciq_idlist_init(&l);
	rc = read_part(&l, data, n1, "first");
	ref_read(&r, (const char *)data, n1);
	if (rc == 0 && ff != NULL) {
		rc = read_part(&l, ff + 1, size - n1 - 1, "second");
		ref_read(&r, (const char *)ff + 1, size - n1 - 1);
	}
	CHECK((rc == -1) == r.bad);
	if (rc == -1)
		goto done;

	/* Every id is a kept line, NUL-terminated in place, and none twice. */
	for (size_t i = 0; i < l.n; i++) {
		CHECK(l.ids[i].len > 0 && l.ids[i].len <= CIQ_ID_MAX);
		CHECK(l.ids[i].s[l.ids[i].len] == '\0');
		CHECK(memchr(l.ids[i].s, '\n', l.ids[i].len) == NULL);
	}
	CHECK(l.n + l.ndups == r.n);
	/* The same set as the reference: sort both and compare. */
	if (r.n > 0)
		qsort(r.ids, r.n, sizeof *r.ids, cmp_id);
	for (size_t i = 0; i < r.n; i++)
		if (i == 0 || cmp_id(&r.ids[i - 1], &r.ids[i]) != 0)
			r.ids[uniq++] = r.ids[i];
	CHECK(uniq == l.n);
	if (l.n > 0) {
		sorted = malloc(l.n * sizeof *sorted);
		order = malloc(l.n * sizeof *order);
		CHECK(sorted != NULL && order != NULL);
		memcpy(sorted, l.ids, l.n * sizeof *sorted);
		qsort(sorted, l.n, sizeof *sorted, cmp_id);
		for (size_t i = 0; i < l.n; i++) {
			CHECK(cmp_id(&sorted[i], &r.ids[i]) == 0);
			CHECK(i == 0 || cmp_id(&sorted[i - 1], &sorted[i]) < 0);
		}
	}
	/* Each duplicate names an id that was kept, and where it was. */
	for (size_t i = 0; i < l.ndups; i++) {
		CHECK(l.dups[i].line >= 1 && l.dups[i].line <= size + 1);
		CHECK(strcmp(l.dups[i].file, "first") == 0 || strcmp(l.dups[i].file, "second") == 0);
		CHECK(bsearch(&l.dups[i].id, sorted, l.n, sizeof *sorted, cmp_id) != NULL);
	}

	/* The digest is of the set, so the shuffle cannot change it. */
	ciq_idlist_digest(&l, d1);
	check_digest(d1);
	ciq_idlist_shuffle(&l, seed);
	ciq_idlist_digest(&l, d2);
	CHECK(strcmp(d1, d2) == 0);
	if (l.n > 0) {
		memcpy(order, l.ids, l.n * sizeof *order);
		ciq_idlist_shuffle(&l, seed);
		for (size_t i = 0; i < l.n; i++)
			CHECK(order[i].s == l.ids[i].s && order[i].len == l.ids[i].len);
		qsort(order, l.n, sizeof *order, cmp_id);
		for (size_t i = 0; i < l.n; i++)
			CHECK(cmp_id(&order[i], &sorted[i]) == 0);
	}
done:
	free(sorted);
	free(order);
	free(r.ids);
	ciq_idlist_free(&l);
	return 0;
}
