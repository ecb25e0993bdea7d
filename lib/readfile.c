/*
 * readfile.c - read a whole file, or the tail of a test's output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "readfile.h"

/* read(2), again after EINTR: the bytes read, 0 at the end, or -1 with
 * err filled. */
static ssize_t
read_chunk(int fd, char *buf, size_t n, const char *name, char err[CIQ_ERRLEN])
{
	ssize_t r;

	while ((r = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	if (r < 0)
		snprintf(err, CIQ_ERRLEN, "cannot read '%s': %s", name, strerror(errno));
	return r;
}

int
ciq_readfile_fd(int fd, const char *name, size_t max, char **out, size_t *len,
    char err[CIQ_ERRLEN])
{
	size_t n = 0, cap = 65536;
	char *buf = ciq_malloc(cap + 1);

	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= max) {
				snprintf(err, CIQ_ERRLEN, "'%s' is larger than %zu MiB: not read", name,
				    max / (1024 * 1024));
				free(buf);
				return -1;
			}
			cap *= 2;
			buf = ciq_realloc(buf, cap + 1);
		}
		if ((r = read_chunk(fd, buf + n, cap - n, name, err)) == 0)
			break;
		if (r < 0) {
			free(buf);
			return -1;
		}
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

int
ciq_readfile_tail(const char *path, char **out, size_t *len, char err[CIQ_ERRLEN])
{
	/* A ring of twice the cap keeps the tail while reading a stream. */
	size_t cap = 2 * CIQ_OUTPUT_MAX, n = 0;
	unsigned long long total = 0;
	char *buf = ciq_malloc(cap), *res;
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	char note[128];
	size_t keep, nl;

	if (fd == -1) {
		snprintf(err, CIQ_ERRLEN, "cannot open '%s': %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			/* Drop the older half. */
			memmove(buf, buf + CIQ_OUTPUT_MAX, cap - CIQ_OUTPUT_MAX);
			n -= CIQ_OUTPUT_MAX;
		}
		if ((r = read_chunk(fd, buf + n, cap - n, path, err)) == 0)
			break;
		if (r < 0) {
			if (fd != 0)
				close(fd);
			free(buf);
			return -1;
		}
		n += (size_t)r;
		total += (unsigned long long)r;
	}
	if (fd != 0)
		close(fd);
	if (total <= CIQ_OUTPUT_MAX) {
		*out = buf;
		*len = n;
		return 0;
	}
	/*
	 * The note counts toward the cap and says exactly how much was
	 * dropped, which depends on its own length: settle that first.
	 */
	nl = 0;
	for (;;) {
		keep = CIQ_OUTPUT_MAX - nl;
		snprintf(note, sizeof note, "[ciq: output cut: the first %llu of %llu bytes were dropped]\n",
		    total - keep, total);
		if (strlen(note) == nl)
			break;
		nl = strlen(note);
	}
	res = ciq_malloc(CIQ_OUTPUT_MAX);
	memcpy(res, note, nl);
	memcpy(res + nl, buf + n - keep, keep);
	free(buf);
	*out = res;
	*len = CIQ_OUTPUT_MAX;
	return 0;
}
