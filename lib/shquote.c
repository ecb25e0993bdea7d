/*
 * shquote.c - shell words (shquote.h).
 */
#include <string.h>

#include "shquote.h"
#include "utf8.h"

enum style { BARE, SINGLE, DOLLAR };

static int
safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("_./:@%+,-", c) != NULL);
}

/* bash's reserved words, which a command position would not run. */
static int
reserved(const char *s, size_t n)
{
	static const char *const words[] = {
		"if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while",
		"until", "do", "done", "in", "function", "time", "coproc", "{", "}", "!",
		"[[", "]]", NULL
	};

	for (size_t i = 0; words[i] != NULL; i++)
		if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0)
			return 1;
	return 0;
}

/* Length of the printable character at s (n > 0), or 0 for a control
 * character (C0, DEL, C1) or a byte that is not valid UTF-8. */
static size_t
printable(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	unsigned int cp;
	size_t len;

	if (c < 0x80)
		return c >= 0x20 && c != 0x7f;
	len = ciq_utf8_len(s, n, &cp);
	return len > 0 && cp >= 0xa0 ? len : 0;
}

static enum style
style_of(const char *s, size_t n, int command)
{
	enum style st = n > 0 && !(command && reserved(s, n)) ? BARE : SINGLE;

	for (size_t i = 0; i < n;) {
		size_t len = printable(s + i, n - i);

		if (len == 0)
			return DOLLAR;
		if (len > 1 || !safe((unsigned char)s[i]))
			st = SINGLE;
		i += len;
	}
	return st;
}

void
ciq_shquote(FILE *f, const char *s, size_t n, int command)
{
	switch (style_of(s, n, command)) {
	case BARE:
		fwrite(s, 1, n, f);
		break;
	case SINGLE:
		putc('\'', f);
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '\'')
				fputs("'\\''", f);
			else
				putc(s[i], f);
		}
		putc('\'', f);
		break;
	case DOLLAR:
		fputs("$'", f);
		for (size_t i = 0; i < n;) {
			size_t len = printable(s + i, n - i);

			if (s[i] == '\\') {
				fputs("\\\\", f);
				i++;
			} else if (len == 0 || s[i] == '\'' || s[i] == '!') {
				/* Always two hex digits: bash reads at most two. */
				fprintf(f, "\\x%02x", (unsigned char)s[i]);
				i++;
			} else {
				fwrite(s + i, 1, len, f);
				i += len;
			}
		}
		putc('\'', f);
		break;
	}
}
