/*
 * verdict.h - the rule that turns a build's records into the report's
 * verdict and exit status.
 *
 * Worst first, and never green on doubt: a wait that ended early
 * (stopped, abandoned, unfinished), then doubt without a recorded
 * failure (keys lost, tests without a result: lost, 82), then lists that
 * differed (mismatch, 84), then failures (failed, 1; doubt as well is
 * said on the line), then passed (0).
 *
 * Failures are the summary's failed count: the failures of tests on the
 * known-flaky list (ciq_summary_quarantine) are not in it, so they alone
 * never fail a build, and the line says how many there were. They never
 * lift doubt either: with keys lost or tests without a result and no
 * other failure, the verdict is lost.
 */
#ifndef CIQ_VERDICT_H
#define CIQ_VERDICT_H

#include "summary.h"

/* How the report's wait for the build ended. */
enum ciq_wait_end {
	CIQ_WAIT_FINISHED,      /* nothing queued, nothing running */
	CIQ_WAIT_STOPPED,       /* the build reached its --max-failures */
	CIQ_WAIT_NOT_FINISHED,  /* --no-wait, and work remains */
	CIQ_WAIT_ABANDONED,     /* work remains, no worker shows life */
	CIQ_WAIT_TIMED_OUT,     /* the report timeout expired */
	CIQ_WAIT_DOUBT          /* keys of the build were lost */
};

/*
 * Fill v's word, status and line from how the wait ended and the
 * summary. inactive is the inactive timeout as configured, for the
 * abandoned line. v's build and ns are left as they are.
 */
void ciq_verdict_judge(struct ciq_verdict *v, enum ciq_wait_end end,
    const struct ciq_summary *sum, const char *inactive);

#endif
