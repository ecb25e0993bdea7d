/*
 * outfile.c - write to a temporary file, then rename it into place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "outfile.h"

static int
fail(struct ciq_outfile *o, char err[CIQ_ERRLEN], int e)
{
	snprintf(err, CIQ_ERRLEN, "cannot write '%s': %s", o->path, strerror(e));
	ciq_outfile_abort(o);
	return -1;
}

int
ciq_outfile_open(struct ciq_outfile *o, const char *path, char err[CIQ_ERRLEN])
{
	struct stat st;
	const char *slash;
	mode_t mode, mask;
	int fd;

	memset(o, 0, sizeof *o);
	o->path = ciq_strdup(path);
	if (*path == '\0')
		return fail(o, err, ENOENT);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if ((o->f = fopen(path, "w")) == NULL)
			return fail(o, err, errno);
		return 0;
	}
	/* Through a symbolic link, replace the file it points to, not the link. */
	if ((o->dest = realpath(path, NULL)) == NULL)
		o->dest = ciq_strdup(path);
	o->tmp = ciq_malloc(strlen(o->dest) + 16);
	if ((slash = strrchr(o->dest, '/')) != NULL)
		sprintf(o->tmp, "%.*s/.%s.XXXXXX", (int)(slash - o->dest), o->dest, slash + 1);
	else
		sprintf(o->tmp, ".%s.XXXXXX", o->dest);
	if (stat(o->dest, &st) == 0) {
		mode = st.st_mode & 07777;
	} else {
		mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	if ((fd = mkstemp(o->tmp)) == -1) {
		int e = errno;

		free(o->tmp);
		o->tmp = NULL;
		return fail(o, err, e);
	}
	if (fchmod(fd, mode) == -1 || (o->f = fdopen(fd, "w")) == NULL) {
		int e = errno;

		close(fd);
		return fail(o, err, e);
	}
	return 0;
}

int
ciq_outfile_commit(struct ciq_outfile *o, char err[CIQ_ERRLEN])
{
	FILE *f = o->f;
	int bad;

	if (f == NULL)
		return fail(o, err, EBADF);
	o->f = NULL;
	errno = 0;
	bad = fflush(f) != 0 || ferror(f);
	if (!bad && o->tmp != NULL && fsync(fileno(f)) == -1)
		bad = 1;
	if (fclose(f) != 0)
		bad = 1;
	if (!bad && o->tmp != NULL && rename(o->tmp, o->dest) == -1)
		bad = 1;
	if (bad)
		return fail(o, err, errno ? errno : EIO);
	free(o->tmp);
	o->tmp = NULL;
	ciq_outfile_abort(o);
	return 0;
}

void
ciq_outfile_abort(struct ciq_outfile *o)
{
	if (o->f != NULL)
		fclose(o->f);
	if (o->tmp != NULL)
		unlink(o->tmp);
	free(o->tmp);
	free(o->dest);
	free(o->path);
	memset(o, 0, sizeof *o);
}
