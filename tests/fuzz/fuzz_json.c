/*
 * fuzz_json.c - libFuzzer harness for JSON string writing (lib/json.c).
 *
 * The input is any bytes, written with ciq_json_str into a memory stream.
 * The output must be one JSON string (RFC 8259): quotes at both ends, no
 * raw control character or lone quote inside, only the escapes JSON has,
 * and UTF-8 throughout. Read back, it must give the input again, unless
 * the writer put in \ufffd for bytes that were not UTF-8.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_json: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0. */
static size_t
utf8_ok(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] <= 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static int
hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Check that out[0..n) is one JSON string and decode it into dec (at
 * least n bytes). Returns the decoded length; *repl counts \ufffd.
 */
static size_t
parse(const unsigned char *out, size_t n, unsigned char *dec, size_t *repl)
{
	size_t i = 1, d = 0;

	CHECK(n >= 2 && out[0] == '"' && out[n - 1] == '"');
	*repl = 0;
	while (i < n - 1) {
		unsigned char ch = out[i];
		size_t len;

		CHECK(ch >= 0x20 && ch != '"');
		if (ch != '\\') {
			CHECK((len = utf8_ok(out + i, n - 1 - i)) > 0);
			memcpy(dec + d, out + i, len);
			d += len;
			i += len;
			continue;
		}
		CHECK(i + 1 < n - 1);
		switch (out[i + 1]) {
		case '"': case '\\': case '/':
			dec[d++] = out[i + 1];
			break;
		case 'b': dec[d++] = '\b'; break;
		case 'f': dec[d++] = '\f'; break;
		case 'n': dec[d++] = '\n'; break;
		case 'r': dec[d++] = '\r'; break;
		case 't': dec[d++] = '\t'; break;
		case 'u': {
			unsigned cp = 0;

			CHECK(i + 5 < n - 1);
			for (int k = 2; k < 6; k++) {
				int v = hex(out[i + k]);

				CHECK(v >= 0);
				cp = cp * 16 + (unsigned)v;
			}
			/* The writer escapes only controls and U+FFFD. */
			CHECK(cp < 0x20 || cp == 0x7f || cp == 0xfffd);
			if (cp == 0xfffd) {
				memcpy(dec + d, "\xef\xbf\xbd", 3);
				d += 3;
				(*repl)++;
			} else {
				dec[d++] = (unsigned char)cp;
			}
			i += 4;
			break;
		}
		default:
			CHECK(!"bad escape");
		}
		i += 2;
	}
	return d;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL, *out2 = NULL;
	size_t n = 0, n2 = 0, d, repl;
	unsigned char *dec;
	FILE *f = open_memstream(&out, &n);

	CHECK(f != NULL);
	ciq_json_str(f, (const char *)data, size);
	CHECK(fclose(f) == 0);

	dec = malloc(n + 1);
	CHECK(dec != NULL);
	d = parse((const unsigned char *)out, n, dec, &repl);
	/* Each replaced byte came back as the 3 bytes of U+FFFD. */
	CHECK(d == size + 2 * repl);
	if (repl == 0)
		CHECK(memcmp(dec, data, size) == 0);

	/* The C-string form is the same up to the first NUL; NULL is null. */
	f = open_memstream(&out2, &n2);
	CHECK(f != NULL);
	if (size > 0 && data[0] == 'N') {
		ciq_json_cstr(f, NULL);
		CHECK(fclose(f) == 0);
		CHECK(n2 == 4 && memcmp(out2, "null", 4) == 0);
	} else {
		char *s = malloc(size + 1);
		size_t len = strnlen((const char *)data, size);

		CHECK(s != NULL);
		memcpy(s, data, len);
		s[len] = '\0';
		ciq_json_cstr(f, s);
		CHECK(fclose(f) == 0);
		if (len == size)
			CHECK(n2 == n && memcmp(out2, out, n) == 0);
		free(s);
	}
	free(dec);
	free(out);
	free(out2);
	return 0;
}
