/*
 * webhook.c - HTTP POST with libcurl, with a timeout and retries.
 */
#include <curl/curl.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "webhook.h"

static int initialised;

int
ciq_webhook_check(const char *url, char err[CIQ_ERRLEN])
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	int rc = -1;

	if (u == NULL) {
		snprintf(err, CIQ_ERRLEN, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		snprintf(err, CIQ_ERRLEN, "not a URL");
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		snprintf(err, CIQ_ERRLEN, "not an http:// or https:// URL");
	else
		rc = 0;
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

int
ciq_webhook_shown(const char *url, char *out, size_t n)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = 0;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			snprintf(out, n, "%s://%s:%s", scheme, host, port);
		else
			snprintf(out, n, "%s://%s", scheme, host);
	} else {
		snprintf(out, n, "(not a URL)");
		rc = -1;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* The answer's body is not needed. */
static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* Whether an attempt that ended so is worth repeating. */
static int
transient(CURLcode rc, long code)
{
	if (rc != CURLE_OK)
		return rc != CURLE_URL_MALFORMAT && rc != CURLE_UNSUPPORTED_PROTOCOL &&
		    rc != CURLE_OUT_OF_MEMORY;
	return code == 408 || code == 429 || code >= 500;
}

int
ciq_webhook_post(const struct ciq_webhook *w, const char *url, const char *body, size_t n,
    char err[CIQ_ERRLEN])
{
	struct curl_slist *headers = NULL;
	struct ciq_backoff delay;
	char why[CURL_ERROR_SIZE];
	CURLcode rc = CURLE_OK;
	long code = 0;
	int attempt = 0, ok = 0;
	CURL *c;

	if (!initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, CIQ_ERRLEN, "cannot initialise libcurl");
			return -1;
		}
		initialised = 1;
	}
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, CIQ_ERRLEN, "cannot initialise libcurl");
		return -1;
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	/* No "Expect: 100-continue" wait before a large body. */
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (w->user_agent != NULL)
		curl_easy_setopt(c, CURLOPT_USERAGENT, w->user_agent);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	ciq_backoff_init(&delay, w->backoff_ms, 8000);
	for (;;) {
		attempt++;
		code = 0;
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (rc == CURLE_OK && code >= 200 && code < 300) {
			ok = 1;
			break;
		}
		if (attempt > w->retries || !transient(rc, code))
			break;
		ciq_sleep_ms(ciq_backoff_next(&delay));
	}
	if (!ok) {
		if (rc != CURLE_OK)
			snprintf(why, sizeof why, "%s", curl_easy_strerror(rc));
		else
			snprintf(why, sizeof why, "HTTP %ld", code);
		if (attempt > 1)
			snprintf(err, CIQ_ERRLEN, "%s after %d attempts", why, attempt);
		else
			snprintf(err, CIQ_ERRLEN, "%s", why);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	return ok ? 0 : -1;
}

void
ciq_webhook_cleanup(void)
{
	if (initialised)
		curl_global_cleanup();
	initialised = 0;
}
