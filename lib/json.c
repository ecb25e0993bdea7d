/*
 * json.c - JSON strings.
 */
#include <string.h>

#include "json.h"
#include "utf8.h"

void
ciq_json_str(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	putc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char ch = p[i];
		size_t len;

		if (ch == '"' || ch == '\\') {
			putc('\\', f);
			putc(ch, f);
			i++;
		} else if (ch == '\n') {
			fputs("\\n", f);
			i++;
		} else if (ch == '\t') {
			fputs("\\t", f);
			i++;
		} else if (ch == '\r') {
			fputs("\\r", f);
			i++;
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(f, "\\u%04x", ch);
			i++;
		} else if ((len = ciq_utf8_len((const char *)p + i, n - i, NULL)) == 0) {
			fputs("\\ufffd", f);
			i++;
		} else {
			fwrite(p + i, 1, len, f);
			i += len;
		}
	}
	putc('"', f);
}

void
ciq_json_cstr(FILE *f, const char *s)
{
	if (s == NULL)
		fputs("null", f);
	else
		ciq_json_str(f, s, strlen(s));
}

void
ciq_json_ms(FILE *f, const char *name, long long ms)
{
	if (ms >= 0)
		fprintf(f, "\"%s\": %lld", name, ms);
	else
		fprintf(f, "\"%s\": null", name);
}
