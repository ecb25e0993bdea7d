/*
 * number.h - the one parser of numbers given by a user: settings, flags.
 *
 * The accepted form, for every number, is
 *
 *   DIGITS [ "." DIGITS ]
 *
 * with ASCII decimal digits only: no sign, no whitespace anywhere, no hex,
 * no exponent, no inf or nan, no leading zero ("0" and "0.5" are fine,
 * "05" is not: the text may be handed to Redis as it is, and Redis takes
 * no leading zero), at least one digit on each side of the point, and at
 * most `decimals` digits after it (no point at all when decimals is 0).
 * Nothing is rounded: a value either is exact at that resolution or is
 * refused.
 *
 * The value comes back scaled to an integer: the number times
 * 10^decimals. Seconds with decimals 3 come back in milliseconds.
 */
#ifndef CIQ_NUMBER_H
#define CIQ_NUMBER_H

/* How a string failed: its form, or its value's range. */
enum ciq_number_error {
	CIQ_NUMBER_OK = 0,
	CIQ_NUMBER_FORM = -1,   /* not DIGITS[.DIGITS] as above */
	CIQ_NUMBER_RANGE = -2,  /* well formed, but below min or above max */
	CIQ_NUMBER_DECIMALS = -3 /* well formed, but finer than 10^-decimals */
};

/* Digits after the point, for each kind of number. */
#define CIQ_NUMBER_MS_DECIMALS    3  /* seconds, to the millisecond */
#define CIQ_NUMBER_RATIO_DECIMALS 6  /* ratios, to the millionth */

/*
 * Parse s as above with up to decimals (0 to 9) digits after the point,
 * into *out as the number times 10^decimals, which must lie in [min, max]
 * (min >= 0). Returns CIQ_NUMBER_OK, or an error and *out untouched.
 */
int ciq_number_fixed(const char *s, int decimals, long long min, long long max,
    long long *out);

/* A whole number (no point at all) from min to max. */
int ciq_number_whole(const char *s, long long min, long long max, long long *out);

/* Seconds, to the millisecond ("30", "0.5", "0.001"), as milliseconds from
 * min_ms to max_ms. */
int ciq_number_ms(const char *s, long long min_ms, long long max_ms, long long *out);

#endif
