/*
 * tls.h - TLS client sessions (OpenSSL) for rediss:// queue URLs.
 *
 * The transport connects the socket; this module puts TLS on top of it
 * with the same deadlines as the plain stream. It calls OpenSSL, linked
 * into every tool, and nothing of the transport, which calls it. The
 * server is verified by default: against the system CA store (OpenSSL's
 * default paths, which honour SSL_CERT_FILE and SSL_CERT_DIR), plus
 * CIQ_TLS_CA_FILE when it is set, and its certificate must name the URL's
 * host (SNI is sent for names, not for IP literals).
 *
 * A session is resumed from the last tool's when one was saved for the
 * same server and settings (tlscache.h), and the first session the
 * server gives is saved for the next tool.
 *
 * Three settings are read here with getenv(), not through conf.c,
 * because only rediss:// connections use them (ciq-env does not show
 * them):
 *
 *   CIQ_TLS_CA_FILE        a PEM file of CA certificates to trust as well
 *   CIQ_TLS_INSECURE       1 (or true, yes): accept any certificate, for
 *                          self-signed hosted servers; 0 (false, no) or
 *                          empty: verify. ?insecure=1 in the URL does the
 *                          same.
 *   CIQ_TLS_SESSION_CACHE  0 (false, no): neither offer nor save sessions;
 *                          1 (true, yes) or empty: do (the default).
 */
#ifndef CIQ_TLS_H
#define CIQ_TLS_H

#include <sys/types.h>

#include "errlen.h"
#include "url.h"

struct ciq_tls;

/* The message for a rediss:// URL that names a plain server's port. */
extern const char ciq_tls_plain_port[];
/* The message for a server that requires a client certificate. */
extern const char ciq_tls_cert_required[];

/*
 * Prepare a TLS client for the server u names, reading the settings
 * above. Returns a session to hand to ciq_tls_handshake(), or NULL with a
 * message in err when a setting is unusable (CIQ_TLS_CA_FILE missing or
 * without a certificate, CIQ_TLS_INSECURE or CIQ_TLS_SESSION_CACHE
 * neither on nor off): retrying
 * cannot help. Free it with ciq_tls_free().
 */
struct ciq_tls *ciq_tls_new(const struct ciq_url *u, char err[CIQ_ERRLEN]);

/*
 * Run the handshake on fd, a connected non-blocking socket, before the
 * deadline (ms, CLOCK_MONOTONIC). Returns 0 when done; -1 with a message
 * in err that says what to change (a CA file, insecure mode); -2 with
 * ciq_tls_plain_port in err when the server answered, but not in TLS; 1
 * when the deadline came first ("TLS handshake timed out" in err):
 * calling again, with the same fd and a later deadline, goes on. fd stays
 * the caller's: ciq_tls_free() does not close it.
 */
int ciq_tls_handshake(struct ciq_tls *s, int fd, long long deadline, char err[CIQ_ERRLEN]);

/* Whether the server has sent anything on this session yet. */
int ciq_tls_heard(const struct ciq_tls *s);

/*
 * As ciq_transport_write() and ciq_transport_read(), over TLS; they also
 * return -2 with ciq_tls_cert_required in err when the server refused the
 * session for want of a client certificate, which no retry can give.
 */
int ciq_tls_write(struct ciq_tls *s, const char *buf, size_t n, long long deadline,
    char err[CIQ_ERRLEN]);
ssize_t ciq_tls_read(struct ciq_tls *s, char *buf, size_t cap, long long deadline,
    char err[CIQ_ERRLEN]);

/*
 * Whether the server on fd, a connected non-blocking socket, answers a
 * TLS handshake (or ends it with a TLS alert) before the deadline: 1 or
 * 0. The transport asks when a redis:// server hung up without a word,
 * to name the real reason. fd stays the caller's.
 */
int ciq_tls_probe(int fd, long long deadline);

/*
 * Say goodbye (close_notify, without waiting) if the session is healthy,
 * and free it. Safe on NULL. The socket is left open for the caller.
 */
void ciq_tls_free(struct ciq_tls *s);

#endif
