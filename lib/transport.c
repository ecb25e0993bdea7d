/*
 * transport.c - TCP, TLS (through tls.c) and unix-socket streams with
 * deadlines.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tls.h"
#include "transport.h"

/* How long a probe may take to tell whether a port speaks TLS or RESP. */
#define PROBE_MS 2000
/* How long a TLS handshake may hear nothing before the port is probed. */
#define QUIET_MS 1000

static const char speaks_tls_msg[] = "the server speaks TLS on this port: use a rediss:// URL";

long long
ciq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ciq_transport_wait(int fd, short events, long long deadline)
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

/* Non-blocking connect of one address within the deadline. */
static int
connect_one(int family, const struct sockaddr *sa, socklen_t len, long long deadline,
    char err[CIQ_ERRLEN])
{
	int fd, soerr = 0;
	socklen_t sl = sizeof soerr;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, CIQ_ERRLEN, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, sa, len) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		snprintf(err, CIQ_ERRLEN, "%s", strerror(errno));
		goto fail;
	}
	switch (ciq_transport_wait(fd, POLLOUT, deadline)) {
	case 0:
		snprintf(err, CIQ_ERRLEN, "connection timed out");
		goto fail;
	case -1:
		snprintf(err, CIQ_ERRLEN, "poll: %s", strerror(errno));
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 || soerr != 0) {
		snprintf(err, CIQ_ERRLEN, "%s", strerror(soerr ? soerr : errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Ask the server at t->peer on a connection of its own: send msg, read up
 * to want bytes of the answer into reply before the deadline. Returns how
 * many were read. It tells what a port speaks.
 */
static size_t
probe(struct ciq_transport *t, const void *msg, size_t len, unsigned char *reply, size_t want,
    long long deadline)
{
	char ignored[CIQ_ERRLEN];
	size_t got = 0;
	ssize_t r;
	int fd;

	fd = connect_one(t->peer.ss_family, (struct sockaddr *)&t->peer, t->peerlen, deadline, ignored);
	if (fd == -1)
		return 0;
	if (send(fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len)
		while (got < want) {
			r = recv(fd, reply + got, want - got, 0);
			if (r > 0)
				got += (size_t)r;
			else if (r == 0 || (errno != EAGAIN && errno != EINTR) ||
			    ciq_transport_wait(fd, POLLIN, deadline) != 1)
				break;
		}
	close(fd);
	return got;
}

/*
 * Whether the server at t->peer answers an inline PING in RESP before the
 * deadline: a plain Redis does ("+PONG", "-NOAUTH ..."), a TLS port hangs
 * up.
 */
static int
speaks_resp(struct ciq_transport *t, long long deadline)
{
	unsigned char c;

	return probe(t, "PING\r\n", 6, &c, 1, deadline) == 1 && (c == '+' || c == '-');
}

/*
 * The TLS handshake, within the connect deadline: one bound for
 * "connected". A plain Redis says nothing to a ClientHello (it waits for
 * the end of an inline command that never comes), so after QUIET_MS of
 * silence the port is asked in plain RESP, to fail at once, and for good
 * (-2), with the real reason rather than a timeout.
 */
static int
tls_handshake(struct ciq_transport *t, long long deadline, char err[CIQ_ERRLEN])
{
	long long quiet = ciq_now_ms() + QUIET_MS, probe;
	int r = ciq_tls_handshake(t->tls, t->fd, quiet < deadline ? quiet : deadline, err);

	if (r == 1 && quiet < deadline) {
		probe = ciq_now_ms() + PROBE_MS;
		if (!ciq_tls_heard(t->tls) && speaks_resp(t, probe < deadline ? probe : deadline)) {
			snprintf(err, CIQ_ERRLEN, "%s", ciq_tls_plain_port);
			return -2;
		}
		r = ciq_tls_handshake(t->tls, t->fd, deadline, err);
	}
	return r == 1 ? -1 : r;
}

int
ciq_transport_open(struct ciq_transport *t, const struct ciq_url *u,
    long long timeout_ms, char err[CIQ_ERRLEN])
{
	long long deadline = ciq_now_ms() + timeout_ms;
	int r;

	t->fd = -1;
	t->tls = NULL;
	t->heard = 0;
	t->peerlen = 0;
	if (t->refusal != NULL) {
		snprintf(err, CIQ_ERRLEN, "%s", t->refusal);
		return -2;
	}
	/* TLS settings first: no point connecting with an unusable one. */
	if (u->scheme == CIQ_SCHEME_TLS && (t->tls = ciq_tls_new(u, err)) == NULL)
		return -2;
	if (u->scheme == CIQ_SCHEME_UNIX) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (strlen(u->path) >= sizeof sun.sun_path) {
			snprintf(err, CIQ_ERRLEN, "socket path too long");
			return -1;
		}
		strcpy(sun.sun_path, u->path);
		t->fd = connect_one(AF_UNIX, (struct sockaddr *)&sun, sizeof sun, deadline, err);
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
		char port[8];
		int one = 1;

		snprintf(port, sizeof port, "%d", u->port);
		if ((r = getaddrinfo(u->host, port, &hints, &res)) != 0) {
			snprintf(err, CIQ_ERRLEN, "%s", gai_strerror(r));
			ciq_transport_close(t);
			return -1;
		}
		for (ai = res; ai != NULL && t->fd == -1; ai = ai->ai_next) {
			t->fd = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline, err);
			if (t->fd != -1 && ai->ai_addrlen <= sizeof t->peer) {
				memcpy(&t->peer, ai->ai_addr, ai->ai_addrlen);
				t->peerlen = ai->ai_addrlen;
			}
		}
		freeaddrinfo(res);
		if (t->fd != -1)
			setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	if (t->fd == -1) {
		ciq_transport_close(t);
		return -1;
	}
	if (t->tls != NULL && (r = tls_handshake(t, deadline, err)) != 0) {
		ciq_transport_close(t);
		return r;
	}
	return 0;
}

/*
 * A TLS ClientHello (TLS 1.2, the usual AEAD suites and groups), written
 * out so that telling a TLS port needs no TLS library. Any TLS server
 * answers it with a record: a ServerHello, or an alert when it wants
 * something else.
 */
static const unsigned char client_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0x59, 0x01, 0x00, 0x00, 0x55, 0x03, 0x03, 0x00,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
	0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
	0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x00, 0x0c, 0x13, 0x01,
	0x13, 0x02, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0x01, 0x00,
	0x00, 0x20, 0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17,
	0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x00, 0x0d, 0x00, 0x0c, 0x00, 0x0a,
	0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x01, 0x08, 0x05,
};

/* Whether the server at t->peer answers a ClientHello with a TLS record
 * (handshake or alert, version 3.x) before the deadline. */
static int
speaks_tls(struct ciq_transport *t, long long deadline)
{
	unsigned char head[2];

	return probe(t, client_hello, sizeof client_hello, head, sizeof head, deadline) == 2 &&
	    (head[0] == 0x15 || head[0] == 0x16) && head[1] == 0x03;
}

/*
 * A redis:// server hung up before it said anything. A TLS-only port does
 * that to a plain client (Redis resets the connection), so ask the same
 * address for a TLS handshake, briefly, to give the user the real reason.
 */
static void
hung_up(struct ciq_transport *t, const char *why, long long deadline, char err[CIQ_ERRLEN])
{
	long long d = ciq_now_ms() + PROBE_MS;

	if (d > deadline)
		d = deadline;
	if (t->tls == NULL && t->peerlen > 0 && !t->heard && speaks_tls(t, d))
		t->refusal = speaks_tls_msg;
	snprintf(err, CIQ_ERRLEN, "%s", t->refusal != NULL ? t->refusal : why);
}

/* Pass on what a TLS read or write returned; -2 (final) becomes -1. */
static ssize_t
tls_failed(struct ciq_transport *t, ssize_t r)
{
	if (r != -2)
		return r;
	t->refusal = ciq_tls_cert_required;
	return -1;
}

int
ciq_transport_write(struct ciq_transport *t, const char *buf, size_t n,
    long long deadline, char err[CIQ_ERRLEN])
{
	if (t->tls != NULL)
		return (int)tls_failed(t, ciq_tls_write(t->tls, buf, n, deadline, err));
	while (n > 0) {
		ssize_t w = send(t->fd, buf, n, MSG_NOSIGNAL);

		if (w > 0) {
			buf += w;
			n -= (size_t)w;
			t->asked = 1;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno != EAGAIN) {
			snprintf(err, CIQ_ERRLEN, "write: %s", strerror(errno));
			return -1;
		}
		if (ciq_transport_wait(t->fd, POLLOUT, deadline) != 1) {
			snprintf(err, CIQ_ERRLEN, "write timed out");
			return -1;
		}
	}
	return 0;
}

ssize_t
ciq_transport_read(struct ciq_transport *t, char *buf, size_t cap,
    long long deadline, char err[CIQ_ERRLEN])
{
	if (t->tls != NULL)
		return tls_failed(t, ciq_tls_read(t->tls, buf, cap, deadline, err));
	/* Just asked: the answer is a round trip away, so wait before reading
	 * rather than read in vain. */
	if (t->asked) {
		t->asked = 0;
		if (ciq_transport_wait(t->fd, POLLIN, deadline) != 1) {
			snprintf(err, CIQ_ERRLEN, "no reply within the command timeout");
			return -1;
		}
	}
	for (;;) {
		ssize_t r = recv(t->fd, buf, cap, 0);

		/* A TLS record (alert or handshake) can never start a reply. */
		if (r >= 2 && !t->heard && (buf[0] == 0x15 || buf[0] == 0x16) && buf[1] == 0x03) {
			t->refusal = speaks_tls_msg;
			snprintf(err, CIQ_ERRLEN, "%s", speaks_tls_msg);
			return -1;
		}
		if (r > 0) {
			t->heard = 1;
			return r;
		}
		if (r == 0) {
			hung_up(t, "connection closed by the server", deadline, err);
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			char why[CIQ_ERRLEN];

			snprintf(why, sizeof why, "read: %s", strerror(errno));
			if (errno == ECONNRESET)
				hung_up(t, why, deadline, err);
			else
				snprintf(err, CIQ_ERRLEN, "%s", why);
			return -1;
		}
		if (ciq_transport_wait(t->fd, POLLIN, deadline) != 1) {
			snprintf(err, CIQ_ERRLEN, "no reply within the command timeout");
			return -1;
		}
	}
}

void
ciq_transport_close(struct ciq_transport *t)
{
	ciq_tls_free(t->tls);
	t->tls = NULL;
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
}
