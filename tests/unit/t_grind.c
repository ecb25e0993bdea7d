/*
 * t_grind.c - the nearest-rank percentile of a grind's durations.
 */
#include "grind.h"
#include "unit.h"

void
test_grind(void)
{
	static const long long one[] = { 7 };
	static const long long ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	static const long long four[] = { 15, 20, 35, 40 };
	const long long P = CIQ_GRIND_PCT_ONE;

	CHECK(ciq_grind_percentile(ten, 0, 50 * P) == -1);
	CHECK(ciq_grind_percentile(one, 1, 1) == 7);
	CHECK(ciq_grind_percentile(one, 1, 100 * P) == 7);
	/* The smallest value that at least P% of them do not exceed. */
	CHECK(ciq_grind_percentile(ten, 10, 50 * P) == 5);
	CHECK(ciq_grind_percentile(ten, 10, 90 * P) == 9);
	CHECK(ciq_grind_percentile(ten, 10, 91 * P) == 10);
	CHECK(ciq_grind_percentile(ten, 10, 100 * P) == 10);
	CHECK(ciq_grind_percentile(ten, 10, 10 * P) == 1);
	CHECK(ciq_grind_percentile(ten, 10, 10 * P + 1) == 2);
	CHECK(ciq_grind_percentile(ten, 10, 1) == 1);
	/* Four durations: a quarter each. */
	CHECK(ciq_grind_percentile(four, 4, 5 * P) == 15);
	CHECK(ciq_grind_percentile(four, 4, 25 * P) == 15);
	CHECK(ciq_grind_percentile(four, 4, 26 * P) == 20);
	CHECK(ciq_grind_percentile(four, 4, 50 * P) == 20);
	CHECK(ciq_grind_percentile(four, 4, 75 * P + 500) == 40);
}
