/*
 * proc.h - tell whether a process still runs, and find the worker loop.
 *
 * Processes are read from Linux's /proc. Where it is missing, a process
 * is known by its pid alone and kill(pid, 0) says whether it lives.
 */
#ifndef CIQ_PROC_H
#define CIQ_PROC_H

#include <sys/types.h>

/* A process, told apart from a later one with the same pid. */
struct ciq_proc {
	pid_t pid;
	unsigned long long start;  /* start time in clock ticks since boot; 0 unknown */
};

/* Identify process pid; returns 0, or -1 when it does not exist. */
int ciq_proc_init(struct ciq_proc *w, pid_t pid);

/* Whether the process still runs (and is not a zombie). */
int ciq_proc_alive(const struct ciq_proc *w);

/*
 * The worker loop that runs this process: its parent, unless the parent
 * is a $(...) subshell (some shells fork one and run the command in a
 * child of it). Such a subshell ends with us, so it is not the loop; it
 * is recognised by its standard output, which is the same pipe as ours
 * (the one the loop reads the test id from). Then the loop is the
 * grandparent. Returns -1 when the parent cannot be read.
 */
pid_t ciq_proc_loop(void);

#endif
