/*
 * transport.h - a byte stream to the queue server, with deadlines.
 *
 * hiredis 0.14 has no TLS, so ciq speaks to the server through this
 * stream and uses hiredis only for what it is good at: formatting
 * commands and parsing replies. A TLS stream is one more implementation
 * of these functions; nothing above this layer changes.
 */
#ifndef CIQ_TRANSPORT_H
#define CIQ_TRANSPORT_H

#include <sys/types.h>

#include "conf.h"
#include "url.h"

struct ciq_transport {
	int fd;           /* -1 when closed */
	void *tls;        /* TLS session, NULL on plain streams */
};

/*
 * Connect to the server u names within timeout_ms. Returns 0, or -1 with
 * a message in err (e.g. "Connection refused").
 */
int ciq_transport_open(struct ciq_transport *t, const struct ciq_url *u,
    long long timeout_ms, char err[CIQ_ERRLEN]);

/* Write all n bytes before the deadline (ms, CLOCK_MONOTONIC). 0 or -1. */
int ciq_transport_write(struct ciq_transport *t, const char *buf, size_t n,
    long long deadline, char err[CIQ_ERRLEN]);

/*
 * Read what is available, up to cap bytes, waiting until the deadline.
 * Returns the count, or -1 with err filled (end of stream included).
 */
ssize_t ciq_transport_read(struct ciq_transport *t, char *buf, size_t cap,
    long long deadline, char err[CIQ_ERRLEN]);

/* Close the stream; safe on a closed one. */
void ciq_transport_close(struct ciq_transport *t);

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
long long ciq_now_ms(void);

#endif
