/*
 * prng.c - splitmix64 and unbiased bounded draws.
 */
#include <time.h>
#include <unistd.h>

#include "prng.h"
#include "sha256.h"

void
ciq_prng_seed_string(struct ciq_prng *r, const char *seed, size_t len)
{
	struct ciq_sha256 ctx;
	unsigned char md[CIQ_SHA256_LEN];

	ciq_sha256_init(&ctx);
	ciq_sha256_update(&ctx, seed, len);
	ciq_sha256_final(&ctx, md);
	r->state = 0;
	for (int i = 0; i < 8; i++)
		r->state = (r->state << 8) | md[i];
}

void
ciq_prng_seed_entropy(struct ciq_prng *r)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	r->state = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^
	    ((uint64_t)getpid() << 32);
	(void)ciq_prng_next(r);
}

uint64_t
ciq_prng_next(struct ciq_prng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

uint64_t
ciq_prng_below(struct ciq_prng *r, uint64_t bound)
{
	/* 2^64 mod bound, computed without 128-bit arithmetic. */
	uint64_t threshold = (0 - bound) % bound, x;

	do
		x = ciq_prng_next(r);
	while (x < threshold);
	return x % bound;
}
