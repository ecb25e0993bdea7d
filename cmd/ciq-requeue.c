/*
 * ciq-requeue - give failed tests another chance on another worker.
 *
 * Each test is accepted only while this worker still owns it, it has been
 * requeued fewer than --max-requeues times, and the build has used less
 * than --requeue-tolerance of its suite in requeues; the output then
 * goes with the test, for the report. Refused (exit 1), nothing changes
 * and the failure stands: record it, output included, with
 * ciq-ack --failed --output.
 *
 * With --junit, the runner's own JUnit report of the test goes with it
 * too, read before anything is sent; the report lists its testcases
 * until a later attempt brings its own.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>

#include "exit.h"
#include "results.h"
#include "record.h"
#include "tool.h"

/* Options without a short form. */
enum { OPT_JUNIT = 0x80 };

static const struct ciq_tool tool = {
	"ciq-requeue",
	"usage: ciq-requeue [--output FILE] [--max-requeues N] [--requeue-tolerance RATIO]\n"
	    "                   [-l] [options] [--] TEST...\n"
	    "       ciq-requeue [--output FILE] --junit FILE [--max-requeues N]\n"
	    "                   [--requeue-tolerance RATIO] [-l] [options] [--] TEST\n"
	    "See ciq-requeue(1).\n",
	"the durations"
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", 1, NULL, 'o' },
		{ "junit", 1, NULL, OPT_JUNIT },
		{ "long", 0, NULL, 'l' },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	struct ciq_attach att;
	struct ciq_results res;
	const char *output_path = NULL, *junit_path = NULL;
	char msg[CIQ_ERRLEN];
	int c, rc, longfmt = 0;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "hlo:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output_path = optarg;
			break;
		case 'l':
			longfmt = 1;
			break;
		case OPT_JUNIT:
			junit_path = optarg;
			break;
		default:
			ciq_tool_option(&tool, &conf, c, optarg);
		}
	}
	ciq_tool_ids(&tool, argc - optind, argv + optind);
	ciq_tool_attach(&tool, &conf, argc - optind, output_path, junit_path, 'r', "requeued", &att);
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if ((rc = ciq_record_requeue(&s, &att, argc - optind, argv + optind, &res, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if (longfmt)
		ciq_tool_print_held(&res);
	rc = ciq_record_requeued(&s, &res);
	ciq_results_free(&res);
	ciq_attach_free(&att);
	ciq_session_close(&s);
	ciq_conf_free(&conf);
	return ciq_tool_exit(&tool, rc);
}
