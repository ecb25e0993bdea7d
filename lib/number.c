/*
 * number.c - strict decimal numbers: see number.h for the form.
 */
#include <limits.h>

#include "number.h"

static int
digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* n * 10 + d, or -1 past LLONG_MAX. */
static long long
push(long long n, int d)
{
	if (n > (LLONG_MAX - d) / 10)
		return -1;
	return n * 10 + d;
}

int
ciq_number_fixed(const char *s, int decimals, long long min, long long max,
    long long *out)
{
	const char *p = s;
	long long n = 0;
	int frac = 0, too_big = 0;

	if (decimals < 0 || decimals > 9 || !digit(*p))
		return CIQ_NUMBER_FORM;
	/* "0" and "0.5", but never "05". */
	if (p[0] == '0' && digit(p[1]))
		return CIQ_NUMBER_FORM;
	for (; digit(*p); p++)
		if (!too_big && (n = push(n, *p - '0')) < 0)
			too_big = 1;
	if (*p == '.' && decimals > 0) {
		p++;
		if (!digit(*p))
			return CIQ_NUMBER_FORM;
		for (; digit(*p); p++, frac++)
			if (frac < decimals && !too_big && (n = push(n, *p - '0')) < 0)
				too_big = 1;
	}
	if (*p != '\0')
		return CIQ_NUMBER_FORM;
	if (frac > decimals)
		return CIQ_NUMBER_DECIMALS;
	for (; frac < decimals; frac++)
		if (!too_big && (n = push(n, 0)) < 0)
			too_big = 1;
	if (too_big || n < min || n > max)
		return CIQ_NUMBER_RANGE;
	*out = n;
	return CIQ_NUMBER_OK;
}

int
ciq_number_whole(const char *s, long long min, long long max, long long *out)
{
	return ciq_number_fixed(s, 0, min, max, out);
}

int
ciq_number_ms(const char *s, long long min_ms, long long max_ms, long long *out)
{
	return ciq_number_fixed(s, CIQ_NUMBER_MS_DECIMALS, min_ms, max_ms, out);
}
