/*
 * outfile.h - files the report writes (JUnit, Markdown, the flaky list),
 * replaced whole or not at all.
 *
 * A new file is written beside the destination under a temporary name
 * and renamed over it once complete, so a reader (a CI step, a test
 * analytics uploader) never sees half a report, and a failed write
 * leaves the old file as it was. A destination that exists and is not a
 * regular file (a terminal, a pipe, /dev/stdout) is written in place.
 */
#ifndef CIQ_OUTFILE_H
#define CIQ_OUTFILE_H

#include <stdio.h>

#include "errlen.h"

struct ciq_outfile {
	FILE *f;       /* write the content here */
	char *path;    /* the destination, as given (for messages) */
	char *dest;    /* what the temporary file is renamed to: path, or
	                  the file a symbolic link at path points to */
	char *tmp;     /* the temporary file, or NULL when writing in place */
};

/*
 * Open a temporary file for path (mode: the existing file's, else 0666
 * less the umask). Returns 0, or -1 with err ("cannot write 'PATH': why").
 */
int ciq_outfile_open(struct ciq_outfile *o, const char *path, char err[CIQ_ERRLEN]);

/*
 * Flush and sync what was written, then rename it over the destination.
 * Returns 0, or -1 with err, the temporary file removed and the
 * destination untouched. The outfile is closed either way.
 */
int ciq_outfile_commit(struct ciq_outfile *o, char err[CIQ_ERRLEN]);

/* Close and remove the temporary file. Safe on a closed outfile. */
void ciq_outfile_abort(struct ciq_outfile *o);

#endif
