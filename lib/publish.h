/*
 * publish.h - putting a build's list in the queue, once: the leader's
 * publish, a follower's join, and a retried job's list.
 *
 * Functions return an exit status of exit.h and fill err; they never
 * print.
 */
#ifndef CIQ_PUBLISH_H
#define CIQ_PUBLISH_H

#include "idlist.h"
#include "session.h"
#include "split.h"

/*
 * Order l as the leader publishes it: the conf's --order (a seeded
 * shuffle, timing order from the history, or as given). Reads only.
 * Returns CIQ_EX_OK, or an exit status with err filled.
 */
int ciq_publish_order(struct ciq_session *s, struct ciq_idlist *l, char err[CIQ_ERRLEN]);

/*
 * The leader: order l as the conf says (seeded shuffle, timing order, or
 * as given), push it to the hidden queue in pipelined batches (again
 * from scratch after a broken connection, within the reconnect budget),
 * then mark the build ready with its total and digest. With repeat above
 * 1 the build is a grind: the queue holds repeat rounds of runs of the
 * list (lua/prelude.lua). split, when not NULL, names the units that
 * were split into parts, for the report (meta "split:UNIT"). Returns
 * CIQ_EX_OK, or an exit status with err filled.
 */
int ciq_publish(struct ciq_session *s, struct ciq_idlist *l, long long repeat,
    const struct ciq_split *split, const char *digest, char err[CIQ_ERRLEN]);

/*
 * A follower: wait for leader's publish (leader may be NULL: unknown),
 * within the init timeout, and register. With a list l and its digest (digest may be NULL: no list),
 * a digest other than the published one is recorded in the build unless
 * the lists may differ. Returns CIQ_EX_OK and the JOIN reply in *reply
 * ({status, total, digest, leader}; the caller frees it), or an exit
 * status (CIQ_EX_TEMPFAIL: never published in time) with err filled.
 */
int ciq_join(struct ciq_session *s, const char *leader, const struct ciq_idlist *l,
    const char *digest, int may_differ, redisReply **reply, char err[CIQ_ERRLEN]);

/*
 * Whether the server may evict the build's keys (a maxmemory with a
 * policy other than noeviction): 1 with the warning to give in warning,
 * else 0. A server that refuses CONFIG is not second-guessed.
 */
int ciq_eviction_risk(struct ciq_session *s, char warning[CIQ_ERRLEN]);

/*
 * Retry mode: set up this worker's list of tests to run again once the
 * build's queue is drained (waiting for the build to be published
 * first). Returns CIQ_EX_OK with *n, the tests to run again, or -1 when
 * the build is still running (join it as usual); or an exit status with
 * err filled (CIQ_EX_VANISHED: the build's keys are gone).
 */
int ciq_retry_list(struct ciq_session *s, long long *n, char err[CIQ_ERRLEN]);

#endif
