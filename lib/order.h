/*
 * order.h - the order in which a worker was handed its tests.
 *
 * pop.lua appends every id it hands a worker, reclaims and requeues
 * included, to the build's list order:WORKER (its first element is the
 * marker, see lua/prelude.lua). This reads it back: the input of
 * ciq-bisect, and of ciq-report --order.
 */
#ifndef CIQ_ORDER_H
#define CIQ_ORDER_H

#include <stddef.h>

#include "errlen.h"
#include "session.h"

struct ciq_order {
	char **ids;     /* each its own allocation, NUL-terminated */
	size_t *lens;   /* byte lengths: an id may hold any byte but NUL and newline */
	size_t n;
};

/*
 * Read the order of worker in the session's build. Returns CIQ_EX_OK;
 * CIQ_EX_NO when the build has no such worker or it was handed nothing
 * ("worker 'W' took no test in build 'B'"); CIQ_EX_VANISHED when the build
 * is gone, or the worker took tests but its list lost its marker (it was
 * evicted or deleted: what is left may be partial); or another exit status
 * of a failed connection or refused command. err says which. Free the
 * order with ciq_order_free() either way.
 */
int ciq_order_read(struct ciq_session *s, const char *worker, struct ciq_order *o,
    char err[CIQ_ERRLEN]);

void ciq_order_free(struct ciq_order *o);

#endif
