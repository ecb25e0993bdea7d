/*
 * tool.h - what every ciq main does the same way.
 *
 * This is the mains' side of the line: unlike lib/, it prints usage and
 * versions and exits. Each main keeps its own options and its one job.
 */
#ifndef CIQ_TOOL_H
#define CIQ_TOOL_H

#include <stdnoreturn.h>

#include "attach.h"
#include "conf.h"
#include "results.h"

#ifndef CIQ_VERSION
#define CIQ_VERSION "0.0.0"
#endif

struct ciq_tool {
	const char *name;   /* "ciq-pop" */
	const char *usage;  /* all that --help prints: the synopsis as in the man
	                       page, "usage: ciq-pop ...\n", then "See ciq-pop(1).\n" */
	const char *output; /* what stdout carries, for "cannot write ...": "the report" */
};

/* The long options every tool takes: --help, --version, the settings. */
#define CIQ_TOOL_LONGOPTS \
	{ "help", 0, NULL, 'h' }, \
	{ "version", 0, NULL, 'V' }, \
	CIQ_CONF_LONGOPTS

/* Set up the process: getopt and err(3) name the tool the same way. */
void ciq_tool_start(char **argv);

/* Print the usage (stdout when status is 0, else stderr) and exit. */
noreturn void ciq_tool_usage(const struct ciq_tool *t, int status);

/*
 * Handle an option every tool shares: -h/--help, --version, a setting.
 * Anything else is a usage error: the usage is printed and the tool
 * exits 64. Call it from the default case of the getopt loop.
 */
void ciq_tool_option(const struct ciq_tool *t, struct ciq_conf *conf, int c, const char *arg);

/*
 * The value of option --opt: seconds to the millisecond, at most a year,
 * above 0 unless zero_ok; returned in milliseconds. Anything else is a
 * usage error (exit 64): "invalid --opt 'V': expected seconds[ above 0]".
 */
long long ciq_tool_seconds(const struct ciq_tool *t, const char *opt, const char *v, int zero_ok);

/*
 * The value of option --opt: a whole number from min to max. Anything
 * else is a usage error (exit 64): "invalid --opt 'V': expected a whole
 * number from MIN to MAX".
 */
long long ciq_tool_whole(const struct ciq_tool *t, const char *opt, const char *v, long long min,
    long long max);

/*
 * Refuse test ids that name no test: an empty id (a usage error, exit 64,
 * before anything is sent or written). ids[0..n) are the TEST arguments.
 */
void ciq_tool_ids(const struct ciq_tool *t, int n, char *const *ids);

/*
 * Read what ciq-ack and ciq-requeue attach to the results of ntests
 * tests (attach.h), for this worker (conf is resolved). A usage error
 * exits 64; a file that cannot be read or is not JUnit exits 65 saying
 * "nothing was <done>". Free a with ciq_attach_free.
 */
void ciq_tool_attach(const struct ciq_tool *t, struct ciq_conf *conf, int ntests,
    const char *output_path, const char *junit_path, char result, const char *done,
    struct ciq_attach *a);

/*
 * --long of ciq-ack and ciq-requeue: a line per test, "MS ID", where MS
 * is how long this worker held the test, by the server's clock, when
 * this call ended its hold (recorded it, requeued it), else "-".
 */
void ciq_tool_print_held(const struct ciq_results *r);

/* Flush and close stdout; when that fails, say "cannot write <output>"
 * and exit 70: lost output is never a success. */
void ciq_tool_close_stdout(const struct ciq_tool *t);

/*
 * The end of a main: stdout is flushed and checked, so lost output is
 * never a success (exit 70 then). Returns status.
 */
int ciq_tool_exit(const struct ciq_tool *t, int status);

#endif
