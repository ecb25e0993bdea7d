/*
 * wait.h - the report's wait for a build to finish.
 *
 * Three limits bound it: the init timeout (the build must be published by
 * then), the report timeout (the whole wait) and the inactive timeout (no
 * worker showed a sign of life for that long while work remains).
 * Meanwhile the build's progress goes to the progress display.
 */
#ifndef CIQ_WAIT_H
#define CIQ_WAIT_H

#include "progress.h"
#include "session.h"
#include "verdict.h"

/*
 * Poll the build of s until it finishes, a limit is reached, or a key of
 * the build is found lost; no_wait looks once. Returns CIQ_EX_OK with
 * *end saying how the wait ended, or the exit status of an outcome that
 * leaves nothing to report, with err filled: the connection failed, the
 * build was never published (CIQ_EX_NOTPOPULATED), or its keys vanished
 * (CIQ_EX_VANISHED). The progress display is left for the caller to
 * clear.
 */
int ciq_wait_build(struct ciq_session *s, int no_wait, struct ciq_progress *prog,
    enum ciq_wait_end *end, char err[CIQ_ERRLEN]);

#endif
