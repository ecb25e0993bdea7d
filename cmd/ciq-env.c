/*
 * ciq-env - print the effective configuration and where each value came
 * from: a flag, a CIQ_* variable, the CI provider or a default.
 *
 * The plain output is one "NAME=value  # source" line per setting, for a
 * human; --export prints lines for eval; --json one object for jq. Exits 0
 * when the queue, the build and the worker are known and every value is
 * valid, 1 when something required is missing, 78 when a value is invalid.
 * Passwords are never printed.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "confout.h"
#include "exit.h"
#include "tool.h"

enum mode { PLAIN, EXPORT, JSON };

static const struct ciq_tool tool = {
	"ciq-env",
	"usage: ciq-env [--export | --json] [--check] [options]\n"
	    "  -e, --export         print export lines for eval\n"
	    "  -j, --json           print one JSON object\n"
	    "  -c, --check          print nothing on stdout, only set the exit status\n"
	    "  -h, --help           print this and exit; --version prints the version\n"
	    "  --queue URL  --build ID  --worker ID  --workers N  --seed SEED\n"
	    "  --namespace NS  --retry true|false  --order random|timing|given\n"
	    "  --timeout S  --init-timeout S  --report-timeout S  --inactive-timeout S\n"
	    "  --max-requeues N  --requeue-tolerance R  --ttl S  --timing-ttl S\n"
	    "  --connect-timeout S  --command-timeout S  --reconnect-timeout S\n"
	    "  --heartbeat S  --max-failures N  --max-consecutive-failures K\n",
	NULL
};

/* One line on stderr per problem; the exit status for the worst one. */
static int
report_problems(const struct ciq_conf *c)
{
	char err[CIQ_ERRLEN];
	int status = CIQ_EX_OK;

	for (int k = 0; k < CIQ_K_COUNT; k++) {
		if (ciq_confout_check(c, k, err) == 0)
			continue;
		warnx("%s", err);
		if (c->set[k].value != NULL)
			status = CIQ_EX_CONFIG;
		else if (status == CIQ_EX_OK)
			status = CIQ_EX_NO;
	}
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check",   0, NULL, 'c' },
		{ "export",  0, NULL, 'e' },
		{ "json",    0, NULL, 'j' },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf c;
	enum mode mode = PLAIN;
	int ch, check = 0, status;

	ciq_tool_start(argv);
	ciq_conf_init(&c);
	while ((ch = getopt_long(argc, argv, "cehj", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			check = 1;
			break;
		case 'e':
		case 'j':
			if (mode != PLAIN && mode != (ch == 'e' ? EXPORT : JSON)) {
				warnx("--export and --json exclude each other");
				ciq_tool_usage(&tool, CIQ_EX_USAGE);
			}
			mode = ch == 'e' ? EXPORT : JSON;
			break;
		default:
			ciq_tool_option(&tool, &c, ch, optarg);
		}
	}
	if (optind < argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		ciq_tool_usage(&tool, CIQ_EX_USAGE);
	}

	ciq_conf_resolve(&c);
	if (!check) {
		if (mode == JSON)
			ciq_confout_json(stdout, &c);
		else if (mode == EXPORT)
			ciq_confout_export(stdout, &c);
		else
			ciq_confout_plain(stdout, &c);
	}
	/* Flush what was printed before the problems are told on stderr. */
	ciq_tool_close_stdout(&tool);
	status = report_problems(&c);
	ciq_conf_free(&c);
	return status;
}
