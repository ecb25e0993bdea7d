/*
 * record.h - say what the server answered to a worker's results or
 * requeues (results.h): a warning on stderr for each test that was not
 * simply recorded or requeued. ciq-ack's, ciq-requeue's and ciq-loop's.
 */
#ifndef CIQ_RECORD_H
#define CIQ_RECORD_H

#include "results.h"

/*
 * Send an ack of ids[0..n) with status (pass, fail, skip) and the
 * attachments a that also reserves this worker's next test (next.lua:
 * pop.lua's arguments for one test, as take.c sends them). As
 * ciq_results_send; res->next is pop.lua's reply.
 */
int ciq_record_next(struct ciq_session *s, const char *status, const struct ciq_attach *a,
    int n, char *const *ids, struct ciq_results *res, char err[CIQ_ERRLEN]);

/* Send a requeue of ids[0..n), with the build's --max-requeues and
 * --requeue-tolerance. As ciq_results_send. */
int ciq_record_requeue(struct ciq_session *s, const struct ciq_attach *a, int n,
    char *const *ids, struct ciq_results *res, char err[CIQ_ERRLEN]);

/*
 * The answers to an ack (CIQ_S_ACK or CIQ_S_NEXT). Returns CIQ_EX_OK, or
 * CIQ_EX_DATAERR when a test was never this worker's (not recorded).
 */
int ciq_record_acked(const struct ciq_session *s, const struct ciq_results *res);

/*
 * The answers to a requeue. Returns CIQ_EX_OK when every test went back
 * to the queue, CIQ_EX_NO when one was refused (its failure stands), or
 * CIQ_EX_DATAERR (which wins) when one was never this worker's.
 */
int ciq_record_requeued(const struct ciq_session *s, const struct ciq_results *res);

#endif
