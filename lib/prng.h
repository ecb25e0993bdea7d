/*
 * prng.h - a small, portable, seedable random number generator.
 *
 * splitmix64 (Steele, Lea and Flood, 2014): the state advances by the
 * constant 0x9e3779b97f4a7c15 and each output is the state mixed by two
 * xor-shift-multiply rounds. Same seed, same sequence, on any machine.
 */
#ifndef CIQ_PRNG_H
#define CIQ_PRNG_H

#include <stddef.h>
#include <stddef.h>
#include <stdint.h>

struct ciq_prng {
	uint64_t state;
};

/* Seed from the first 8 bytes, big-endian, of SHA-256(seed). */
void ciq_prng_seed_string(struct ciq_prng *r, const char *seed, size_t len);

/* Seed from the clock and the process id, for jitter. */
void ciq_prng_seed_entropy(struct ciq_prng *r);

uint64_t ciq_prng_next(struct ciq_prng *r);

/*
 * A uniform integer in [0, bound), bound > 0, by rejection: draws below
 * 2^64 mod bound are thrown away, so every value is equally likely.
 */
uint64_t ciq_prng_below(struct ciq_prng *r, uint64_t bound);

#endif
