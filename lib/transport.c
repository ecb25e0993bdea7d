/*
 * transport.c - plain TCP and unix-socket streams with deadlines.
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

#include "transport.h"

long long
ciq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, long long deadline)
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
	switch (wait_fd(fd, POLLOUT, deadline)) {
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

int
ciq_transport_open(struct ciq_transport *t, const struct ciq_url *u,
    long long timeout_ms, char err[CIQ_ERRLEN])
{
	long long deadline = ciq_now_ms() + timeout_ms;

	t->fd = -1;
	t->tls = NULL;
	if (u->scheme == CIQ_SCHEME_TLS) {
		snprintf(err, CIQ_ERRLEN, "rediss:// (TLS) is not supported by this build yet");
		return -1;
	}
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
		int r, one = 1;

		snprintf(port, sizeof port, "%d", u->port);
		if ((r = getaddrinfo(u->host, port, &hints, &res)) != 0) {
			snprintf(err, CIQ_ERRLEN, "%s", gai_strerror(r));
			return -1;
		}
		for (ai = res; ai != NULL && t->fd == -1; ai = ai->ai_next)
			t->fd = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline, err);
		freeaddrinfo(res);
		if (t->fd != -1)
			setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	return t->fd == -1 ? -1 : 0;
}

int
ciq_transport_write(struct ciq_transport *t, const char *buf, size_t n,
    long long deadline, char err[CIQ_ERRLEN])
{
	while (n > 0) {
		ssize_t w = send(t->fd, buf, n, MSG_NOSIGNAL);

		if (w > 0) {
			buf += w;
			n -= (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno != EAGAIN) {
			snprintf(err, CIQ_ERRLEN, "write: %s", strerror(errno));
			return -1;
		}
		if (wait_fd(t->fd, POLLOUT, deadline) != 1) {
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
	for (;;) {
		ssize_t r = recv(t->fd, buf, cap, 0);

		if (r > 0)
			return r;
		if (r == 0) {
			snprintf(err, CIQ_ERRLEN, "connection closed by the server");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			snprintf(err, CIQ_ERRLEN, "read: %s", strerror(errno));
			return -1;
		}
		if (wait_fd(t->fd, POLLIN, deadline) != 1) {
			snprintf(err, CIQ_ERRLEN, "no reply within the command timeout");
			return -1;
		}
	}
}

void
ciq_transport_close(struct ciq_transport *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
}
