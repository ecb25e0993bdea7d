/*
 * transport.h - a byte stream to the queue server, with deadlines.
 *
 * hiredis 0.14 has no TLS, so ciq speaks to the server through this
 * stream and uses hiredis only for what it is good at: formatting
 * commands and parsing replies. rediss:// streams run the same functions
 * over TLS (tls.h, which this layer calls and which never calls back);
 * nothing above this layer knows the difference. Deadlines are ms on
 * the clock of clock.h.
 */
#ifndef CIQ_TRANSPORT_H
#define CIQ_TRANSPORT_H

#include <sys/socket.h>
#include <sys/types.h>

#include "errlen.h"
#include "url.h"

struct ciq_tls;

/* Zero it before the first open; reopen it for the same URL only. */
struct ciq_transport {
	int fd;                       /* -1 when closed */
	struct ciq_tls *tls;          /* TLS session, NULL on plain streams */
	int heard;                    /* the server sent something on this stream */
	int asked;                    /* written to since the last read */
	const char *refusal;          /* why no reopen can work (a redis:// URL for a
	                                 TLS port...), kept across reopens; or NULL */
	struct sockaddr_storage peer; /* TCP: the address connected to */
	socklen_t peerlen;            /* 0 on unix sockets */
};

/*
 * Connect to the server u names within timeout_ms; for rediss:// also
 * run the TLS handshake (tls.h) within the same time. Returns 0; -1 with
 * a message in err (e.g. "Connection refused", a certificate that does
 * not verify) when trying again later may work; -2 with a message when it
 * cannot: an unusable TLS setting, the wrong scheme for the port, or a
 * reason an earlier stream of t found (t->refusal).
 */
int ciq_transport_open(struct ciq_transport *t, const struct ciq_url *u,
    long long timeout_ms, char err[CIQ_ERRLEN]);

/*
 * Write all n bytes before the deadline (ms, CLOCK_MONOTONIC). 0, or -1
 * with err filled, and t->refusal set as a read would.
 */
int ciq_transport_write(struct ciq_transport *t, const char *buf, size_t n,
    long long deadline, char err[CIQ_ERRLEN]);

/*
 * Read what is available, up to cap bytes, waiting until the deadline.
 * Returns the count, or -1 with err filled (end of stream included). When
 * the failure says that no connection can work (a redis:// server that
 * speaks TLS, a TLS server that wants a client certificate), err says
 * so and the next open of t fails with -2.
 */
ssize_t ciq_transport_read(struct ciq_transport *t, char *buf, size_t cap,
    long long deadline, char err[CIQ_ERRLEN]);

/* Close the stream; safe on a closed one. */
void ciq_transport_close(struct ciq_transport *t);

#endif
