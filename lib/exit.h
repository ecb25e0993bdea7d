/*
 * exit.h - the exit statuses of every ciq tool.
 *
 * This header is the only source of truth: the man pages, the tests
 * (tests/exit_codes.bash is generated from it) and the mains all follow it.
 * 1 is never an error: it is each tool's normal "no".
 */
#ifndef CIQ_EXIT_H
#define CIQ_EXIT_H

#define CIQ_EX_OK           0  /* success */
#define CIQ_EX_NO           1  /* exhausted (pop), refused (requeue), tests failed (report), incomplete (env) */
#define CIQ_EX_USAGE       64  /* bad command line */
#define CIQ_EX_DATAERR     65  /* bad input data: rejected before anything was written */
#define CIQ_EX_UNAVAILABLE 69  /* queue server unreachable, or the connection broke after retries */
#define CIQ_EX_SOFTWARE    70  /* internal error or unexpected reply from the server */
#define CIQ_EX_TEMPFAIL    75  /* timed out waiting (leader, report) */
#define CIQ_EX_CONFIG      78  /* configuration missing or invalid */
#define CIQ_EX_NOTPOPULATED 80 /* report: the queue was never populated */
#define CIQ_EX_ABANDONED   81  /* report: tests left unrun and no worker alive */
#define CIQ_EX_VANISHED    82  /* the build's keys are gone: expired, evicted or flushed */
#define CIQ_EX_STOPPED     83  /* report: the build stopped at --max-failures */
#define CIQ_EX_MISMATCH    84  /* report: a worker's list differed from the published one */
#define CIQ_EX_ALONE       85  /* bisect: the failing test fails alone: not a leak */
#define CIQ_EX_NOREPRO     86  /* bisect: the suspects then the failing test pass (or flaky) */
#define CIQ_EX_NORUNNER    87  /* bisect, ciq-worker.sh, ciq-run: the runner command cannot be executed */
#define CIQ_EX_UNFINISHED  88  /* bisect: --max-steps ran out before a confirmed minimal set */

#endif
