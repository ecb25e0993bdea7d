/*
 * tlscache.h - TLS sessions kept from one tool for the next.
 *
 * Every tool is a process of its own, so every rediss:// connection
 * would cost the server a full handshake: far more of its time than
 * the script the tool then runs. A tool that connected keeps its session
 * (a TLS 1.3 ticket, or a TLS 1.2 session) in a file of the private
 * directory (privdir.h); the next tool for the same server offers it,
 * and the server resumes it, without a certificate to sign or verify.
 *
 * A file holds the session of one server under one way of verifying
 * it: its name is a hash of the host, the port, the SNI name, whether
 * the server is verified and what it is verified against (CIQ_TLS_CA_FILE
 * by path and by file identity, SSL_CERT_FILE, SSL_CERT_DIR). A session
 * thus only goes back to a connection that would have verified the
 * server the same way: OpenSSL checks no certificate on resumption. The
 * password and the user are sent after the handshake, in application
 * data: no session holds them, and no name is made from them.
 *
 * A session lets whoever holds it resume it, so the file gets the care
 * of the loops' logs: mode 0600, written whole to a temporary file and
 * renamed into place (two tools saving at once leave one whole file),
 * and read only when it is a regular file of this user, not a symbolic
 * link, closed to others, in a directory that privdir.h trusts. Any file
 * that is not so, or that does not hold a usable session (corrupt,
 * truncated, expired, for another server name), is not used: the tool
 * makes a full handshake and saves its new session over it. Nothing here
 * fails a tool: the cache only ever saves a handshake.
 */
#ifndef CIQ_TLSCACHE_H
#define CIQ_TLSCACHE_H

#include <openssl/ssl.h>

/* "tls-", 32 hexadecimal digits, the NUL. */
#define CIQ_TLSCACHE_NAMELEN 37

/*
 * The file name of the sessions with the server at host:port, sent sni
 * (NULL for an address: none is sent), verified (verify 1) against
 * ca_file (NULL or empty: none) and the system store, or not at all.
 */
void ciq_tlscache_name(char name[CIQ_TLSCACHE_NAMELEN], const char *host, int port,
    const char *sni, int verify, const char *ca_file);

/*
 * The saved session of that name, for a connection that sends sni and
 * verifies (or not) the server's certificate; NULL when there is none
 * that may be used. The caller frees it with SSL_SESSION_free().
 * OpenSSL's error queue is left as it was.
 */
SSL_SESSION *ciq_tlscache_load(const char *name, const char *sni, int verify);

/*
 * Save sess under that name, replacing the file whole, when it can be
 * resumed; nothing when it cannot be saved. OpenSSL's error queue is
 * left as it was (this runs inside SSL_read, which reads it).
 */
void ciq_tlscache_save(const char *name, SSL_SESSION *sess);

#endif
