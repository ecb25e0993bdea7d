/*
 * tool.c - the options, usage, version and exit every ciq main shares.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "cases.h"
#include "alloc.h"
#include "cli.h"
#include "exit.h"
#include "junitxml.h"
#include "nsswitch.h"
#include "ssllib.h"
#include "tool.h"
#include "url.h"

#ifndef CIQ_LIBEXECDIR
#define CIQ_LIBEXECDIR "/usr/local/libexec/ciq"
#endif
#define NSSWITCH "/etc/nsswitch.conf"
/* Set in the environment of the dynamic build a static tool runs. */
#define HANDED_OVER "CIQ_HANDED_OVER"

/* argv as the tool was started: getopt permutes the caller's array. */
static char **given;

void
ciq_tool_start(char **argv)
{
	size_t n = 0;

	/* Only the static build may run another. */
	if (!ciq_ssllib_loadable()) {
		while (argv[n] != NULL)
			n++;
		given = ciq_calloc(n + 1, sizeof *given);
		memcpy(given, argv, n * sizeof *given);
	}
	argv[0] = program_invocation_short_name;
}

/* Why this URL needs the dynamic build, or NULL when it does not. */
static const char *
needs_dynamic(const char *url)
{
	struct ciq_url u;
	char ignored[CIQ_ERRLEN];
	const char *why = NULL;

	if (url == NULL || ciq_url_parse(url, &u, ignored) == -1)
		return NULL;    /* the connection says what is wrong */
	if (u.scheme == CIQ_SCHEME_TLS)
		why = "rediss:// needs the dynamic build, which loads OpenSSL:";
	for (size_t i = 0; why == NULL && u.scheme == CIQ_SCHEME_TCP && i < u.nseeds; i++)
		if (!ciq_url_is_address(u.seeds[i].host) && !ciq_nsswitch_builtin_hosts(NSSWITCH))
			why = "a host name looked up by NSS modules (" NSSWITCH ") needs the dynamic build:";
	ciq_url_free(&u);
	return why;
}

void
ciq_tool_handover(const struct ciq_tool *t, struct ciq_conf *conf)
{
	char self[4096], near[4096 + 64], far[sizeof CIQ_LIBEXECDIR + 64], *slash;
	const char *needs;
	ssize_t n;
	int near_errno = ENOENT;

	if (ciq_ssllib_loadable())
		return;
	ciq_conf_resolve(conf);
	if ((needs = needs_dynamic(ciq_conf_get(conf, CIQ_K_QUEUE))) == NULL)
		return;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = '\0';
	/* A static program installed as the dynamic build would run itself
	 * without end; the variable tells it that it is the one run. */
	if (getenv(HANDED_OVER) != NULL)
		errx(CIQ_EX_CONFIG, "%s '%s' was run as it, and is static too", needs,
		    n > 0 ? self : t->name);
	if (setenv(HANDED_OVER, "1", 1) == -1)
		err(CIQ_EX_SOFTWARE, "setenv");
	/* Beside this program first, so that a tree that is moved or not yet
	 * installed finds its own build. */
	near[0] = '\0';
	if (n > 0 && (slash = strrchr(self, '/')) != NULL) {
		*slash = '\0';
		snprintf(near, sizeof near, "%s/../libexec/ciq/%s", self, t->name);
		execv(near, given);
		near_errno = errno;
	}
	snprintf(far, sizeof far, "%s/%s", CIQ_LIBEXECDIR, t->name);
	execv(far, given);
	if (near[0] != '\0' && near_errno != ENOENT)
		errx(CIQ_EX_CONFIG, "%s cannot run '%s': %s", needs, near, strerror(near_errno));
	if (near[0] != '\0' && errno == ENOENT)
		errx(CIQ_EX_CONFIG, "%s neither '%s' nor '%s' exists", needs, near, far);
	errx(CIQ_EX_CONFIG, "%s cannot run '%s': %s", needs, far, strerror(errno));
}

void
ciq_tool_usage(const struct ciq_tool *t, int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "%sSee %s(1).\n", t->usage, t->name);
	if (status == 0 && ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write the usage");
	exit(status);
}

void
ciq_tool_option(const struct ciq_tool *t, struct ciq_conf *conf, int c, const char *arg)
{
	if (c == 'h')
		ciq_tool_usage(t, 0);
	if (c == 'V') {
		printf("%s %s\n", t->name, CIQ_VERSION);
		exit(ciq_tool_exit(t, 0));
	}
	if (ciq_conf_flag(conf, c, arg) == -1)
		ciq_tool_usage(t, CIQ_EX_USAGE);
}

void
ciq_tool_ids(const struct ciq_tool *t, int n, char *const *ids)
{
	for (int i = 0; i < n; i++) {
		if (ids[i][0] == '\0') {
			warnx("test id %d of %d is empty: nothing was sent", i + 1, n);
			ciq_tool_usage(t, CIQ_EX_USAGE);
		}
	}
}

void
ciq_tool_attachments(const struct ciq_tool *t, struct ciq_conf *conf, int ntests,
    const char *output_path, const char *junit_path, char result, const char *done,
    char **out, size_t *outlen, char **cases, size_t *caseslen)
{
	struct ciq_cases read;
	const char *worker;
	char msg[CIQ_ERRLEN];

	if (ntests == 0) {
		warnx("no test given");
		ciq_tool_usage(t, CIQ_EX_USAGE);
	}
	/* One report describes one run: it cannot be shared out among tests. */
	if (junit_path != NULL && ntests > 1) {
		warnx("--junit takes one test, not %d", ntests);
		ciq_tool_usage(t, CIQ_EX_USAGE);
	}
	if (junit_path != NULL && output_path != NULL && strcmp(junit_path, "-") == 0 &&
	    strcmp(output_path, "-") == 0) {
		warnx("--output and --junit cannot both read standard input");
		ciq_tool_usage(t, CIQ_EX_USAGE);
	}
	if (output_path != NULL && ciq_capture_read(output_path, out, outlen, msg) == -1)
		errx(CIQ_EX_DATAERR, "%s: nothing was %s", msg, done);
	if (junit_path == NULL)
		return;
	memset(&read, 0, sizeof read);
	if (ciq_junitxml_read(junit_path, &read, msg) == -1)
		errx(CIQ_EX_DATAERR, "%s: nothing was %s", msg, done);
	/* A missing worker id is reported when the tool connects. */
	ciq_conf_resolve(conf);
	worker = ciq_conf_get(conf, CIQ_K_WORKER);
	read.result = result;
	read.worker = ciq_strdup(worker != NULL ? worker : "");
	*cases = ciq_cases_encode(&read, caseslen);
	ciq_cases_free(&read);
}

int
ciq_tool_exit(const struct ciq_tool *t, int status)
{
	if (ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write %s", t->output ? t->output : "to stdout");
	return status;
}
