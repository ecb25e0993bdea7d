/*
 * ciq-pop - reserve the next test(s) of the build for this worker.
 *
 * Prints one id per line and exits 0, or exits 1 when the queue is
 * exhausted: nothing queued and nothing in flight anywhere. It waits
 * while tests run elsewhere, and starts the loop's heartbeat (take.h).
 */
#include <err.h>
#include <getopt.h>

#include "exit.h"
#include "number.h"
#include "take.h"

static const struct ciq_tool tool = {
	"ciq-pop",
	"usage: ciq-pop [-n count] [-l] [--queue URL] [--build ID] [--worker ID]\n"
	    "               [--timeout SECONDS] [--init-timeout SECONDS] [--max-duration SECONDS]\n"
	    "               [options]\n"
	    "See ciq-pop(1).\n",
	"the test ids"
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", 1, NULL, 'n' },
		{ "long", 0, NULL, 'l' },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	char msg[CIQ_ERRLEN];
	long long n = 1;
	int longfmt = 0, c, rc;

	ciq_tool_start(argv);
	ciq_take_begin();
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "hln:", longopts, NULL)) != -1) {
		if (c == 'n' && ciq_number_whole(optarg, 1, 100000, &n) != CIQ_NUMBER_OK) {
			warnx("invalid count '%s': expected 1 to 100000", optarg);
			ciq_tool_usage(&tool, CIQ_EX_USAGE);
		} else if (c == 'l') {
			longfmt = 1;
		} else if (c != 'n') {
			ciq_tool_option(&tool, &conf, c, optarg);
		}
	}
	if (optind != argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		ciq_tool_usage(&tool, CIQ_EX_USAGE);
	}
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	rc = ciq_take(&tool, &s, n, longfmt, NULL);
	ciq_conf_free(&conf);
	return rc;
}
