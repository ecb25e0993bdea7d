/*
 * fuzz_junitxml.c - libFuzzer harness for the JUnit reader (lib/junitxml.c)
 * and the testcase encoding (lib/cases.c).
 *
 * The input is any bytes, read as a runner's JUnit report: untrusted
 * input that ciq-ack --junit parses. Whatever it is, the reader must
 * either refuse it with a message or give testcases that encode, and
 * decode back to the same encoding. The input is also decoded directly
 * as an encoding, which must fail cleanly or round-trip.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "junitxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_junitxml: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* Encode c, decode it, encode again: the two encodings must be equal. */
static void
round_trip(const struct ciq_cases *c)
{
	struct ciq_cases back;
	size_t len, len2;
	char *enc = ciq_cases_encode(c, &len), *enc2;

	memset(&back, 0, sizeof back);
	CHECK(ciq_cases_decode(enc, len, &back) == 0);
	enc2 = ciq_cases_encode(&back, &len2);
	CHECK(len == len2 && memcmp(enc, enc2, len) == 0);
	free(enc);
	free(enc2);
	ciq_cases_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ciq_cases c;
	char err[CIQ_ERRLEN];

	memset(&c, 0, sizeof c);
	err[0] = '\0';
	if (ciq_junitxml_parse((const char *)data, size, &c, err) == 0) {
		round_trip(&c);
		ciq_cases_free(&c);
	} else {
		/* Refused: with a message, and nothing left behind. */
		CHECK(err[0] != '\0' && memchr(err, '\0', CIQ_ERRLEN) != NULL);
	}
	memset(&c, 0, sizeof c);
	if (ciq_cases_decode((const char *)data, size, &c) == 0) {
		round_trip(&c);
		ciq_cases_free(&c);
	}
	return 0;
}
