/*
 * ssllib.c - resolve the OpenSSL functions tls.c calls, once.
 */
#include <stdio.h>
#include <string.h>

#include "ssllib.h"

#ifdef CIQ_SSLLIB_STATIC

int
ciq_ssllib_loadable(void)
{
	return 0;
}

const struct ciq_ssllib *
ciq_ssllib(char err[CIQ_ERRLEN])
{
	snprintf(err, CIQ_ERRLEN, "TLS: the static build cannot load OpenSSL: run the "
	    "tool's dynamic build (libexec/ciq/)");
	return NULL;
}

#else

#include <dlfcn.h>

#include <openssl/opensslv.h>

#define STR_(x) #x
#define STR(x) STR_(x)
/* The soname of the libssl these headers describe: libssl.so.3. */
#define LIBSSL "libssl.so." STR(OPENSSL_SHLIB_VERSION)

static struct ciq_ssllib table;
static int state;               /* 0 not tried, 1 loaded, -1 failed */
static char failure[CIQ_ERRLEN];

/* dlsym() hands back a void *; ISO C has no conversion to a function
 * pointer, POSIX guarantees it works, and memcpy says so without a cast. */
static int
resolve(void *lib, const char *name, void *slot, size_t size)
{
	void *sym = dlsym(lib, name);

	if (sym == NULL) {
		snprintf(failure, sizeof failure, "TLS: %s has no %s: install OpenSSL 3 "
		    "(Debian: libssl3)", LIBSSL, name);
		return -1;
	}
	memcpy(slot, &sym, size);
	return 0;
}

/* Open libssl and fill the table; 0, or -1 with the reason in failure. */
static int
load(void)
{
	/* libssl's own dependencies bring libcrypto, and dlsym() on this
	 * handle searches both. It is never closed. */
	void *lib = dlopen(LIBSSL, RTLD_NOW | RTLD_LOCAL);

	if (lib == NULL) {
		snprintf(failure, sizeof failure, "TLS: cannot load OpenSSL: %s "
		    "(Debian: libssl3)", dlerror());
		return -1;
	}
#define CIQ_SSLLIB_RESOLVE(name) \
	if (resolve(lib, #name, &table.name, sizeof table.name) != 0) \
		return -1;
	CIQ_SSLLIB_FUNCTIONS(CIQ_SSLLIB_RESOLVE)
#undef CIQ_SSLLIB_RESOLVE
	return 0;
}

const struct ciq_ssllib *
ciq_ssllib(char err[CIQ_ERRLEN])
{
	if (state == 0)
		state = load() == 0 ? 1 : -1;
	if (state == 1)
		return &table;
	snprintf(err, CIQ_ERRLEN, "%s", failure);
	return NULL;
}

int
ciq_ssllib_loadable(void)
{
	return 1;
}

#endif
