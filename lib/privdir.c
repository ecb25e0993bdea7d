/*
 * privdir.c - the user's private directory of ciq on this machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "privdir.h"

char *
ciq_privdir(int make, const char *what, char *err)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	uid_t uid = getuid();
	struct stat st;
	char *dir;
	int r;

	if (base == NULL || *base == '\0')
		base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	dir = ciq_malloc(strlen(base) + 32);
	sprintf(dir, "%s/ciq-%u", base, (unsigned)uid);
	/* lstat: a symbolic link is not a directory, whatever it points to. */
	if ((r = lstat(dir, &st)) == -1 && errno == ENOENT && make) {
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			goto fail;
		r = lstat(dir, &st);
	}
	if (r == -1)
		goto fail;
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0) {
		const char *why = !S_ISDIR(st.st_mode) ? "is not a directory" :
		    st.st_uid != uid ? "belongs to another user" : "is open to others";

		if (err != NULL)
			snprintf(err, CIQ_ERRLEN, "the %s '%.160s' %s (mode %03o; it must be "
			    "a directory of this user with mode 700)", what, dir, why,
			    (unsigned)(st.st_mode & 0777));
		free(dir);
		errno = EPERM;
		return NULL;
	}
	return dir;
fail:
	if (err != NULL)
		snprintf(err, CIQ_ERRLEN, "the %s '%.160s': %s", what, dir, strerror(errno));
	free(dir);
	return NULL;
}

int
ciq_privdir_owned(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid() &&
	    (st.st_mode & 077) == 0;
}
