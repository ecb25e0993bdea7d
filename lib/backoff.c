/*
 * backoff.c - jittered exponential delays.
 */
#include "backoff.h"

void
ciq_backoff_init(struct ciq_backoff *b, long long base_ms, long long cap_ms)
{
	b->base_ms = base_ms > 0 ? base_ms : 1;
	b->cap_ms = cap_ms > b->base_ms ? cap_ms : b->base_ms;
	b->cur_ms = b->base_ms;
	ciq_prng_seed_entropy(&b->rng);
}

long long
ciq_backoff_next(struct ciq_backoff *b)
{
	long long d = b->cur_ms, half = d / 2;

	if (b->cur_ms < b->cap_ms)
		b->cur_ms = b->cur_ms * 2 > b->cap_ms ? b->cap_ms : b->cur_ms * 2;
	return half + (long long)ciq_prng_below(&b->rng, (uint64_t)(d - half) + 1);
}
