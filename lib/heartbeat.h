/*
 * heartbeat.h - keep a worker's reservations alive while its loop lives.
 *
 * ciq-pop leaves a small process behind for the tests it handed out. It
 * refreshes their reservations every beat, so a long test on a live
 * worker is never taken from it, and it watches the worker loop (the
 * process that ran ciq-pop): when the loop dies, even by SIGKILL, it gives
 * the tests back at once. It ends when the tests are acked, requeued or
 * released. When the whole machine is lost nothing refreshes the
 * reservations, and other workers reclaim them after the timeout.
 */
#ifndef CIQ_HEARTBEAT_H
#define CIQ_HEARTBEAT_H

#include <sys/types.h>

#include "session.h"

/* A process, told apart from a later one with the same pid. */
struct ciq_watch {
	pid_t pid;
	unsigned long long start;  /* start time in clock ticks since boot */
};

/* Identify process pid; returns 0, or -1 when it does not exist. */
int ciq_watch_init(struct ciq_watch *w, pid_t pid);

/* Whether the process still runs (and is not a zombie). */
int ciq_watch_alive(const struct ciq_watch *w);

/*
 * The worker loop that runs this process: its parent, unless the parent
 * is a $(...) subshell (some shells fork one and run the command in a
 * child of it). Such a subshell ends with us, so it is not the loop; it
 * is recognised by its standard output, which is the same pipe as ours
 * (the one the loop reads the test id from). Then the loop is the
 * grandparent. Returns -1 when the parent cannot be read.
 */
pid_t ciq_watch_loop(void);

/*
 * Beat for ids[0..n) every beat_ms until none is held any more, the loop
 * dies, or SIGTERM comes (from ciq_heartbeat_stop); then return. A dead
 * loop's tests are released at once. The connection (as conf says) is
 * opened when first needed. Returns 0, or -1 when the server
 * could not be reached (the reservations then age out as for a lost
 * machine).
 */
int ciq_heartbeat_run(struct ciq_conf *conf, const struct ciq_watch *loop,
    long long beat_ms, int n, const char **ids);

/*
 * The heartbeat's note: a file under $XDG_RUNTIME_DIR (else $TMPDIR, else
 * /tmp)/ciq-UID/, named after the queue, build and worker, saying which
 * process beats for which ids. ciq-pop writes it before it returns, so
 * the ack that follows finds it, and the ack stops the heartbeat without
 * a word to the server: a short test costs one call to pop and one to
 * ack, nothing more. Returns 0, or -1 (the heartbeat then simply ends at
 * its next beat).
 */
int ciq_heartbeat_announce(const struct ciq_conf *c, const struct ciq_watch *hb,
    int n, const char **ids);

/*
 * After ids[0..n) left this worker's hands (acked, requeued, released):
 * stop this worker's heartbeat if every id it beats for is among them
 * (n < 0: whatever it beats for). Can't fail; does nothing when there is
 * no such heartbeat.
 */
void ciq_heartbeat_stop(const struct ciq_conf *c, int n, const char **ids);

#endif
