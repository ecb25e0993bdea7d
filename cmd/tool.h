/*
 * tool.h - what every ciq main does the same way.
 *
 * This is the mains' side of the line: unlike lib/, it prints usage and
 * versions and exits. Each main keeps its own options and its one job.
 */
#ifndef CIQ_TOOL_H
#define CIQ_TOOL_H

#include <stdnoreturn.h>

#include "conf.h"

struct ciq_tool {
	const char *name;   /* "ciq-pop" */
	const char *usage;  /* the synopsis, "usage: ciq-pop ...\n", as in the man page */
	const char *output; /* what stdout carries, for "cannot write ...": "the report" */
};

/* The long options every tool takes: --help, --version, the settings. */
#define CIQ_TOOL_LONGOPTS \
	{ "help", 0, NULL, 'h' }, \
	{ "version", 0, NULL, 'V' }, \
	CIQ_CONF_LONGOPTS

/* Set up the process: getopt and err(3) name the tool the same way.
 * The arguments are kept as given, for ciq_tool_handover. */
void ciq_tool_start(char **argv);

/*
 * In the static build (LINK=static), which can load no shared library:
 * when the queue's URL needs one, replace the process with the tool's
 * dynamic build, with the same arguments and environment. A URL needs
 * one for TLS (rediss://: OpenSSL, lib/ssllib.h), or when its host name
 * would be looked up through an NSS module (lib/nsswitch.h). The dynamic
 * build is looked for in ../libexec/ciq/ beside this program, then in the
 * LIBEXECDIR it was built for; when neither runs, the tool exits 78
 * saying where it looked. Returns when nothing is needed, and always in
 * the dynamic build. Call it after the options and before reading any
 * input, so that the input is still there for the dynamic build.
 */
void ciq_tool_handover(const struct ciq_tool *t, struct ciq_conf *conf);

/* Print the usage (stdout when status is 0, else stderr) and exit. */
noreturn void ciq_tool_usage(const struct ciq_tool *t, int status);

/*
 * Handle an option every tool shares: -h/--help, --version, a setting.
 * Anything else is a usage error: the usage is printed and the tool
 * exits 64. Call it from the default case of the getopt loop.
 */
void ciq_tool_option(const struct ciq_tool *t, struct ciq_conf *conf, int c, const char *arg);

/*
 * Refuse test ids that name no test: an empty id (a usage error, exit 64,
 * before anything is sent or written). ids[0..n) are the TEST arguments.
 */
void ciq_tool_ids(const struct ciq_tool *t, int n, char *const *ids);

/*
 * Check and read what ciq-ack and ciq-requeue attach to results: the
 * output (--output) and the runner's JUnit report (--junit, one test
 * only), its testcases encoded for the server with the attempt's result
 * (p, f, s, or r for a requeue) and this worker's id. A usage error
 * exits 64; a file that cannot be read or is not JUnit exits 65 saying
 * "nothing was <done>". *out and *cases stay NULL without their option;
 * the caller frees them.
 */
void ciq_tool_attachments(const struct ciq_tool *t, struct ciq_conf *conf, int ntests,
    const char *output_path, const char *junit_path, char result, const char *done,
    char **out, size_t *outlen, char **cases, size_t *caseslen);

/*
 * The end of a main: stdout is flushed and checked, so lost output is
 * never a success (exit 70 then). Returns status.
 */
int ciq_tool_exit(const struct ciq_tool *t, int status);

#endif
