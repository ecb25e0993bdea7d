/*
 * conf.c - settings, their variables, flags and defaults, and where each
 * effective value came from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "number.h"
#include "provider.h"

static const struct ciq_conf_info info[CIQ_K_COUNT] = {
	[CIQ_K_PROVIDER]          = { "provider", NULL, NULL, NULL, 0 },
	[CIQ_K_QUEUE]             = { "queue", "CIQ_QUEUE", "queue", NULL, 0 },
	[CIQ_K_BUILD]             = { "build", "CIQ_BUILD", "build", NULL, 0 },
	[CIQ_K_WORKER]            = { "worker", "CIQ_WORKER", "worker", NULL, 0 },
	[CIQ_K_WORKERS]           = { "workers", "CIQ_WORKERS", "workers", NULL, 0 },
	[CIQ_K_SEED]              = { "seed", "CIQ_SEED", "seed", NULL, 0 },
	[CIQ_K_NAMESPACE]         = { "namespace", "CIQ_NAMESPACE", "namespace", "", 0 },
	[CIQ_K_RETRY]             = { "retry", "CIQ_RETRY", "retry", "false", 0 },
	[CIQ_K_BRANCH]            = { "branch", NULL, NULL, NULL, 0 },
	[CIQ_K_BUILD_URL]         = { "build_url", NULL, NULL, NULL, 0 },
	[CIQ_K_TIMEOUT]           = { "timeout", "CIQ_TIMEOUT", "timeout", "30", 0 },
	[CIQ_K_INIT_TIMEOUT]      = { "init_timeout", "CIQ_INIT_TIMEOUT", "init-timeout", "60", 0 },
	[CIQ_K_REPORT_TIMEOUT]    = { "report_timeout", "CIQ_REPORT_TIMEOUT", "report-timeout", "3600", 0 },
	[CIQ_K_INACTIVE_TIMEOUT]  = { "inactive_timeout", "CIQ_INACTIVE_TIMEOUT", "inactive-timeout", "300", 0 },
	[CIQ_K_MAX_REQUEUES]      = { "max_requeues", "CIQ_MAX_REQUEUES", "max-requeues", "0", 0 },
	[CIQ_K_REQUEUE_TOLERANCE] = { "requeue_tolerance", "CIQ_REQUEUE_TOLERANCE", "requeue-tolerance", "0", 0 },
	[CIQ_K_TTL]               = { "ttl", "CIQ_TTL", "ttl", "28800", 0 },
	[CIQ_K_ORDER]             = { "order", "CIQ_ORDER", "order", "timing", 0 },
	[CIQ_K_CONNECT_TIMEOUT]   = { "connect_timeout", "CIQ_CONNECT_TIMEOUT", "connect-timeout", "5", 0 },
	[CIQ_K_COMMAND_TIMEOUT]   = { "command_timeout", "CIQ_COMMAND_TIMEOUT", "command-timeout", "10", 0 },
	[CIQ_K_RECONNECT_TIMEOUT] = { "reconnect_timeout", "CIQ_RECONNECT_TIMEOUT", "reconnect-timeout", "30", 0 },
	[CIQ_K_HEARTBEAT]         = { "heartbeat", "CIQ_HEARTBEAT", "heartbeat", "1", 0 },
	[CIQ_K_TIMING_TTL]        = { "timing_ttl", "CIQ_TIMING_TTL", "timing-ttl", "1209600", 0 },
	[CIQ_K_MAX_FAILURES]      = { "max_failures", "CIQ_MAX_FAILURES", "max-failures", "0", 0 },
	[CIQ_K_MAX_CONSECUTIVE_FAILURES] = { "max_consecutive_failures", "CIQ_MAX_CONSECUTIVE_FAILURES",
	    "max-consecutive-failures", "0", 0 },
	[CIQ_K_MAX_DURATION]      = { "max_duration", "CIQ_MAX_DURATION", "max-duration", "0", 0 },
	[CIQ_K_KNOWN_FLAKY]       = { "known_flaky", "CIQ_KNOWN_FLAKY", "known-flaky", NULL, 0 },
	[CIQ_K_SPLIT_COMMAND]     = { "split_command", "CIQ_SPLIT_COMMAND", "split-command", NULL, 0 },
	[CIQ_K_SPLIT_THRESHOLD]   = { "split_threshold", "CIQ_SPLIT_THRESHOLD", "split-threshold", NULL, 0 },
	[CIQ_K_PASSWORD]          = { "password", "CIQ_PASSWORD", NULL, NULL, 1 },
	[CIQ_K_USER]              = { "user", "CIQ_USER", NULL, NULL, 0 },
};

/* How each numeric slot is checked. */
enum kind { K_TEXT, K_SECONDS, K_WHOLE_SECONDS, K_COUNT, K_RATIO, K_BOOL, K_ID, K_ORDER, K_THRESHOLD };

static const enum kind kinds[CIQ_K_COUNT] = {
	[CIQ_K_BUILD] = K_ID, [CIQ_K_WORKER] = K_ID, [CIQ_K_NAMESPACE] = K_ID,
	[CIQ_K_WORKERS] = K_COUNT, [CIQ_K_RETRY] = K_BOOL,
	[CIQ_K_TIMEOUT] = K_SECONDS, [CIQ_K_INIT_TIMEOUT] = K_SECONDS,
	[CIQ_K_REPORT_TIMEOUT] = K_SECONDS, [CIQ_K_INACTIVE_TIMEOUT] = K_SECONDS,
	[CIQ_K_MAX_REQUEUES] = K_COUNT, [CIQ_K_REQUEUE_TOLERANCE] = K_RATIO,
	[CIQ_K_TTL] = K_WHOLE_SECONDS, [CIQ_K_TIMING_TTL] = K_WHOLE_SECONDS, [CIQ_K_ORDER] = K_ORDER,
	[CIQ_K_CONNECT_TIMEOUT] = K_SECONDS, [CIQ_K_COMMAND_TIMEOUT] = K_SECONDS,
	[CIQ_K_RECONNECT_TIMEOUT] = K_SECONDS, [CIQ_K_HEARTBEAT] = K_SECONDS,
	[CIQ_K_MAX_FAILURES] = K_COUNT, [CIQ_K_MAX_CONSECUTIVE_FAILURES] = K_COUNT,
	[CIQ_K_MAX_DURATION] = K_SECONDS, [CIQ_K_SPLIT_THRESHOLD] = K_THRESHOLD,
};

const struct ciq_conf_info *
ciq_conf_info(enum ciq_setting_id k)
{
	return &info[k];
}

void
ciq_conf_init(struct ciq_conf *c)
{
	memset(c, 0, sizeof *c);
}

void
ciq_conf_free(struct ciq_conf *c)
{
	for (int k = 0; k < CIQ_K_COUNT; k++)
		free(c->owned[k]);
	memset(c, 0, sizeof *c);
}

int
ciq_conf_flag(struct ciq_conf *c, int opt, const char *value)
{
	int k = opt - CIQ_OPT_BASE;

	if (k < 0 || k >= CIQ_K_COUNT || info[k].flag == NULL)
		return -1;
	c->set[k].value = value;
	c->set[k].source = info[k].flag;
	return 0;
}

/* Set a slot to a copy of value. */
static void
put(struct ciq_conf *c, enum ciq_setting_id k, const char *value, const char *source)
{
	free(c->owned[k]);
	c->owned[k] = ciq_strdup(value);
	c->set[k].value = c->owned[k];
	c->set[k].source = source;
}

/* What the CI provider fills, for each slot. */
static const enum ciq_ci_field ci_fields[CIQ_K_COUNT] = {
	[CIQ_K_PROVIDER] = CIQ_CI_PROVIDER, [CIQ_K_BUILD] = CIQ_CI_BUILD,
	[CIQ_K_WORKER] = CIQ_CI_WORKER, [CIQ_K_WORKERS] = CIQ_CI_WORKERS,
	[CIQ_K_SEED] = CIQ_CI_SEED, [CIQ_K_RETRY] = CIQ_CI_RETRY,
	[CIQ_K_BRANCH] = CIQ_CI_BRANCH, [CIQ_K_BUILD_URL] = CIQ_CI_BUILD_URL,
};

/* Fill the slots still unset with what the CI provider says. */
static void
from_provider(struct ciq_conf *c)
{
	struct ciq_ci ci;

	ciq_provider_infer(&ci);
	for (int k = 0; k < CIQ_K_COUNT; k++) {
		const struct ciq_ci_value *v = &ci.v[ci_fields[k]];

		if (ci_fields[k] != CIQ_CI_NONE && c->set[k].value == NULL && v->value != NULL)
			put(c, (enum ciq_setting_id)k, v->value, v->source);
	}
	ciq_provider_free(&ci);
}

void
ciq_conf_resolve(struct ciq_conf *c)
{
	const char *v;

	if (c->resolved)
		return;
	c->resolved = 1;
	for (int k = 0; k < CIQ_K_COUNT; k++) {
		if (c->set[k].value != NULL || info[k].env == NULL)
			continue;
		if ((v = getenv(info[k].env)) != NULL && *v != '\0') {
			c->set[k].value = v;
			c->set[k].source = info[k].env;
		}
	}
	/* REDIS_URL is what hosted Redis add-ons (Heroku and others) export. */
	if (c->set[CIQ_K_QUEUE].value == NULL &&
	    (v = getenv("REDIS_URL")) != NULL && *v != '\0') {
		c->set[CIQ_K_QUEUE].value = v;
		c->set[CIQ_K_QUEUE].source = "REDIS_URL";
	}
	from_provider(c);
	/* The seed falls back to the build id, so every worker agrees on it. */
	if (c->set[CIQ_K_SEED].value == NULL && c->set[CIQ_K_BUILD].value != NULL) {
		c->set[CIQ_K_SEED].value = c->set[CIQ_K_BUILD].value;
		c->set[CIQ_K_SEED].source = c->set[CIQ_K_BUILD].source;
	}
	for (int k = 0; k < CIQ_K_COUNT; k++) {
		if (c->set[k].value == NULL && info[k].fallback != NULL) {
			c->set[k].value = info[k].fallback;
			c->set[k].source = "default";
		}
	}
}

const char *
ciq_conf_get(const struct ciq_conf *c, enum ciq_setting_id k)
{
	return c->set[k].value;
}

/* Name the user should fix: "--timeout" for a flag, else the variable. */
static const char *
origin(const struct ciq_conf *c, enum ciq_setting_id k, char *buf, size_t len)
{
	const char *s = c->set[k].source;

	if (s != NULL && info[k].flag != NULL && strcmp(s, info[k].flag) == 0)
		snprintf(buf, len, "--%s", s);
	else
		snprintf(buf, len, "%s", s != NULL ? s : "?");
	return buf;
}

/*
 * The numeric slots: kind, least value and greatest, in the unit the kind
 * parses to (milliseconds for seconds, millionths for ratios). A timeout
 * of 0 would make everything time out at once, so those start at 1 ms;
 * 0 stays where it means "off": no heartbeat, no requeues, never stop.
 */
#define MAX_SECONDS    10000000        /* about 115 days */
#define MAX_WHOLE      1000000000
#define RATIO_ONE      1000000LL       /* 1 in millionths */
#define STR(x)         STR_(x)
#define STR_(x)        #x

static const long long mins[CIQ_K_COUNT] = {
	[CIQ_K_TIMEOUT] = 1, [CIQ_K_INIT_TIMEOUT] = 1, [CIQ_K_REPORT_TIMEOUT] = 1,
	[CIQ_K_INACTIVE_TIMEOUT] = 1, [CIQ_K_CONNECT_TIMEOUT] = 1,
	[CIQ_K_COMMAND_TIMEOUT] = 1, [CIQ_K_RECONNECT_TIMEOUT] = 1,
	[CIQ_K_TTL] = 1, [CIQ_K_TIMING_TTL] = 1,
};

/* Parse a numeric slot's value, range checked: see number.h. */
static int
parse_num(enum ciq_setting_id k, const char *s, long long *out)
{
	switch (kinds[k]) {
	case K_SECONDS:
		return ciq_number_ms(s, mins[k], MAX_SECONDS * 1000LL, out);
	case K_WHOLE_SECONDS:
	case K_COUNT:
		return ciq_number_whole(s, mins[k], MAX_WHOLE, out);
	case K_RATIO:
		return ciq_number_fixed(s, CIQ_NUMBER_RATIO_DECIMALS, mins[k], RATIO_ONE, out);
	default:
		return CIQ_NUMBER_FORM;
	}
}

/*
 * Ids end up inside the key prefix ciq:{NAMESPACE:BUILD}: and in report
 * lines, so they are kept to printable ASCII without spaces or braces.
 */
static int
valid_id(const char *s)
{
	if (strlen(s) > 256)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '{' || *s == '}')
			return 0;
	return 1;
}

/* What a numeric slot takes, for the message about a value that failed
 * with rc: the form first, the range when the form was right. */
static const char *
expected(enum ciq_setting_id k, int rc)
{
	switch (kinds[k]) {
	case K_SECONDS:
		if (rc == CIQ_NUMBER_FORM)
			return "seconds";
		if (rc == CIQ_NUMBER_DECIMALS)
			return "seconds with at most " STR(CIQ_NUMBER_MS_DECIMALS) " decimals";
		return mins[k] > 0 ? "seconds above 0, at most " STR(MAX_SECONDS) :
		    "seconds from 0 to " STR(MAX_SECONDS);
	case K_WHOLE_SECONDS:
		return "whole seconds from 1 to " STR(MAX_WHOLE);
	case K_COUNT:
		return rc == CIQ_NUMBER_RANGE ? "a whole number from 0 to " STR(MAX_WHOLE) :
		    "a whole number";
	case K_RATIO:
		if (rc == CIQ_NUMBER_DECIMALS)
			return "a number from 0 to 1 with at most " STR(CIQ_NUMBER_RATIO_DECIMALS) " decimals";
		return "a number from 0 to 1";
	default:
		return "a number";
	}
}

static int
check_one(const struct ciq_conf *c, enum ciq_setting_id k, char err[CIQ_ERRLEN])
{
	const char *v = c->set[k].value;
	char where[64];
	long long n;
	int rc;

	switch (kinds[k]) {
	case K_SECONDS:
	case K_WHOLE_SECONDS:
	case K_COUNT:
	case K_RATIO:
		if ((rc = parse_num(k, v, &n)) == CIQ_NUMBER_OK)
			return 0;
		snprintf(err, CIQ_ERRLEN, "invalid %s '%s': expected %s", origin(c, k, where, sizeof where),
		    v, expected(k, rc));
		return -1;
	case K_BOOL:
		if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
			return 0;
		snprintf(err, CIQ_ERRLEN, "invalid %s '%s': expected true or false", origin(c, k, where, sizeof where), v);
		return -1;
	case K_ID:
		if (valid_id(v) && (*v != '\0' || k == CIQ_K_NAMESPACE))
			return 0;
		snprintf(err, CIQ_ERRLEN, "invalid %s '%s': expected printable ASCII without spaces or braces",
		    origin(c, k, where, sizeof where), v);
		return -1;
	case K_ORDER:
		if (strcmp(v, "random") == 0 || strcmp(v, "timing") == 0 || strcmp(v, "given") == 0)
			return 0;
		snprintf(err, CIQ_ERRLEN, "invalid %s '%s': expected random, timing or given", origin(c, k, where, sizeof where), v);
		return -1;
	case K_THRESHOLD:
		if (strcmp(v, "auto") == 0 || ciq_number_ms(v, 1, MAX_SECONDS * 1000LL, &n) == CIQ_NUMBER_OK)
			return 0;
		snprintf(err, CIQ_ERRLEN, "invalid %s '%s': expected auto or seconds above 0",
		    origin(c, k, where, sizeof where), v);
		return -1;
	case K_TEXT:
		return 0;
	}
	return 0;
}

/*
 * "no worker: set CIQ_WORKER or --worker (GitHub Actions has no parallel
 * index: ...)": how to supply slot k, then why the provider did not.
 */
static void
hint(const struct ciq_conf *c, enum ciq_setting_id k, char err[CIQ_ERRLEN])
{
	const char *flag = info[k].flag;

	if (k == CIQ_K_QUEUE)
		snprintf(err, CIQ_ERRLEN, "no %s: set CIQ_QUEUE, --queue or REDIS_URL", info[k].name);
	else if (info[k].env == NULL)
		snprintf(err, CIQ_ERRLEN, "no %s: the CI provider does not expose it", info[k].name);
	else
		snprintf(err, CIQ_ERRLEN, "no %s: set %s%s%s%s", info[k].name, info[k].env,
		    flag != NULL ? " or --" : "", flag != NULL ? flag : "",
		    ciq_provider_hint(c->set[CIQ_K_PROVIDER].value, ci_fields[k]));
}

int
ciq_conf_check(const struct ciq_conf *c, unsigned need, char err[CIQ_ERRLEN])
{
	for (int k = 0; k < CIQ_K_COUNT; k++) {
		if (c->set[k].value == NULL) {
			if (need & CIQ_NEED(k)) {
				hint(c, (enum ciq_setting_id)k, err);
				return -1;
			}
			continue;
		}
		if (check_one(c, (enum ciq_setting_id)k, err) == -1)
			return -1;
	}
	return 0;
}

/*
 * A checked numeric slot's value, scaled as its kind parses it, and that
 * scale: 0 when unset or not numeric.
 */
static long long
scaled(const struct ciq_conf *c, enum ciq_setting_id k, long long *unit)
{
	long long n = 0;

	*unit = kinds[k] == K_SECONDS ? 1000 : kinds[k] == K_RATIO ? RATIO_ONE : 1;
	if (c->set[k].value == NULL || parse_num(k, c->set[k].value, &n) != CIQ_NUMBER_OK)
		return 0;
	return n;
}

long long
ciq_conf_ms(const struct ciq_conf *c, enum ciq_setting_id k)
{
	long long unit, n = scaled(c, k, &unit);

	return kinds[k] == K_SECONDS ? n : n * 1000;
}

long long
ciq_conf_int(const struct ciq_conf *c, enum ciq_setting_id k)
{
	long long unit, n = scaled(c, k, &unit);

	return n / unit;
}

double
ciq_conf_double(const struct ciq_conf *c, enum ciq_setting_id k)
{
	long long unit, n = scaled(c, k, &unit);

	return (double)n / (double)unit;
}
