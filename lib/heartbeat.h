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
 * It learns what the loop holds from the loop's log, a file under
 * $XDG_RUNTIME_DIR (else $TMPDIR, else /tmp)/ciq-UID/ named after the
 * queue, build, worker and loop. The tools append to it, one write(2)
 * each: ciq-pop a line "+ID" for each test it hands out; ciq-ack,
 * ciq-requeue and ciq-release "-ID" for each test that left the worker's
 * hands, or "-" for all of them. A test done within one beat costs the
 * server nothing more than its pop and its ack, and starting a test
 * costs no fork. The heartbeat holds an exclusive flock(2) on the log for
 * its whole life: a ciq-pop that can take the lock knows none runs.
 */
#ifndef CIQ_HEARTBEAT_H
#define CIQ_HEARTBEAT_H

#include <sys/types.h>

#include "conf.h"
#include "watch.h"

/*
 * ciq-pop: ids[0..n) were reserved for the worker loop with pid loop.
 * Append them to the loop's log. Returns 1 when the loop's heartbeat
 * runs; 0 when none does, and *lock is then a descriptor of the log on
 * which this process holds the lock, for the heartbeat it starts to
 * inherit (see ciq_heartbeat_run); -1, with errno set and a message in
 * err naming the directory or the log, when the log cannot be written.
 * Empty ids, and ids with a newline, are never written (see below).
 */
int ciq_heartbeat_hold(const struct ciq_conf *c, pid_t loop, int n, const char **ids,
    int *lock, char err[CIQ_ERRLEN]);

/*
 * ciq-ack, ciq-requeue, ciq-release: ids[0..n) left this worker's hands
 * (n < 0: every test it held). Tells the heartbeat of the loop that runs
 * this process (its parent), if there is one. Can't fail: a heartbeat
 * that is not told finds out at its next beat. An empty id, which would
 * read as "every test", or one with a newline, is left out: only n < 0
 * lets go of all.
 */
void ciq_heartbeat_done(const struct ciq_conf *c, int n, const char **ids);

/*
 * Be the heartbeat of the loop, on the log whose lock descriptor this
 * process holds: read the log, beat every beat_ms while a test is held,
 * and when the loop dies or SIGTERM comes, give back the tests still
 * held, remove the log and return. First it removes the logs that loops
 * killed with their heartbeat left behind. The connection (as conf says) is
 * opened at the first beat and closed whenever nothing is held. Returns
 * 0, or -1 when the tests could not be given back (they then age out as
 * for a lost machine).
 */
int ciq_heartbeat_run(struct ciq_conf *conf, const struct ciq_watch *loop,
    long long beat_ms, int lock);

#endif
