/*
 * ciq-ack - record the result of tests this worker ran.
 *
 * The server measures each test's duration from its reservation. A
 * worker whose reservation was reclaimed by another may still record the
 * first result, but only the current owner's ack ends the reservation.
 * Acking a test this worker never reserved is an error (exit 65) and
 * records nothing for that id.
 *
 * With --junit, the runner's own JUnit report goes with the result, for
 * a test that is a file of many testcases: it is read before anything is
 * sent, and one that cannot be read as JUnit records nothing.
 *
 * With --next, the same call reserves the worker's next test and the
 * tool goes on as ciq-pop does (take.h): a worker loop then makes one
 * call per test. An id that was not this worker's reserves nothing.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "exit.h"
#include "results.h"
#include "record.h"
#include "take.h"

/* Options without a short form. */
enum { OPT_JUNIT = 0x80, OPT_NEXT };

static const struct ciq_tool tool = {
	"ciq-ack",
	"usage: ciq-ack [--failed | --skipped] [--output FILE] [--next] [-l] [options] [--] TEST...\n"
	    "       ciq-ack [--failed | --skipped] [--output FILE] --junit FILE [--next] [-l] [options]\n"
	    "               [--] TEST\n"
	    "See ciq-ack(1).\n",
	"the durations"
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "failed", 0, NULL, 'f' },
		{ "skipped", 0, NULL, 's' },
		{ "output", 1, NULL, 'o' },
		{ "junit", 1, NULL, OPT_JUNIT },
		{ "long", 0, NULL, 'l' },
		{ "next", 0, NULL, OPT_NEXT },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	struct ciq_attach att;
	struct ciq_results res;
	const char *status = "pass", *output_path = NULL, *junit_path = NULL;
	char msg[CIQ_ERRLEN];
	int c, rc, exit_status = CIQ_EX_OK, longfmt = 0, next = 0;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "fhlo:s", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
		case 's': {
			const char *want = c == 'f' ? "fail" : "skip";

			if (strcmp(status, "pass") != 0 && strcmp(status, want) != 0) {
				warnx("--failed and --skipped exclude each other");
				ciq_tool_usage(&tool, CIQ_EX_USAGE);
			}
			status = want;
			break;
		}
		case 'o':
			output_path = optarg;
			break;
		case 'l':
			longfmt = 1;
			break;
		case OPT_JUNIT:
			junit_path = optarg;
			break;
		case OPT_NEXT:
			next = 1;
			break;
		default:
			ciq_tool_option(&tool, &conf, c, optarg);
		}
	}
	if (next)
		ciq_take_begin();
	ciq_tool_ids(&tool, argc - optind, argv + optind);
	ciq_tool_attach(&tool, &conf, argc - optind, output_path, junit_path, status[0],
	    "recorded", &att);
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if (next)
		rc = ciq_record_next(&s, status, &att, argc - optind, argv + optind, &res, msg);
	else
		rc = ciq_results_send(&s, CIQ_S_ACK, 1, &status, &att, argc - optind, argv + optind,
		    &res, msg);
	if (rc != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if (longfmt)
		ciq_tool_print_held(&res);
	/* With --next, the held lines now: the loop shows the test while
	 * the next one is waited for. */
	if (next)
		fflush(stdout);
	exit_status = ciq_record_acked(&s, &res);
	/* The next test, unless an id was not this worker's. */
	if (next && exit_status == CIQ_EX_OK)
		exit_status = ciq_take(&tool, &s, 1, longfmt, res.next);
	ciq_results_free(&res);
	ciq_attach_free(&att);
	ciq_session_close(&s);
	ciq_conf_free(&conf);
	return ciq_tool_exit(&tool, exit_status);
}
