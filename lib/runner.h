/*
 * runner.h - run the user's test runner once, on a sequence of test ids.
 *
 * A runner is a command that reads test ids on its standard input, one a
 * line, runs them in that order in one process and exits 0 when all
 * passed (ciq-bisect(1)). It runs here in a process group of its own,
 * with:
 *
 *   - standard input: an unlinked file holding exactly the bytes given;
 *   - standard output and error: the descriptor given, or /dev/null;
 *   - the other descriptors the caller inherited, as any command gets them
 *     (those this process opens are close-on-exec);
 *   - the caller's signal mask, and SIGCHLD at its default.
 *
 * When the runner exits, whatever it left running in its process group
 * is killed (SIGKILL), so that no step leaves state behind for the next.
 * When it runs past the time limit, its whole process group is killed.
 *
 * While it runs, SIGINT, SIGTERM and SIGHUP are blocked and waited for:
 * one that arrives kills the runner's group and ends the run as
 * interrupted, so the caller can exit without leaving it behind. The
 * caller's signal mask and SIGCHLD disposition are restored on return.
 * Nothing here prints.
 */
#ifndef CIQ_RUNNER_H
#define CIQ_RUNNER_H

#include <stddef.h>

#include "errlen.h"

enum ciq_run_end {
	CIQ_RUN_EXITED,      /* status: its exit status */
	CIQ_RUN_SIGNALED,    /* status: the signal that killed it */
	CIQ_RUN_TIMEDOUT,    /* ran past the time limit: its group was killed */
	CIQ_RUN_INTERRUPTED, /* status: the signal this process got; the group was killed */
	CIQ_RUN_NOEXEC       /* status: execvp's errno: the command never ran */
};

struct ciq_run {
	enum ciq_run_end end;
	int status;
	long long ms;        /* from the start to the end of the run */
};

/*
 * Run argv[0] (looked up in PATH, as execvp does) with argv, standard
 * input in[0..len), for at most timeout_ms (> 0). out receives its
 * standard output and error; -1 sends them to /dev/null. Returns 0 with
 * *r filled, or -1 with err set when the run could not be set up (no
 * file for the input, fork failed, ...).
 */
int ciq_runner_run(char *const argv[], const char *in, size_t len, int out,
    long long timeout_ms, struct ciq_run *r, char err[CIQ_ERRLEN]);

#endif
