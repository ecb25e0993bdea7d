/*
 * tool.c - the options, usage, version and exit every ciq main shares.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "exit.h"
#include "tool.h"

void
ciq_tool_start(char **argv)
{
	argv[0] = program_invocation_short_name;
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

int
ciq_tool_exit(const struct ciq_tool *t, int status)
{
	if (ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write %s", t->output ? t->output : "to stdout");
	return status;
}
