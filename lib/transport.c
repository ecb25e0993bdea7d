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
#include <unistd.h>

#include "clock.h"
#include "tls.h"
#include "transport.h"

/* How long a probe may take to tell whether a port speaks TLS or RESP. */
#define PROBE_MS 2000
/* How long a TLS handshake may hear nothing before the port is probed. */
#define QUIET_MS 1000

static const char speaks_tls_msg[] = "the server speaks TLS on this port: use a rediss:// URL";

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
	switch (ciq_wait_fd(fd, POLLOUT, deadline)) {
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

/* A connection of its own to the address t connected to, to ask what the
 * port speaks; -1 when it cannot be made. */
static int
connect_peer(struct ciq_transport *t, long long deadline)
{
	char ignored[CIQ_ERRLEN];

	return connect_one(t->peer.ss_family, (struct sockaddr *)&t->peer, t->peerlen, deadline,
	    ignored);
}

/*
 * Whether the server at t->peer answers an inline PING in RESP before the
 * deadline: a plain Redis does ("+PONG", "-NOAUTH ..."), a TLS port hangs
 * up.
 */
static int
speaks_resp(struct ciq_transport *t, long long deadline)
{
	int fd = connect_peer(t, deadline);
	ssize_t r = -1;
	char c = 0;

	if (fd == -1)
		return 0;
	if (send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6)
		while ((r = recv(fd, &c, 1, 0)) == -1 && (errno == EAGAIN || errno == EINTR) &&
		    ciq_wait_fd(fd, POLLIN, deadline) == 1)
			;
	close(fd);
	return r == 1 && (c == '+' || c == '-');
}

/* Whether the server at t->peer answers a TLS handshake before the
 * deadline (tls.h). */
static int
speaks_tls(struct ciq_transport *t, long long deadline)
{
	int fd = connect_peer(t, deadline), r;

	if (fd == -1)
		return 0;
	r = ciq_tls_probe(fd, deadline);
	close(fd);
	return r;
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
		if (ciq_wait_fd(t->fd, POLLOUT, deadline) != 1) {
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
		if (ciq_wait_fd(t->fd, POLLIN, deadline) != 1) {
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
		if (ciq_wait_fd(t->fd, POLLIN, deadline) != 1) {
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
