/*
 * clock.h - the process clock, for deadlines and waits.
 *
 * Deadlines are milliseconds on CLOCK_MONOTONIC, which no change of the
 * wall clock moves.
 */
#ifndef CIQ_CLOCK_H
#define CIQ_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC. */
long long ciq_now_ms(void);

/* Sleep ms milliseconds (EINTR is resumed); nothing when ms <= 0. */
void ciq_sleep_ms(long long ms);

/*
 * Wait for poll(2) events on fd until the deadline (ms, as ciq_now_ms):
 * 1 ready, 0 timed out, -1 poll failed (errno set).
 */
int ciq_wait_fd(int fd, short events, long long deadline);

#endif
