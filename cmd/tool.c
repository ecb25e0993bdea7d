/*
 * tool.c - the options, usage, version and exit every ciq main shares.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exit.h"
#include "number.h"
#include "tool.h"

void
ciq_tool_start(char **argv)
{
	argv[0] = program_invocation_short_name;
	/* A message is one write, its name and text together, so that the
	 * messages of tools running at once (ciq-worker.sh -j) never share a
	 * line: warnx(3) writes them apart to an unbuffered stream. */
	setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
}

/* 0, or -1 with errno set when what was written to stdout is lost. */
static int
close_stdout(void)
{
	static int closed;
	int bad = ferror(stdout);

	/* Once: ciq-ack --next closes it when it hands out a test (take.c). */
	if (closed)
		return 0;
	closed = 1;
	if (fclose(stdout) != 0 || bad) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

void
ciq_tool_usage(const struct ciq_tool *t, int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fputs(t->usage, f);
	if (status == 0 && close_stdout() == -1)
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

long long
ciq_tool_seconds(const struct ciq_tool *t, const char *opt, const char *v, int zero_ok)
{
	long long ms;

	if (ciq_number_ms(v, zero_ok ? 0 : 1, 31536000000LL, &ms) != CIQ_NUMBER_OK) {
		warnx("invalid --%s '%s': expected seconds%s", opt, v, zero_ok ? "" : " above 0");
		ciq_tool_usage(t, CIQ_EX_USAGE);
	}
	return ms;
}

long long
ciq_tool_whole(const struct ciq_tool *t, const char *opt, const char *v, long long min,
    long long max)
{
	long long n;

	if (ciq_number_whole(v, min, max, &n) != CIQ_NUMBER_OK) {
		warnx("invalid --%s '%s': expected a whole number from %lld to %lld", opt, v, min, max);
		ciq_tool_usage(t, CIQ_EX_USAGE);
	}
	return n;
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
ciq_tool_attach(const struct ciq_tool *t, struct ciq_conf *conf, int ntests,
    const char *output_path, const char *junit_path, char result, const char *done,
    struct ciq_attach *a)
{
	const char *worker;
	char msg[CIQ_ERRLEN];

	/* A missing worker id is reported when the tool connects. */
	ciq_conf_resolve(conf);
	worker = ciq_conf_get(conf, CIQ_K_WORKER);
	switch (ciq_attach_read(a, ntests, output_path, junit_path, result,
	    worker != NULL ? worker : "", msg)) {
	case CIQ_ATTACH_USAGE:
		warnx("%s", msg);
		ciq_tool_usage(t, CIQ_EX_USAGE);
	case CIQ_ATTACH_DATA:
		errx(CIQ_EX_DATAERR, "%s: nothing was %s", msg, done);
	}
}

void
ciq_tool_close_stdout(const struct ciq_tool *t)
{
	if (close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write %s", t->output ? t->output : "to stdout");
}

void
ciq_tool_print_held(const struct ciq_results *r)
{
	for (size_t i = 0; i < r->n; i++)
		printf("%s %s\n", r->v[i].ended && *r->v[i].ms != '\0' ? r->v[i].ms : "-", r->v[i].id);
}

int
ciq_tool_exit(const struct ciq_tool *t, int status)
{
	ciq_tool_close_stdout(t);
	return status;
}
