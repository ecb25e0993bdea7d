/*
 * take.h - reserve this worker's next tests and hand them to the loop:
 * ciq-pop's job, and ciq-ack --next's after its results.
 */
#ifndef CIQ_TAKE_H
#define CIQ_TAKE_H

#include "session.h"
#include "tool.h"

/*
 * Note the worker loop that runs this tool, for the heartbeat: call it
 * first, before anything that may wait. A loop that dies while the tool
 * waits for a test is then known to be gone (even when the tool is handed
 * to another parent, or the pid is used again), and the heartbeat gives
 * the test back at once instead of beating for it forever.
 */
void ciq_take_begin(void);

/*
 * Reserve up to n tests with pop.lua. first is a reply of pop.lua that a
 * call which also did something else got (next.lua), or NULL; it stays
 * the caller's. While the answer is to wait (tests in flight elsewhere,
 * the build not yet published), wait and ask again. Then print the ids,
 * one a line (longfmt: "ATTEMPT ORIGIN ID"), close the session and the
 * standard output, and start the loop's heartbeat or tell it the ids.
 * Returns CIQ_EX_OK with tests, CIQ_EX_NO with none for this worker (a
 * warning says why when it is not the end of the build: --max-failures,
 * --max-consecutive-failures, --max-duration); exits on an error.
 */
int ciq_take(const struct ciq_tool *t, struct ciq_session *s, long long n, int longfmt,
    const redisReply *first);

/*
 * As ciq_take, for one test, printed with --long's "ATTEMPT ORIGIN ID",
 * but the session and the standard output stay open (flushed): ciq-loop
 * takes one test after another over one connection.
 */
int ciq_take_keep(const struct ciq_tool *t, struct ciq_session *s, const redisReply *first);

#endif
