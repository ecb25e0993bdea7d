/*
 * hblog.h - the loop's log: how the tools tell a worker loop's heartbeat
 * (heartbeat.h) what the loop holds.
 *
 * The log is a file in the user's private directory (privdir.h), named
 * after the queue, build, worker and loop. The tools append to it, one
 * write(2) each, so appends from several processes never interleave:
 *
 *   +ID    ciq-pop handed the test out
 *   -ID    ciq-ack, ciq-requeue or ciq-release: the test left the
 *          worker's hands
 *   -      every test it held did
 *
 * An id that is empty (it would read as "-") or holds a newline (two
 * lines) is never written: no test has one. The heartbeat holds an
 * exclusive flock(2) on the log for its whole life: a ciq-pop that can
 * take the lock knows none runs. See STORAGE in ciq(7).
 */
#ifndef CIQ_HBLOG_H
#define CIQ_HBLOG_H

#include <sys/types.h>

#include "conf.h"

/*
 * ciq-pop: ids[0..n) were reserved for the worker loop with pid loop.
 * Append them to the loop's log. Returns 1 when the loop's heartbeat
 * runs; 0 when none does, and *lock is then a descriptor of the log on
 * which this process holds the lock, for the heartbeat it starts to
 * inherit; -1, with errno set and a message in err naming the directory
 * or the log, when the log cannot be written.
 */
int ciq_hblog_hold(const struct ciq_conf *c, pid_t loop, int n, const char **ids,
    int *lock, char err[CIQ_ERRLEN]);

/*
 * ciq-ack, ciq-requeue, ciq-release: ids[0..n) left this worker's hands
 * (n < 0: every test it held). Tells the heartbeat of the loop that runs
 * this process (its parent, or grandparent past a $(...) subshell:
 * proc.h), if there is one. Can't fail: a heartbeat that is not told
 * finds out at its next beat.
 */
void ciq_hblog_done(const struct ciq_conf *c, int n, const char **ids);

/* One line of the log, as the heartbeat reads it. */
enum ciq_hblog_line {
	CIQ_HBLOG_HOLD,      /* "+ID" */
	CIQ_HBLOG_DONE,      /* "-ID" */
	CIQ_HBLOG_DONE_ALL,  /* "-" */
	CIQ_HBLOG_SKIP       /* anything else: the tail of a line cut by a punched hole */
};

/* What line (without its newline) says; *id points into it. */
enum ciq_hblog_line ciq_hblog_parse(const char *line, const char **id);

/*
 * Remove the logs that killed loops left behind: those whose loop is gone
 * and whose lock nobody holds (their heartbeat was killed too, or they
 * could not tell it). The lock is taken first, so no heartbeat has the
 * log while it goes, and a live loop's log is never touched. Can't fail.
 */
void ciq_hblog_sweep(void);

/* Remove the log of the loop with pid loop (its heartbeat, holding the
 * lock, ends). Can't fail. */
void ciq_hblog_remove(const struct ciq_conf *c, pid_t loop);

#endif
