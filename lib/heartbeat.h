/*
 * heartbeat.h - keep a worker's reservations alive while its loop lives.
 *
 * Each worker loop (the shell that runs ciq-pop and ciq-ack) gets one
 * heartbeat process, started by the first ciq-pop that hands it a test
 * and gone soon after the loop ends. It refreshes the reservations of
 * the tests the loop holds every beat, so a long test on a live worker
 * is never taken from it, and it watches the loop: when the loop dies,
 * even by SIGKILL, it gives its tests back at once. When the whole
 * machine is lost nothing refreshes the reservations, and other workers
 * reclaim them after the timeout.
 *
 * It learns what the loop holds from the loop's log (hblog.h): starting
 * a test costs no fork, and a test done within one beat costs the server
 * nothing more than its pop and its ack.
 */
#ifndef CIQ_HEARTBEAT_H
#define CIQ_HEARTBEAT_H

#include <sys/types.h>

#include "conf.h"
#include "proc.h"

/*
 * ciq-pop: ids[0..n) were reserved for the worker loop loop, as the tool
 * found it when it began (conf as checked by the session): a loop that
 * has died since is seen gone at the heartbeat's first look, which gives
 * the ids back. Tell the loop's heartbeat, and start
 * it if none runs: a process in its own session, with /dev/null for
 * every descriptor but the log it holds locked (a descriptor held open
 * would keep $(...) or a test harness waiting), that runs
 * the heartbeat (heartbeat.c) and ends with _exit: it never returns here. It
 * outlives ciq-pop, whose exit hands it to init, and connects only when
 * its first beat is due. Returns 0; CIQ_HEARTBEAT_UNTOLD when the log
 * cannot be written, or CIQ_HEARTBEAT_UNSTARTED when the heartbeat
 * cannot be started, with err filled (the log and why; strerror).
 */
#define CIQ_HEARTBEAT_UNTOLD    -1
#define CIQ_HEARTBEAT_UNSTARTED -2
int ciq_heartbeat_start(struct ciq_conf *conf, const struct ciq_proc *loop, int n, const char **ids,
    char err[CIQ_ERRLEN]);

#endif
