/*
 * record.h - say what the server answered to a worker's results or
 * requeues (results.h): a warning on stderr for each test that was not
 * simply recorded or requeued. ciq-ack's, ciq-requeue's and ciq-loop's.
 */
#ifndef CIQ_RECORD_H
#define CIQ_RECORD_H

#include "results.h"

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
