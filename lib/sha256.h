/*
 * sha256.h - SHA-256 (FIPS 180-4), for the id list's digest and the seed.
 *
 * Our own, so that the tools that never speak TLS need not load OpenSSL:
 * its relocations alone cost each process more than the rest of its work.
 */
#ifndef CIQ_SHA256_H
#define CIQ_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define CIQ_SHA256_LEN 32

struct ciq_sha256 {
	uint32_t h[8];
	uint64_t total;           /* bytes hashed so far */
	unsigned char block[64];  /* the partial block, total % 64 bytes */
};

void ciq_sha256_init(struct ciq_sha256 *c);
void ciq_sha256_update(struct ciq_sha256 *c, const void *data, size_t len);
/* Pad, write the digest to md, and leave c to be initialised again. */
void ciq_sha256_final(struct ciq_sha256 *c, unsigned char md[CIQ_SHA256_LEN]);

#endif
