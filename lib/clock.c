/*
 * clock.c - the monotonic clock, sleeps and waits with deadlines.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "clock.h"

long long
ciq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ciq_sleep_ms(long long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	if (ms <= 0)
		return;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
ciq_wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - ciq_now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			continue;
		if (errno != EINTR)
			return -1;
	}
}
