/*
 * fuzz_compress.c - libFuzzer harness for the stored form of outputs
 * (lib/compress.c).
 *
 * The input is a value as the server may hold it, written by ciq or
 * changed by anyone. Decoding it must either fail with a message or give
 * at most CAP bytes (all of the value when it is raw); never read outside
 * it. Then the input as an output: encoding it and decoding the result
 * must give it back, byte for byte, whatever it holds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 65536

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_compress: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
		    #cond); \
		abort(); \
	} \
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: the sanitizer sees any read past it. */
	char *in = malloc(size ? size : 1), *out, *enc, err[CIQ_ERRLEN];
	size_t len, elen;

	memcpy(in, data, size);
	err[0] = '\0';
	if (ciq_compress_decode(in, size, CAP, &out, &len, err) == 0) {
		CHECK(out != NULL && out[len] == '\0');
		CHECK(len <= CAP || len == size);
		free(out);
	} else {
		CHECK(out == NULL && err[0] != '\0');
	}

	enc = ciq_compress_encode(in, size, &elen);
	CHECK(enc[elen] == '\0');
	err[0] = '\0';
	CHECK(ciq_compress_decode(enc, elen, size, &out, &len, err) == 0);
	CHECK(len == size && memcmp(out, in, size) == 0);
	free(out);
	free(enc);
	free(in);
	return 0;
}
