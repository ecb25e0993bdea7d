/*
 * ssllib.h - OpenSSL, loaded when a rediss:// URL first needs it.
 *
 * Linking libssl and libcrypto costs every process their relocations at
 * start, about twice what the rest of a ciq-pop or ciq-ack costs, and
 * only TLS connections use them. So the tools do not link them: tls.c
 * calls OpenSSL through this table, filled by dlopen() of the system's
 * libssl (the ABI the headers describe, so security updates still apply).
 * The types come from OpenSSL's own headers.
 *
 * A static program cannot dlopen() a library built against the shared
 * libc, so the static build of a tool (LINK=static, the default; built
 * with CIQ_SSLLIB_STATIC) has no loader: its main hands a rediss:// URL
 * to the tool's dynamic build (cmd/tool.h, ciq_tool_handover).
 */
#ifndef CIQ_SSLLIB_H
#define CIQ_SSLLIB_H

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"

/* Every OpenSSL function tls.c calls (macros such as SSL_CTX_set_mode
 * are spelled out as the SSL_CTX_ctrl calls they stand for). */
#define CIQ_SSLLIB_FUNCTIONS(X)                                             \
	X(BIO_clear_flags) X(BIO_get_data) X(BIO_get_new_index)             \
	X(BIO_meth_free) X(BIO_meth_new) X(BIO_meth_set_create)             \
	X(BIO_meth_set_ctrl) X(BIO_meth_set_puts) X(BIO_meth_set_read)      \
	X(BIO_meth_set_write) X(BIO_new) X(BIO_set_data) X(BIO_set_flags)   \
	X(BIO_set_init) X(ERR_clear_error) X(ERR_peek_error)                \
	X(ERR_reason_error_string) X(SSL_connect) X(SSL_ctrl)               \
	X(SSL_CTX_ctrl) X(SSL_CTX_free) X(SSL_CTX_load_verify_locations)    \
	X(SSL_CTX_new) X(SSL_CTX_set_client_cert_cb)                        \
	X(SSL_CTX_set_default_verify_paths) X(SSL_CTX_set_verify)           \
	X(SSL_free) X(SSL_get0_param) X(SSL_get_error) X(SSL_get_ex_data)   \
	X(SSL_get_rbio) X(SSL_get_verify_result) X(SSL_is_init_finished)    \
	X(SSL_new) X(SSL_read) X(SSL_set1_host) X(SSL_set_bio)              \
	X(SSL_set_ex_data) X(SSL_set_hostflags) X(SSL_set_verify)           \
	X(SSL_shutdown) X(SSL_write) X(TLS_client_method)                   \
	X(X509_VERIFY_PARAM_set1_ip_asc) X(X509_verify_cert_error_string)

struct ciq_ssllib {
#define CIQ_SSLLIB_FIELD(name) __typeof__(name) *name;
	CIQ_SSLLIB_FUNCTIONS(CIQ_SSLLIB_FIELD)
#undef CIQ_SSLLIB_FIELD
};

/*
 * The table, loaded on the first call. NULL, with a message in err that
 * names the library, when it cannot be loaded or lacks a function; every
 * later call then fails the same way.
 */
const struct ciq_ssllib *ciq_ssllib(char err[CIQ_ERRLEN]);

/* 1 when this build can load OpenSSL, 0 in the static build. */
int ciq_ssllib_loadable(void);

#endif
