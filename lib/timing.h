/*
 * timing.h - how long each test took in earlier builds.
 *
 * Each namespace keeps one hash, ciq:timing:{NAMESPACE}, test id ->
 * milliseconds, an exponential moving average (each new build counts for
 * half) of the durations the server measured from reservation to ack.
 * It outlives builds: its own TTL (--timing-ttl, 14 days) is renewed at
 * every merge. It is one key in its own slot, written and read with
 * plain commands, so the build's scripts never touch it.
 */
#ifndef CIQ_TIMING_H
#define CIQ_TIMING_H

#include "idlist.h"
#include "session.h"

/* The history keeps the ids of the last CIQ_TIMING_KEEP published lists
 * of its namespace. */
#define CIQ_TIMING_KEEP 10

/*
 * Note that the ids of l are in a list the leader publishes (seen.lua):
 * *gen 0 numbers a new list and sets *gen; a later call for the same list
 * passes it on. Returns CIQ_EX_OK or an exit status with err filled.
 */
int ciq_timing_seen(struct ciq_session *s, const struct ciq_idlist *l, long long *gen,
    char err[CIQ_ERRLEN]);

/*
 * Drop from the history every id that none of the last CIQ_TIMING_KEEP
 * lists held. Returns CIQ_EX_OK or an exit status with err filled.
 */
int ciq_timing_prune(struct ciq_session *s, char err[CIQ_ERRLEN]);

/*
 * Fold a finished build's durations into its namespace's history, once:
 * the build remembers that it was merged, so a second report does not
 * count it twice. Returns CIQ_EX_OK or an exit status with err filled.
 */
int ciq_timing_merge(struct ciq_session *s, char err[CIQ_ERRLEN]);

/*
 * Put l in timing order: the ids without history first, in the seeded
 * random order of ciq_idlist_shuffle, then the others, longest first
 * (ties bytewise). Returns CIQ_EX_OK or an exit status with err filled.
 */
int ciq_timing_order(struct ciq_session *s, struct ciq_idlist *l, const char *seed,
    char err[CIQ_ERRLEN]);

/*
 * Fold n durations (ms) of ids (C strings) into the history, each build
 * counting for half: one script per call, so that concurrent folds lose
 * no update. At most 1000 ids a call. Returns CIQ_EX_OK or an exit
 * status with err filled.
 */
int ciq_timing_fold(struct ciq_session *s, size_t n, const char **ids, const long long *ms,
    char err[CIQ_ERRLEN]);

/*
 * The history's duration of each id of l, in ms, into ms[0..l->n): -1 for
 * an id without history. Reads only. Returns CIQ_EX_OK or an exit status
 * with err filled.
 */
int ciq_timing_durations(struct ciq_session *s, const struct ciq_idlist *l, long long *ms,
    char err[CIQ_ERRLEN]);

#endif
