/*
 * unit.c - the checks' counters and main; the small suites (number,
 * keys, sha256). The others are in t_*.c.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "number.h"
#include "sha256.h"
#include "unit.h"

static unsigned long checks, failed;

void
unit_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (ok)
		return;
	failed++;
	printf("%s:%d: failed: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void
unit_check_str(const char *got, const char *want, const char *file, int line,
    const char *what)
{
	int ok = got == want || (got != NULL && want != NULL && strcmp(got, want) == 0);

	unit_check(ok, file, line, "%s is \"%s\", expected \"%s\"", what,
	    got ? got : "(null)", want ? want : "(null)");
}

int
unit_contains(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

/* ---- number.h ---- */

/* What ciq_number_fixed says of s, and *out untouched when it fails. */
static int
fixed(const char *s, int decimals, long long min, long long max, long long *out)
{
	long long v = 777;
	int rc = ciq_number_fixed(s, decimals, min, max, &v);

	if (rc != CIQ_NUMBER_OK)
		CHECK(v == 777);
	*out = v;
	return rc;
}

void
test_number(void)
{
	long long v;
	static const char *const bad_form[] = {
		"", "-1", "+1", " 1", "1 ", "05", "00", "0x10", "1e3", "inf", "nan",
		"1,5", "１", "1\n", "٣",
	};

	CHECK(fixed("0", 0, 0, 10, &v) == CIQ_NUMBER_OK && v == 0);
	CHECK(fixed("42", 0, 0, 100, &v) == CIQ_NUMBER_OK && v == 42);
	for (size_t i = 0; i < sizeof bad_form / sizeof *bad_form; i++)
		unit_check(fixed(bad_form[i], 0, 0, LLONG_MAX, &v) == CIQ_NUMBER_FORM,
		    __FILE__, __LINE__, "whole \"%s\" is not CIQ_NUMBER_FORM", bad_form[i]);
	/* No point at all without decimals. */
	CHECK(fixed("1.0", 0, 0, 10, &v) == CIQ_NUMBER_FORM);
	CHECK(fixed("1.", 3, 0, 10000, &v) == CIQ_NUMBER_FORM);
	CHECK(fixed(".5", 3, 0, 10000, &v) == CIQ_NUMBER_FORM);
	CHECK(fixed("00.5", 3, 0, 10000, &v) == CIQ_NUMBER_FORM);
	CHECK(fixed("1.2.3", 3, 0, 10000, &v) == CIQ_NUMBER_FORM);
	CHECK(fixed("1", -1, 0, 10, &v) == CIQ_NUMBER_FORM);
	CHECK(fixed("1", 10, 0, LLONG_MAX, &v) == CIQ_NUMBER_FORM);
	/* The range, inclusive. */
	CHECK(fixed("5", 0, 6, 10, &v) == CIQ_NUMBER_RANGE);
	CHECK(fixed("11", 0, 6, 10, &v) == CIQ_NUMBER_RANGE);
	CHECK(fixed("6", 0, 6, 10, &v) == CIQ_NUMBER_OK && v == 6);
	CHECK(fixed("10", 0, 6, 10, &v) == CIQ_NUMBER_OK && v == 10);
	CHECK(fixed("9223372036854775807", 0, 0, LLONG_MAX, &v) == CIQ_NUMBER_OK &&
	    v == LLONG_MAX);
	CHECK(fixed("9223372036854775808", 0, 0, LLONG_MAX, &v) == CIQ_NUMBER_RANGE);
	CHECK(fixed("99999999999999999999999999", 0, 0, LLONG_MAX, &v) == CIQ_NUMBER_RANGE);
	CHECK(fixed("9223372036854775.807", 3, 0, LLONG_MAX, &v) == CIQ_NUMBER_OK &&
	    v == LLONG_MAX);
	CHECK(fixed("9223372036854775.808", 3, 0, LLONG_MAX, &v) == CIQ_NUMBER_RANGE);
	CHECK(fixed("9223372036854776", 3, 0, LLONG_MAX, &v) == CIQ_NUMBER_RANGE);
	/* Decimals: scaled, never rounded. */
	CHECK(fixed("0.000001", CIQ_NUMBER_RATIO_DECIMALS, 0, 1000000, &v) == CIQ_NUMBER_OK && v == 1);
	CHECK(fixed("1", CIQ_NUMBER_RATIO_DECIMALS, 0, 1000000, &v) == CIQ_NUMBER_OK && v == 1000000);
	CHECK(fixed("0.0000001", CIQ_NUMBER_RATIO_DECIMALS, 0, 1000000, &v) == CIQ_NUMBER_DECIMALS);
	CHECK(fixed("1.5", 1, 0, 100, &v) == CIQ_NUMBER_OK && v == 15);

	CHECK(ciq_number_ms("30", 0, 100000, &v) == CIQ_NUMBER_OK && v == 30000);
	CHECK(ciq_number_ms("0.5", 0, 100000, &v) == CIQ_NUMBER_OK && v == 500);
	CHECK(ciq_number_ms("0.001", 0, 100000, &v) == CIQ_NUMBER_OK && v == 1);
	CHECK(ciq_number_ms("0.500", 0, 100000, &v) == CIQ_NUMBER_OK && v == 500);
	CHECK(ciq_number_ms("0.0005", 0, 100000, &v) == CIQ_NUMBER_DECIMALS);
	CHECK(ciq_number_ms("0.5000", 0, 100000, &v) == CIQ_NUMBER_DECIMALS);
	CHECK(ciq_number_ms("0", 1, 100000, &v) == CIQ_NUMBER_RANGE);
	CHECK(ciq_number_ms("100.001", 0, 100000, &v) == CIQ_NUMBER_RANGE);
	CHECK(ciq_number_ms("-0.5", 0, 100000, &v) == CIQ_NUMBER_FORM);
	CHECK(ciq_number_whole("12", 0, 100, &v) == CIQ_NUMBER_OK && v == 12);
	CHECK(ciq_number_whole("1.0", 0, 100, &v) == CIQ_NUMBER_FORM);
	CHECK(ciq_number_whole("101", 0, 100, &v) == CIQ_NUMBER_RANGE);
}

/* ---- keys.h ---- */

static void
check_prefix(const char *ns, const char *build, const char *want)
{
	struct ciq_keys k;

	ciq_keys_init(&k, ns, build);
	CHECK_STR(k.prefix, want);
	CHECK(k.len == strlen(want));
	ciq_keys_free(&k);
	CHECK(k.prefix == NULL);
}

void
test_keys(void)
{
	struct ciq_keys k;
	char many[301];
	char *s;

	check_prefix("", "b1", "ciq:{b1}:");
	check_prefix("ns", "b1", "ciq:{ns:b1}:");
	check_prefix("a:b", "c%d", "ciq:{a%3Ab:c%25d}:");
	check_prefix("", "x:y", "ciq:{x%3Ay}:");
	check_prefix("%3A", "", "ciq:{%253A:}:");
	check_prefix("", "", "ciq:{}:");
	/* The pairs the escape tells apart. */
	{
		struct ciq_keys a, b;

		ciq_keys_init(&a, "a", "b:c");
		ciq_keys_init(&b, "a:b", "c");
		CHECK(strcmp(a.prefix, b.prefix) != 0);
		CHECK_STR(a.prefix, "ciq:{a:b%3Ac}:");
		ciq_keys_free(&a);
		ciq_keys_free(&b);
	}
	/* Every byte escaped: the largest growth. */
	memset(many, ':', 300);
	many[300] = '\0';
	ciq_keys_init(&k, many, many);
	CHECK(k.len == 5 + 900 + 1 + 900 + 2);
	ciq_keys_free(&k);
	memset(many, '%', 300);
	ciq_keys_init(&k, "", many);
	CHECK(k.len == 5 + 900 + 2 && strncmp(k.prefix + 5, "%25%25", 6) == 0);
	ciq_keys_free(&k);

	ciq_keys_init(&k, "ns", "b1");
	s = ciq_key(&k, "queue");
	CHECK_STR(s, "ciq:{ns:b1}:queue");
	free(s);
	s = ciq_key(&k, "");
	CHECK_STR(s, "ciq:{ns:b1}:");
	free(s);
	ciq_keys_free(&k);
}

/* ---- sha256.h ---- */

static void
hex(const unsigned char md[CIQ_SHA256_LEN], char out[65])
{
	for (int i = 0; i < CIQ_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
sha(const void *data, size_t n, size_t chunk, char out[65])
{
	struct ciq_sha256 c;
	unsigned char md[CIQ_SHA256_LEN];
	const unsigned char *p = data;

	ciq_sha256_init(&c);
	for (size_t i = 0; i < n; i += chunk)
		ciq_sha256_update(&c, p + i, n - i < chunk ? n - i : chunk);
	ciq_sha256_final(&c, md);
	hex(md, out);
}

void
test_sha256(void)
{
	static const struct {
		const char *in;
		size_t repeat;  /* of in */
		const char *md;
	} v[] = {
		{ "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
		{ "a", 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ "a", 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ "a", 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ "a", 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ "a", 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
		{ "a", 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
		{ "a", 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
		{ "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
	};
	static const size_t chunks[] = { 1, 3, 63, 64, 65, 1000, (size_t)-1 };

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		size_t len = strlen(v[i].in), n = len * v[i].repeat;
		char *data = malloc(n + 1), out[65];

		for (size_t r = 0; r < v[i].repeat; r++)
			memcpy(data + r * len, v[i].in, len);
		for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
			/* One byte at a time over a million is slow under ASan. */
			if (n > 100000 && chunks[c] < 63)
				continue;
			sha(data, n, chunks[c], out);
			unit_check(strcmp(out, v[i].md) == 0, __FILE__, __LINE__,
			    "sha256 of %zu x \"%.20s\" in chunks of %zu: %s", v[i].repeat, v[i].in,
			    chunks[c], out);
		}
		free(data);
	}
	/* A context is used again after init. */
	{
		struct ciq_sha256 c;
		unsigned char md[CIQ_SHA256_LEN];
		char out[65];

		ciq_sha256_init(&c);
		ciq_sha256_update(&c, "xyz", 3);
		ciq_sha256_final(&c, md);
		ciq_sha256_init(&c);
		ciq_sha256_update(&c, "abc", 3);
		ciq_sha256_final(&c, md);
		hex(md, out);
		CHECK_STR(out, v[1].md);
	}
}

int
main(void)
{
	/* Each line out at once, even when a sanitizer ends the program. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_url();
	test_number();
	test_idlist();
	test_cases();
	test_compress();
	test_keys();
	test_sha256();
	test_grind();
	test_kept();
	printf("unit: %lu checks, %lu failed\n", checks, failed);
	return failed == 0 ? 0 : 1;
}
