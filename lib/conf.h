/*
 * conf.h - the effective configuration of a ciq tool.
 *
 * Every setting has one slot, filled by the first of: a command-line flag,
 * its CIQ_* variable, the CI provider's variables, a default. Each slot
 * remembers where its value came from, so ciq-env can say so. The table of
 * settings (names, variables, flags, defaults) lives in conf.c and nowhere
 * else.
 */
#ifndef CIQ_CONF_H
#define CIQ_CONF_H

#include <stddef.h>

#include "errlen.h"

/* One slot per setting. The order is the order ciq-env prints them in. */
enum ciq_setting_id {
	CIQ_K_PROVIDER,          /* detected CI provider, or unset outside CI */
	CIQ_K_QUEUE,             /* redis://, rediss:// or unix:// URL */
	CIQ_K_BUILD,             /* id shared by every worker of one build */
	CIQ_K_WORKER,            /* this worker's id, 0-based index on CI */
	CIQ_K_WORKERS,           /* how many workers to expect */
	CIQ_K_SEED,              /* seed of the shuffle */
	CIQ_K_NAMESPACE,         /* separates several suites in one build */
	CIQ_K_RETRY,             /* "true" when this job retries an earlier attempt */
	CIQ_K_BRANCH,            /* informational */
	CIQ_K_BUILD_URL,         /* informational */
	CIQ_K_TIMEOUT,           /* seconds before a silent reservation is lost */
	CIQ_K_INIT_TIMEOUT,      /* seconds to wait for the leader */
	CIQ_K_REPORT_TIMEOUT,    /* seconds ciq-report waits in all */
	CIQ_K_INACTIVE_TIMEOUT,  /* seconds without a live worker before the report gives up */
	CIQ_K_MAX_REQUEUES,      /* requeues allowed per test */
	CIQ_K_REQUEUE_TOLERANCE, /* share of the suite that may be requeued */
	CIQ_K_TTL,               /* lifetime of the build's keys, seconds */
	CIQ_K_ORDER,             /* random, timing or given */
	CIQ_K_CONNECT_TIMEOUT,   /* seconds for one connection attempt */
	CIQ_K_COMMAND_TIMEOUT,   /* seconds for one reply */
	CIQ_K_RECONNECT_TIMEOUT, /* seconds of reconnect attempts after a broken connection */
	CIQ_K_HEARTBEAT,         /* seconds between heartbeats of a running test; 0: none */
	CIQ_K_TIMING_TTL,        /* lifetime of a namespace's duration history, seconds */
	CIQ_K_MAX_FAILURES,      /* the build stops after this many failed tests; 0: never */
	CIQ_K_MAX_CONSECUTIVE_FAILURES, /* a worker stops after this many in a row; 0: never */
	CIQ_K_MAX_DURATION,      /* seconds after its first pop a worker takes nothing new; 0: never */
	CIQ_K_KNOWN_FLAKY,       /* file of tests whose failure the report does not count */
	CIQ_K_SPLIT_COMMAND,     /* prints a slow unit's parts, one a line */
	CIQ_K_SPLIT_THRESHOLD,   /* seconds, or auto: units longer are split */
	CIQ_K_PASSWORD,          /* AUTH password, if not in the URL */
	CIQ_K_USER,              /* ACL user, if not in the URL */
	CIQ_K_COUNT
};

struct ciq_setting {
	const char *value;   /* NULL when unset */
	const char *source;  /* "--flag", "CIQ_VAR", a provider variable, "default" */
};

struct ciq_conf {
	struct ciq_setting set[CIQ_K_COUNT];
	char *owned[CIQ_K_COUNT]; /* values the conf allocated (normalised indexes) */
	int resolved;             /* ciq_conf_resolve ran */
};

/* Static description of one setting, for ciq-env and for option parsing. */
struct ciq_conf_info {
	const char *name;     /* field name in ciq-env --json: "queue" */
	const char *env;      /* "CIQ_QUEUE", or NULL */
	const char *flag;     /* long option without dashes: "queue", or NULL */
	const char *fallback; /* default value, or NULL */
	int secret;           /* printed as *** */
};

const struct ciq_conf_info *ciq_conf_info(enum ciq_setting_id k);

/*
 * Long-option values for the settings every tool accepts: a main puts
 * CIQ_CONF_LONGOPTS in its getopt_long table and hands any value at or
 * above CIQ_OPT_BASE to ciq_conf_flag().
 */
#define CIQ_OPT_BASE 0x100
#define CIQ_CONF_LONGOPTS \
	{ "queue",             1, NULL, CIQ_OPT_BASE + CIQ_K_QUEUE }, \
	{ "build",             1, NULL, CIQ_OPT_BASE + CIQ_K_BUILD }, \
	{ "worker",            1, NULL, CIQ_OPT_BASE + CIQ_K_WORKER }, \
	{ "workers",           1, NULL, CIQ_OPT_BASE + CIQ_K_WORKERS }, \
	{ "seed",              1, NULL, CIQ_OPT_BASE + CIQ_K_SEED }, \
	{ "namespace",         1, NULL, CIQ_OPT_BASE + CIQ_K_NAMESPACE }, \
	{ "retry",             1, NULL, CIQ_OPT_BASE + CIQ_K_RETRY }, \
	{ "timeout",           1, NULL, CIQ_OPT_BASE + CIQ_K_TIMEOUT }, \
	{ "init-timeout",      1, NULL, CIQ_OPT_BASE + CIQ_K_INIT_TIMEOUT }, \
	{ "report-timeout",    1, NULL, CIQ_OPT_BASE + CIQ_K_REPORT_TIMEOUT }, \
	{ "inactive-timeout",  1, NULL, CIQ_OPT_BASE + CIQ_K_INACTIVE_TIMEOUT }, \
	{ "max-requeues",      1, NULL, CIQ_OPT_BASE + CIQ_K_MAX_REQUEUES }, \
	{ "requeue-tolerance", 1, NULL, CIQ_OPT_BASE + CIQ_K_REQUEUE_TOLERANCE }, \
	{ "ttl",               1, NULL, CIQ_OPT_BASE + CIQ_K_TTL }, \
	{ "order",             1, NULL, CIQ_OPT_BASE + CIQ_K_ORDER }, \
	{ "connect-timeout",   1, NULL, CIQ_OPT_BASE + CIQ_K_CONNECT_TIMEOUT }, \
	{ "command-timeout",   1, NULL, CIQ_OPT_BASE + CIQ_K_COMMAND_TIMEOUT }, \
	{ "reconnect-timeout", 1, NULL, CIQ_OPT_BASE + CIQ_K_RECONNECT_TIMEOUT }, \
	{ "heartbeat",         1, NULL, CIQ_OPT_BASE + CIQ_K_HEARTBEAT }, \
	{ "timing-ttl",        1, NULL, CIQ_OPT_BASE + CIQ_K_TIMING_TTL }, \
	{ "max-failures",      1, NULL, CIQ_OPT_BASE + CIQ_K_MAX_FAILURES }, \
	{ "max-consecutive-failures", 1, NULL, CIQ_OPT_BASE + CIQ_K_MAX_CONSECUTIVE_FAILURES }, \
	{ "max-duration",      1, NULL, CIQ_OPT_BASE + CIQ_K_MAX_DURATION }, \
	{ "known-flaky",       1, NULL, CIQ_OPT_BASE + CIQ_K_KNOWN_FLAKY }, \
	{ "split-command",     1, NULL, CIQ_OPT_BASE + CIQ_K_SPLIT_COMMAND }, \
	{ "split-threshold",   1, NULL, CIQ_OPT_BASE + CIQ_K_SPLIT_THRESHOLD }

/* Zero the conf. Can't fail. */
void ciq_conf_init(struct ciq_conf *c);

/* Free what the conf allocated. Values borrowed from argv/environ stay. */
void ciq_conf_free(struct ciq_conf *c);

/*
 * Record a command-line value for the option whose getopt value is opt.
 * Returns 0, or -1 when opt is not a setting option.
 */
int ciq_conf_flag(struct ciq_conf *c, int opt, const char *value);

/*
 * Fill every slot not set by a flag from CIQ_* variables, then the CI
 * provider (provider.c), then the defaults. Call after the flags; later
 * calls do nothing. Can't fail: validation is ciq_conf_check's job.
 */
void ciq_conf_resolve(struct ciq_conf *c);

/* Value of a slot, or NULL. */
const char *ciq_conf_get(const struct ciq_conf *c, enum ciq_setting_id k);

/*
 * Validate what a tool needs. need is a bitmask of (1 << CIQ_K_*) that must
 * be set; every numeric slot that is set is checked too. Returns 0, or -1
 * with a message in err naming the variable or flag to fix.
 */
int ciq_conf_check(const struct ciq_conf *c, unsigned need, char err[CIQ_ERRLEN]);

/* Numeric slots, already checked by ciq_conf_check. Seconds come back in ms. */
long long ciq_conf_ms(const struct ciq_conf *c, enum ciq_setting_id k);
long long ciq_conf_int(const struct ciq_conf *c, enum ciq_setting_id k);
double ciq_conf_double(const struct ciq_conf *c, enum ciq_setting_id k);

#define CIQ_NEED(k) (1u << (k))
#define CIQ_NEED_QUEUE  (CIQ_NEED(CIQ_K_QUEUE) | CIQ_NEED(CIQ_K_BUILD))
#define CIQ_NEED_WORKER (CIQ_NEED_QUEUE | CIQ_NEED(CIQ_K_WORKER))

#endif
