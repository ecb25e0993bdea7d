/*
 * quarantine.c - read the known-flaky list (quarantine.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "exit.h"
#include "junitxml.h"
#include "quarantine.h"
#include "readfile.h"

static int
cmp_id(const void *a, const void *b)
{
	const struct ciq_id *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static void
add(struct ciq_quarantine *q, size_t *cap, const char *s, size_t len)
{
	if (q->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		q->ids = ciq_realloc(q->ids, *cap * sizeof *q->ids);
	}
	q->ids[q->n].s = s;
	q->ids[q->n++].len = len;
}

static int
space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Does s[0..n), past a byte-order mark and white space, open an XML
 * document: a declaration, a comment, a DOCTYPE, or a JUnit root tag? */
static int
is_junit(const char *s, size_t n)
{
	static const char *const starts[] = { "<?xml", "<!--", "<!DOCTYPE", "<testsuites", "<testsuite" };
	size_t i = 0;

	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && space(s[i]))
		i++;
	for (size_t k = 0; k < sizeof starts / sizeof *starts; k++) {
		size_t len = strlen(starts[k]), end = i + len;

		if (n - i < len || memcmp(s + i, starts[k], len) != 0)
			continue;
		/* A tag's name ends there: "<testsuitex" is no JUnit root. */
		if (k < 3 || end == n || space(s[end]) || s[end] == '/' || s[end] == '>')
			return 1;
	}
	return 0;
}

/* One id a line, as idlist.h reads a list of tests (the list takes the
 * bytes; its ids, each once, are copied). */
static int
plain(struct ciq_quarantine *q, const char *path, size_t len, char err[CIQ_ERRLEN])
{
	size_t cap = 0;

	if (ciq_idlist_take(&q->list, q->buf, len, path, err) == -1)
		return -1;
	for (size_t i = 0; i < q->list.n; i++)
		add(q, &cap, q->list.ids[i].s, q->list.ids[i].len);
	return 0;
}

/* One id per testcase: its name. */
static int
junit(struct ciq_quarantine *q, const char *path, size_t len, char err[CIQ_ERRLEN])
{
	char msg[CIQ_ERRLEN];
	size_t cap = 0;

	q->junit = 1;
	if (ciq_junitxml_parse(q->buf, len, &q->cases, msg) == -1) {
		snprintf(err, CIQ_ERRLEN, "'%s' %s", path, msg);
		return -1;
	}
	for (size_t i = 0; i < q->cases.n; i++)
		if (*q->cases.v[i].name != '\0')
			add(q, &cap, q->cases.v[i].name, strlen(q->cases.v[i].name));
	return 0;
}

int
ciq_quarantine_read(struct ciq_quarantine *q, const char *path, char err[CIQ_ERRLEN])
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	size_t len, k = 0;
	int rc;

	memset(q, 0, sizeof *q);
	if (fd == -1) {
		snprintf(err, CIQ_ERRLEN, "cannot open '%s': %s", path, strerror(errno));
		return CIQ_EX_DATAERR;
	}
	rc = ciq_readfile_fd(fd, path, CIQ_QUARANTINE_FILE_MAX, &q->buf, &len, err);
	if (fd != 0)
		close(fd);
	if (rc == -1)
		return CIQ_EX_DATAERR;
	ciq_idlist_init(&q->list);
	if ((is_junit(q->buf, len) ? junit(q, path, len, err) : plain(q, path, len, err)) == -1) {
		ciq_quarantine_free(q);
		return CIQ_EX_DATAERR;
	}
	/* Sorted, each once, for the lookups. */
	if (q->n > 1)
		qsort(q->ids, q->n, sizeof *q->ids, cmp_id);
	for (size_t i = 0; i < q->n; i++)
		if (k == 0 || cmp_id(&q->ids[k - 1], &q->ids[i]) != 0)
			q->ids[k++] = q->ids[i];
	q->n = k;
	return CIQ_EX_OK;
}

int
ciq_quarantine_has(const struct ciq_quarantine *q, const char *id, size_t len)
{
	struct ciq_id key = { id, len };

	return q->n > 0 && bsearch(&key, q->ids, q->n, sizeof *q->ids, cmp_id) != NULL;
}

void
ciq_quarantine_free(struct ciq_quarantine *q)
{
	free(q->ids);
	if (q->junit)
		free(q->buf);
	ciq_idlist_free(&q->list);
	ciq_cases_free(&q->cases);
	memset(q, 0, sizeof *q);
}
