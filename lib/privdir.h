/*
 * privdir.h - the worker's private directory: $XDG_RUNTIME_DIR (else
 * $TMPDIR, else /tmp)/ciq-UID/.
 *
 * It holds what the tools of one user leave for each other on this
 * machine: the loops' logs (hblog.h) and the TLS sessions (tlscache.h).
 * It is made with mode 0700, and used only while it is a directory (not
 * a symbolic link) of this user that nobody else may read, write or
 * enter: one that another user made first under a shared /tmp is never
 * trusted. See STORAGE in ciq(7).
 */
#ifndef CIQ_PRIVDIR_H
#define CIQ_PRIVDIR_H

#include "errlen.h"

/*
 * The directory's path, in a new string the caller frees; made first
 * when make is 1 and it does not exist. NULL when there is no usable
 * one, with errno set and, when err is not NULL, a message that calls
 * it "the " what (e.g. "log directory") and names it.
 */
char *ciq_privdir(int make, const char *what, char *err);

/*
 * Whether the file open on fd may be trusted as this user's own: a
 * regular file of this user that nobody else may read or write. 1 or 0.
 */
int ciq_privdir_owned(int fd);

#endif
