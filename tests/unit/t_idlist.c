/*
 * t_idlist.c - idlist.h: reading from a file descriptor (a pipe, a temp
 * file), blank lines, CRLF, duplicates, NUL, long lines, the digest, the
 * seeded shuffle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idlist.h"
#include "unit.h"

/* A temp file holding s[0..n), at its start; -1 when that fails. */
static int
file_of(const char *s, size_t n)
{
	char path[] = "/tmp/ciq-unit.XXXXXX";
	int fd = mkstemp(path);

	if (fd == -1)
		return -1;
	unlink(path);
	if (write(fd, s, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read s[0..n) into l (initialised) as input name; the return value. */
static int
read_into(struct ciq_idlist *l, const char *s, size_t n, const char *name, char err[CIQ_ERRLEN])
{
	int fd = file_of(s, n), rc;

	CHECK(fd != -1);
	if (fd == -1)
		return -2;
	rc = ciq_idlist_read(l, fd, name, err);
	close(fd);
	return rc;
}

/* l's ids, joined with '|'. */
static const char *
joined(const struct ciq_idlist *l)
{
	static char out[4096];
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n && o + l->ids[i].len + 2 < sizeof out; i++) {
		if (i > 0)
			out[o++] = '|';
		memcpy(out + o, l->ids[i].s, l->ids[i].len);
		o += l->ids[i].len;
		out[o] = '\0';
	}
	return out;
}

/* The list of s[0..n), which must read; its ids joined. IDS: of a literal. */
#define IDS(l, lit) ids_of((l), (lit), sizeof(lit) - 1)
static const char *
ids_of(struct ciq_idlist *l, const char *s, size_t n)
{
	char err[CIQ_ERRLEN] = "";

	ciq_idlist_init(l);
	unit_check(read_into(l, s, n, "list", err) == 0, __FILE__, __LINE__,
	    "\"%.*s\" does not read: %s", (int)n, s, err);
	return joined(l);
}

static void
lines(void)
{
	struct ciq_idlist l;

	CHECK_STR(IDS(&l, "a\nb\n\n  \t\nc"), "a|b|c");
	CHECK(l.n == 3 && l.ndups == 0);
	ciq_idlist_free(&l);
	CHECK(l.ids == NULL && l.n == 0);

	CHECK_STR(IDS(&l, "a\r\nb\r\n\r\n \r\n"), "a|b");
	CHECK(l.n == 2 && l.ids[0].len == 1 && l.ids[0].s[1] == '\0');
	ciq_idlist_free(&l);

	/* One CR goes; spaces and other bytes stay. */
	CHECK_STR(IDS(&l, "a\r\r\n a\na \nx\ty\n\xff\xfe\n"), "a\r| a|a |x\ty|\xff\xfe");
	CHECK(l.n == 5 && l.ids[0].len == 2);
	ciq_idlist_free(&l);

	CHECK_STR(IDS(&l, ""), "");
	CHECK(l.n == 0);
	ciq_idlist_free(&l);
	CHECK_STR(IDS(&l, "\n\n \n"), "");
	CHECK(l.n == 0);
	ciq_idlist_free(&l);
	/* A CR alone at the end, without a newline. */
	CHECK_STR(IDS(&l, "a\r"), "a");
	ciq_idlist_free(&l);
}

static void
duplicates(void)
{
	struct ciq_idlist l;
	char err[CIQ_ERRLEN] = "";

	CHECK_STR(IDS(&l, "a\nb\na\nb\r\nc\n"), "a|b|c");
	CHECK(l.ndups == 2);
	if (l.ndups == 2) {
		CHECK(l.dups[0].id.len == 1 && l.dups[0].id.s[0] == 'a' && l.dups[0].line == 3);
		CHECK(l.dups[1].id.len == 1 && l.dups[1].id.s[0] == 'b' && l.dups[1].line == 4);
		CHECK_STR(l.dups[0].file, "list");
	}
	/* Across inputs: the second file's copy is the duplicate. */
	CHECK(read_into(&l, "\nc\nd\n", 5, "second", err) == 0);
	CHECK_STR(joined(&l), "a|b|c|d");
	CHECK(l.ndups == 3 && l.nbufs == 2);
	if (l.ndups == 3) {
		CHECK_STR(l.dups[2].file, "second");
		CHECK(l.dups[2].line == 2);
	}
	ciq_idlist_free(&l);

	/* Enough ids for the hash set to grow several times. */
	{
		size_t n = 5000, o = 0;
		char *s = malloc(n * 2 * 12);

		for (size_t i = 0; i < 2 * n; i++)
			o += (size_t)sprintf(s + o, "id-%zu\n", i % n);
		ids_of(&l, s, o);
		CHECK(l.n == n && l.ndups == n);
		ciq_idlist_free(&l);
		free(s);
	}
}

static void
errors(void)
{
	struct ciq_idlist l;
	char err[CIQ_ERRLEN];
	char *big = malloc(CIQ_ID_MAX + 8);

	ciq_idlist_init(&l);
	err[0] = '\0';
	CHECK(read_into(&l, "a\nb\0c\nd\n", 8, "nul.txt", err) == -1);
	CHECK(strstr(err, "nul.txt:2:") != NULL && strstr(err, "NUL") != NULL);
	ciq_idlist_free(&l);

	/* A NUL on a line that would be blank is no less an error. */
	ciq_idlist_init(&l);
	CHECK(read_into(&l, "a\n\0\n", 4, "x", err) == -1);
	ciq_idlist_free(&l);

	/* CIQ_ID_MAX bytes is the longest id; a CR after it is stripped. */
	memset(big, 'x', CIQ_ID_MAX + 8);
	big[CIQ_ID_MAX] = '\n';
	ciq_idlist_init(&l);
	CHECK(read_into(&l, big, CIQ_ID_MAX + 1, "long", err) == 0 && l.n == 1 &&
	    l.ids[0].len == CIQ_ID_MAX);
	ciq_idlist_free(&l);
	big[CIQ_ID_MAX] = '\r';
	big[CIQ_ID_MAX + 1] = '\n';
	ciq_idlist_init(&l);
	CHECK(read_into(&l, big, CIQ_ID_MAX + 2, "long", err) == 0 && l.n == 1 &&
	    l.ids[0].len == CIQ_ID_MAX);
	ciq_idlist_free(&l);
	/* One more byte, on line 2, without a final newline. */
	memcpy(big, "ok\n", 3);
	memset(big + 3, 'y', CIQ_ID_MAX + 1);
	ciq_idlist_init(&l);
	err[0] = '\0';
	CHECK(read_into(&l, big, CIQ_ID_MAX + 4, "long", err) == -1);
	CHECK(strstr(err, "long:2:") != NULL);
	ciq_idlist_free(&l);
	free(big);

	/* A closed descriptor. */
	ciq_idlist_init(&l);
	err[0] = '\0';
	CHECK(ciq_idlist_read(&l, -1, "bad-fd", err) == -1 && err[0] != '\0');
	ciq_idlist_free(&l);
}

/* Read through a pipe, as from ciq-populate's standard input. */
static void
from_pipe(void)
{
	struct ciq_idlist l;
	char err[CIQ_ERRLEN] = "";
	int p[2];

	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "p1\np2\r\np1\n", 10) == 10);
	close(p[1]);
	ciq_idlist_init(&l);
	CHECK(ciq_idlist_read(&l, p[0], "-", err) == 0);
	close(p[0]);
	CHECK_STR(joined(&l), "p1|p2");
	CHECK(l.ndups == 1);
	ciq_idlist_free(&l);
}

static void
digest(void)
{
	struct ciq_idlist a, b;
	char da[65], db[65];

	/* sha256 of (8-byte big-endian length, bytes) of each id, sorted. */
	IDS(&a, "b\na\n");
	ciq_idlist_digest(&a, da);
	CHECK_STR(da, "3c9d591045bc8876f9d0399bbfb05c6a412096e906f73278f98406cd5dca86df");
	/* Order and duplicates do not count. */
	IDS(&b, "a\r\nb\na\n");
	ciq_idlist_digest(&b, db);
	CHECK_STR(db, da);
	ciq_idlist_free(&b);
	IDS(&b, "a\nbb\n");
	ciq_idlist_digest(&b, db);
	CHECK(strcmp(da, db) != 0);
	ciq_idlist_free(&b);
	ciq_idlist_free(&a);
	/* The lengths tell "ab" + "c" from "a" + "bc". */
	IDS(&a, "ab\nc\n");
	IDS(&b, "a\nbc\n");
	ciq_idlist_digest(&a, da);
	ciq_idlist_digest(&b, db);
	CHECK(strcmp(da, db) != 0);
	ciq_idlist_free(&a);
	ciq_idlist_free(&b);
	/* The empty list. */
	ciq_idlist_init(&a);
	ciq_idlist_digest(&a, da);
	CHECK_STR(da, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ciq_idlist_free(&a);
}

static void
shuffle(void)
{
	static const char fwd[] = "test_00\ntest_01\ntest_02\ntest_03\ntest_04\n"
	    "test_05\ntest_06\ntest_07\ntest_08\ntest_09\n";
	static const char rev[] = "test_09\ntest_08\ntest_07\ntest_06\ntest_05\n"
	    "test_04\ntest_03\ntest_02\ntest_01\ntest_00\n";
	struct ciq_idlist a, b;
	char order[4096];

	/* The documented order: sort, then Fisher-Yates on splitmix64
	 * seeded from SHA-256("42") (computed independently). */
	ids_of(&a, fwd, sizeof fwd - 1);
	ids_of(&b, rev, sizeof rev - 1);
	ciq_idlist_shuffle(&a, "42");
	ciq_idlist_shuffle(&b, "42");
	snprintf(order, sizeof order, "%s", joined(&a));
	CHECK_STR(order, "test_05|test_02|test_03|test_09|test_00|test_01|test_08|test_04|"
	    "test_06|test_07");
	CHECK_STR(joined(&b), order);
	/* Again, from the shuffled order: the same. */
	ciq_idlist_shuffle(&b, "42");
	CHECK_STR(joined(&b), order);
	/* Another seed, another order. */
	ciq_idlist_shuffle(&b, "43");
	CHECK(strcmp(joined(&b), order) != 0);
	ciq_idlist_free(&a);
	ciq_idlist_free(&b);

	/* Empty and single lists. */
	ciq_idlist_init(&a);
	ciq_idlist_shuffle(&a, "x");
	CHECK(a.n == 0);
	ciq_idlist_free(&a);
	IDS(&a, "only\n");
	ciq_idlist_shuffle(&a, "");
	CHECK_STR(joined(&a), "only");
	ciq_idlist_free(&a);
}

void
test_idlist(void)
{
	lines();
	duplicates();
	errors();
	from_pipe();
	digest();
	shuffle();
}
