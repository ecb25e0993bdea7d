/*
 * tls.c - TLS client sessions over a non-blocking socket, with OpenSSL.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "alloc.h"
#include "clock.h"
#include "tls.h"
#include "tlscache.h"

struct ciq_tls {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO_METHOD *meth;  /* our socket BIO, freed after the SSL that uses it */
	int fd;            /* the socket, the caller's */
	int heard;         /* the server has sent something */
	int replied;       /* ... after the handshake, too */
	int cert_asked;    /* the server asked for a client certificate */
	int verify;        /* the server's certificate is checked */
	int broken;        /* a fatal error happened: no close_notify */
	int saved;         /* a session of this connection was saved */
	int store;         /* the system's CA store was loaded */
	char cache[CIQ_TLSCACHE_NAMELEN];  /* its session file (tlscache.h), or ""
	                                      when CIQ_TLS_SESSION_CACHE=0 */
	char host[256];    /* as the URL names it, for messages */
};

/*
 * OpenSSL's own socket BIO writes with write(2), so a server that hung
 * up would kill the tool with SIGPIPE. This one sends with MSG_NOSIGNAL,
 * as the plain stream does. The session is the BIO's data.
 */
static int
bio_write(BIO *b, const char *buf, int n)
{
	struct ciq_tls *s = BIO_get_data(b);
	ssize_t w;

	BIO_clear_flags(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
	w = send(s->fd, buf, (size_t)n, MSG_NOSIGNAL);
	if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_flags(b, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY);
	return (int)w;
}

static int
bio_read(BIO *b, char *buf, int n)
{
	struct ciq_tls *s = BIO_get_data(b);
	ssize_t r;

	BIO_clear_flags(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
	r = recv(s->fd, buf, (size_t)n, 0);
	if (r > 0)
		s->heard = 1;
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_flags(b, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY);
	return (int)r;
}

static int
bio_puts(BIO *b, const char *s)
{
	return bio_write(b, s, (int)strlen(s));
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* Nothing is buffered here: a flush always succeeds. The socket is
	 * not offered (BIO_get_fd): the session keeps it in its fd field. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* A BIO with our method on s->fd, or NULL. */
static BIO *
socket_bio(struct ciq_tls *s)
{
	BIO *b;

	if (s->meth == NULL) {
		s->meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ciq socket");
		if (s->meth == NULL || !BIO_meth_set_write(s->meth, bio_write) ||
		    !BIO_meth_set_read(s->meth, bio_read) || !BIO_meth_set_puts(s->meth, bio_puts) ||
		    !BIO_meth_set_ctrl(s->meth, bio_ctrl) || !BIO_meth_set_create(s->meth, bio_create))
			return NULL;
	}
	if ((b = BIO_new(s->meth)) != NULL)
		BIO_set_data(b, s);
	return b;
}

/* The server asks for a client certificate: there is none to give. */
static int
client_cert(SSL *ssl, X509 **cert, EVP_PKEY **key)
{
	struct ciq_tls *s = SSL_get_ex_data(ssl, 0);

	(void)cert;
	(void)key;
	s->cert_asked = 1;
	return 0;
}

/*
 * The server gave this connection a session (for TLS 1.3, a ticket, in
 * the first read after the handshake): keep the first for the next tool.
 * 0: OpenSSL keeps the session, the file has a copy.
 */
static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct ciq_tls *s = SSL_get_ex_data(ssl, 0);

	if (!s->saved && s->cache[0] != '\0') {
		ciq_tlscache_save(s->cache, sess);
		s->saved = 1;
	}
	return 0;
}

/*
 * Verify the server's certificate chain, with the system's CA store
 * loaded first. It is loaded here, not when the session is made, because
 * a resumed session verifies no certificate, and reading the store (a
 * distribution's bundle of a hundred certificates and more) costs more
 * than the rest of a tool's work.
 */
static int
verify_chain(X509_STORE_CTX *x, void *arg)
{
	struct ciq_tls *s = arg;

	if (!s->store) {
		s->store = 1;
		/* A machine without a CA store can still use CIQ_TLS_CA_FILE:
		 * the errors of a missing one are not the handshake's. */
		ERR_set_mark();
		SSL_CTX_set_default_verify_paths(s->ctx);
		ERR_pop_to_mark();
	}
	return X509_verify_cert(x);
}

/* A setting that is on or off: 1 on, 0 off, dflt unset or empty, -1 a
 * value that is neither. */
static int
flag_env(const char *name, int dflt)
{
	static const char *const on[] = { "1", "true", "yes" }, *const off[] = { "0", "false", "no" };
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		return dflt;
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(v, on[i]) == 0)
			return 1;
		if (strcasecmp(v, off[i]) == 0)
			return 0;
	}
	return -1;
}

/* OpenSSL's reason for the oldest queued error, for a message. */
static const char *
ssl_reason(void)
{
	unsigned long e = ERR_peek_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : "unknown error";
}

void
ciq_tls_free(struct ciq_tls *s)
{
	if (s == NULL)
		return;
	if (s->ssl != NULL) {
		/* One try at close_notify; the server needs no more to let go. */
		if (!s->broken && SSL_is_init_finished(s->ssl))
			SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	SSL_CTX_free(s->ctx);
	BIO_meth_free(s->meth);
	ERR_clear_error();
	free(s);
}

struct ciq_tls *
ciq_tls_new(const struct ciq_url *u, char err[CIQ_ERRLEN])
{
	struct ciq_tls *s = ciq_calloc(1, sizeof *s);
	const char *ca = getenv("CIQ_TLS_CA_FILE");
	int insecure = flag_env("CIQ_TLS_INSECURE", 0);
	int cache = flag_env("CIQ_TLS_SESSION_CACHE", 1);
	const char *sni = ciq_url_is_address(u->host) ? NULL : u->host;
	SSL_SESSION *kept;

	ERR_clear_error();
	snprintf(s->host, sizeof s->host, "%s", u->host);
	if (insecure == -1 || cache == -1) {
		const char *name = insecure == -1 ? "CIQ_TLS_INSECURE" : "CIQ_TLS_SESSION_CACHE";

		snprintf(err, CIQ_ERRLEN, "%s must be 1 or 0, not '%.40s'", name, getenv(name));
		goto fail;
	}
	s->verify = !(insecure || u->insecure);
	if ((s->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION)) {
		snprintf(err, CIQ_ERRLEN, "TLS: cannot set up: %s", ssl_reason());
		goto fail;
	}
	if (s->verify) {
		SSL_CTX_set_cert_verify_callback(s->ctx, verify_chain, s);
		if (ca != NULL && *ca != '\0') {
			FILE *f = fopen(ca, "re");

			if (f == NULL) {
				snprintf(err, CIQ_ERRLEN, "cannot read CIQ_TLS_CA_FILE '%s': %s",
				    ca, strerror(errno));
				goto fail;
			}
			fclose(f);
			if (!SSL_CTX_load_verify_locations(s->ctx, ca, NULL)) {
				snprintf(err, CIQ_ERRLEN, "CIQ_TLS_CA_FILE '%s' holds no PEM certificate: %s",
				    ca, ssl_reason());
				goto fail;
			}
		}
	}
	SSL_CTX_set_verify(s->ctx, s->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_client_cert_cb(s->ctx, client_cert);
	SSL_CTX_set_mode(s->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (cache) {
		/* The new-session callback runs only in a client-side cache
		 * mode; OpenSSL's own store in the context serves no one. */
		SSL_CTX_set_session_cache_mode(s->ctx,
		    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(s->ctx, new_session);
		ciq_tlscache_name(s->cache, u->host, u->port, sni, s->verify, ca);
	}
	if ((s->ssl = SSL_new(s->ctx)) == NULL) {
		snprintf(err, CIQ_ERRLEN, "TLS: cannot set up: %s", ssl_reason());
		goto fail;
	}
	SSL_set_ex_data(s->ssl, 0, s);
	if (sni == NULL) {
		/* RFC 6066: no SNI for addresses; the certificate must hold the IP. */
		if (s->verify && !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), u->host))
			goto host_fail;
	} else {
		/* SNI even when insecure: hosted proxies route by it. */
		if (!SSL_set_tlsext_host_name(s->ssl, u->host))
			goto host_fail;
		if (s->verify) {
			SSL_set_hostflags(s->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (!SSL_set1_host(s->ssl, u->host))
				goto host_fail;
		}
	}
	/* A session a tool saved for this server and these settings: the
	 * server resumes it, or makes a full handshake as if none was. */
	if (cache && (kept = ciq_tlscache_load(s->cache, sni, s->verify)) != NULL) {
		SSL_set_session(s->ssl, kept);
		SSL_SESSION_free(kept);
	}
	ERR_clear_error();
	return s;
host_fail:
	snprintf(err, CIQ_ERRLEN, "TLS: cannot use '%.100s' as the server's name: %s",
	    u->host, ssl_reason());
fail:
	ciq_tls_free(s);
	return NULL;
}

/* Reasons that mean the bytes that came back were not TLS at all. */
static int
not_tls(unsigned long e)
{
	int r = ERR_GET_REASON(e);

	return ERR_GET_LIB(e) == ERR_LIB_SSL && (r == SSL_R_WRONG_VERSION_NUMBER ||
	    r == SSL_R_PACKET_LENGTH_TOO_LONG || r == SSL_R_UNKNOWN_PROTOCOL ||
	    r == SSL_R_HTTP_REQUEST);
}

static int
eof_error(unsigned long e)
{
	return ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

const char ciq_tls_cert_required[] = "TLS: the server wants a client certificate "
    "(tls-auth-clients yes), which ciq does not support";
const char ciq_tls_plain_port[] = "TLS handshake failed: the server does not speak TLS "
    "on this port: use a redis:// URL";

/*
 * Why the handshake failed, in words that say what to change: -2 when no
 * retry can help (not a TLS server), else -1.
 */
static int
handshake_error(struct ciq_tls *s, int code, int saved_errno, char err[CIQ_ERRLEN])
{
	unsigned long e = ERR_peek_error();
	long v = SSL_get_verify_result(s->ssl);

	if (s->verify && v != X509_V_OK) {
		const char *why = X509_verify_cert_error_string(v);

		if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
			snprintf(err, CIQ_ERRLEN, "TLS: certificate verify failed: %s: the certificate "
			    "does not name '%.100s' (connect by a name it holds, or set "
			    "CIQ_TLS_INSECURE=1)", why, s->host);
		else
			snprintf(err, CIQ_ERRLEN, "TLS: certificate verify failed: %s (set "
			    "CIQ_TLS_CA_FILE, or CIQ_TLS_INSECURE=1 for a self-signed server)", why);
	} else if (e != 0 && not_tls(e)) {
		snprintf(err, CIQ_ERRLEN, "%s", ciq_tls_plain_port);
		return -2;
	} else if ((e != 0 && eof_error(e)) || (code == SSL_ERROR_SYSCALL && saved_errno == 0)) {
		snprintf(err, CIQ_ERRLEN, "TLS handshake failed: the server closed the connection");
	} else if (code == SSL_ERROR_SYSCALL) {
		snprintf(err, CIQ_ERRLEN, "TLS handshake failed: %s", strerror(saved_errno));
	} else {
		snprintf(err, CIQ_ERRLEN, "TLS handshake failed: %s", ssl_reason());
	}
	return -1;
}

/*
 * Wait for what OpenSSL asked for (code is SSL_get_error's answer): 1 go
 * on, 0 the deadline passed, -1 not a wait.
 */
static int
wait_ssl(int fd, int code, long long deadline)
{
	if (code == SSL_ERROR_WANT_READ)
		return ciq_wait_fd(fd, POLLIN, deadline) == 1 ? 1 : 0;
	if (code == SSL_ERROR_WANT_WRITE)
		return ciq_wait_fd(fd, POLLOUT, deadline) == 1 ? 1 : 0;
	return -1;
}

int
ciq_tls_handshake(struct ciq_tls *s, int fd, long long deadline, char err[CIQ_ERRLEN])
{
	if (SSL_get_rbio(s->ssl) == NULL) {
		BIO *b;

		s->fd = fd;
		if ((b = socket_bio(s)) == NULL) {
			snprintf(err, CIQ_ERRLEN, "TLS: cannot set up: %s", ssl_reason());
			s->broken = 1;
			ERR_clear_error();
			return -1;
		}
		SSL_set_bio(s->ssl, b, b);
	}
	for (;;) {
		int r, code, saved;

		ERR_clear_error();
		errno = 0;
		if ((r = SSL_connect(s->ssl)) == 1)
			return 0;
		saved = errno;
		code = SSL_get_error(s->ssl, r);
		switch (wait_ssl(fd, code, deadline)) {
		case 1:
			continue;
		case 0:
			snprintf(err, CIQ_ERRLEN, "TLS handshake timed out");
			ERR_clear_error();
			return 1;
		default:
			r = handshake_error(s, code, saved, err);
			s->broken = 1;
			ERR_clear_error();
			return r;
		}
	}
}

/*
 * Why a read or write failed, once OpenSSL gave up (not a wait): -2 when
 * it is the client certificate the server asked for, else -1.
 */
static int
io_error(struct ciq_tls *s, const char *op, int code, int saved_errno, char err[CIQ_ERRLEN])
{
	unsigned long e = ERR_peek_error();

	s->broken = code == SSL_ERROR_SSL || code == SSL_ERROR_SYSCALL;
	/*
	 * With TLS 1.3 the handshake ends on our side before the server has
	 * checked our (empty) certificate: its refusal is an alert, or a
	 * reset, on the first read or write. A server that only asked
	 * ("optional") answers, so a failure later is not blamed on it.
	 */
	if ((s->cert_asked && !s->replied) || (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)) {
		snprintf(err, CIQ_ERRLEN, "%s", ciq_tls_cert_required);
		ERR_clear_error();
		return -2;
	}
	if (code == SSL_ERROR_ZERO_RETURN || (e != 0 && eof_error(e)) ||
	    (code == SSL_ERROR_SYSCALL && saved_errno == 0))
		snprintf(err, CIQ_ERRLEN, "connection closed by the server");
	else if (code == SSL_ERROR_SYSCALL)
		snprintf(err, CIQ_ERRLEN, "%s: %s", op, strerror(saved_errno));
	else
		snprintf(err, CIQ_ERRLEN, "%s: TLS: %s", op, ssl_reason());
	ERR_clear_error();
	return -1;
}

int
ciq_tls_write(struct ciq_tls *s, const char *buf, size_t n, long long deadline,
    char err[CIQ_ERRLEN])
{
	int fd = s->fd;

	while (n > 0) {
		int w, code, saved, chunk = n > INT_MAX ? INT_MAX : (int)n;

		ERR_clear_error();
		errno = 0;
		if ((w = SSL_write(s->ssl, buf, chunk)) > 0) {
			buf += w;
			n -= (size_t)w;
			continue;
		}
		saved = errno;
		code = SSL_get_error(s->ssl, w);
		switch (wait_ssl(fd, code, deadline)) {
		case 1:
			continue;
		case 0:
			snprintf(err, CIQ_ERRLEN, "write timed out");
			return -1;
		default:
			return io_error(s, "write", code, saved, err);
		}
	}
	return 0;
}

ssize_t
ciq_tls_read(struct ciq_tls *s, char *buf, size_t cap, long long deadline,
    char err[CIQ_ERRLEN])
{
	int fd = s->fd;

	for (;;) {
		int r, code, saved, chunk = cap > INT_MAX ? INT_MAX : (int)cap;

		/*
		 * SSL_read first, poll only when it asks: decrypted bytes that
		 * OpenSSL already holds (SSL_pending) never show on the socket.
		 */
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_read(s->ssl, buf, chunk)) > 0) {
			s->replied = 1;
			return r;
		}
		saved = errno;
		code = SSL_get_error(s->ssl, r);
		switch (wait_ssl(fd, code, deadline)) {
		case 1:
			continue;
		case 0:
			snprintf(err, CIQ_ERRLEN, "no reply within the command timeout");
			return -1;
		default:
			return io_error(s, "read", code, saved, err);
		}
	}
}

int
ciq_tls_heard(const struct ciq_tls *s)
{
	return s->heard;
}

int
ciq_tls_probe(int fd, long long deadline)
{
	struct ciq_tls *s = ciq_calloc(1, sizeof *s);
	BIO *b;
	int r = 0;

	s->fd = fd;
	s->broken = 1;  /* no close_notify: this session was never wanted */
	/* No verification (a client's default): any TLS server answers. */
	if ((s->ctx = SSL_CTX_new(TLS_client_method())) != NULL &&
	    (s->ssl = SSL_new(s->ctx)) != NULL && (b = socket_bio(s)) != NULL) {
		SSL_set_bio(s->ssl, b, b);
		do {
			ERR_clear_error();
			r = SSL_connect(s->ssl);
		} while (r != 1 && wait_ssl(fd, SSL_get_error(s->ssl, r), deadline) == 1);
		/* A handshake, or an answer in TLS that ends it (an alert). */
		r = r == 1 || (s->heard && !not_tls(ERR_peek_error()));
	}
	ciq_tls_free(s);
	return r;
}
