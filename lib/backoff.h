/*
 * backoff.h - exponential backoff with jitter, for waiting on the server.
 *
 * Each delay is drawn uniformly from [d/2, d], where d starts at the base
 * and doubles up to the cap: waiting workers spread out instead of
 * polling in step.
 */
#ifndef CIQ_BACKOFF_H
#define CIQ_BACKOFF_H

#include "prng.h"

struct ciq_backoff {
	long long base_ms, cap_ms, cur_ms;
	struct ciq_prng rng;
};

void ciq_backoff_init(struct ciq_backoff *b, long long base_ms, long long cap_ms);

/* The next delay in ms. */
long long ciq_backoff_next(struct ciq_backoff *b);

#endif
