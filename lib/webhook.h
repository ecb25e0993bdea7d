/*
 * webhook.h - post the report to an HTTP endpoint.
 *
 * Each attempt is bounded by a timeout; connection failures, timeouts
 * and the answers that ask to come back later (408, 429, 5xx) are tried
 * again after a growing delay. The caller decides what a failure means:
 * for ciq-report, a warning, never a change of the verdict.
 */
#ifndef CIQ_WEBHOOK_H
#define CIQ_WEBHOOK_H

#include <stddef.h>

#include "errlen.h"

struct ciq_webhook {
	long long timeout_ms;    /* one attempt, connection included */
	int retries;             /* attempts after the first */
	long long backoff_ms;    /* delay before the first retry; doubles up to 8 s */
	const char *user_agent;
};

/*
 * Check that url is an http:// or https:// URL. Returns 0, or -1 with
 * err saying what is wrong.
 */
int ciq_webhook_check(const char *url, char err[CIQ_ERRLEN]);

/*
 * The URL as it may be shown in a message: scheme, host and port only.
 * Paths and credentials of webhook URLs are often secrets. Returns 0, or
 * -1 (and "(not a URL)" in out) when url does not parse.
 */
int ciq_webhook_shown(const char *url, char *out, size_t n);

/*
 * POST body (n bytes of JSON) to url. Returns 0 once the server answers
 * 2xx, or -1 with err saying how the last attempt failed and how many
 * attempts were made ("HTTP 500 after 3 attempts").
 */
int ciq_webhook_post(const struct ciq_webhook *w, const char *url, const char *body, size_t n,
    char err[CIQ_ERRLEN]);

/* Release what libcurl holds; call once, after the last post. */
void ciq_webhook_cleanup(void);

#endif
