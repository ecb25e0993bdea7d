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
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit.h"
#include "heartbeat.h"
#include "session.h"
#include "tool.h"

/* Options without a short form. */
enum { OPT_JUNIT = 0x80 };

static const struct ciq_tool tool = {
	"ciq-ack",
	"usage: ciq-ack [--failed | --skipped] [--output FILE] [options] [--] TEST...\n"
	    "       ciq-ack [--failed | --skipped] [--output FILE] --junit FILE [options] [--] TEST\n",
	NULL
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "failed", 0, NULL, 'f' },
		{ "skipped", 0, NULL, 's' },
		{ "output", 1, NULL, 'o' },
		{ "junit", 1, NULL, OPT_JUNIT },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	const char *status = "pass", *output_path = NULL, *junit_path = NULL, **args, **ended;
	char msg[CIQ_ERRLEN], *output = NULL, *encoded = NULL;
	size_t output_len = 0, encoded_len = 0, *lens;
	redisReply *r;
	int c, rc, nargs, nended = 0, exit_status = CIQ_EX_OK;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "fho:s", longopts, NULL)) != -1) {
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
		case OPT_JUNIT:
			junit_path = optarg;
			break;
		default:
			ciq_tool_option(&tool, &conf, c, optarg);
		}
	}
	ciq_tool_ids(&tool, argc - optind, argv + optind);
	ciq_tool_handover(&tool, &conf);
	ciq_tool_attachments(&tool, &conf, argc - optind, output_path, junit_path, status[0],
	    "recorded", &output, &output_len, &encoded, &encoded_len);
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);

	nargs = 5 + argc - optind;
	args = calloc((size_t)nargs, sizeof *args);
	lens = calloc((size_t)nargs, sizeof *lens);
	if (args == NULL || lens == NULL)
		errx(CIQ_EX_SOFTWARE, "out of memory");
	args[0] = status;
	args[1] = output != NULL ? output : "";
	lens[1] = output_len;
	args[2] = output != NULL ? "1" : "0";
	args[3] = encoded != NULL ? encoded : "";
	lens[3] = encoded_len;
	args[4] = encoded != NULL ? "1" : "0";
	for (int i = optind; i < argc; i++)
		args[5 + i - optind] = argv[i];
	for (int i = 0; i < nargs; i++)
		if (i != 1 && i != 3)
			lens[i] = strlen(args[i]);
	if ((r = ciq_session_run(&s, CIQ_S_ACK, nargs, args, lens, &rc, msg)) == NULL)
		errx(rc, "%s", msg);
	ended = calloc(r->elements / 3 + 1, sizeof *ended);
	if (ended == NULL)
		errx(CIQ_EX_SOFTWARE, "out of memory");
	for (size_t i = 1; i + 2 < r->elements; i += 3) {
		const char *id = r->element[i]->str, *outcome = r->element[i + 1]->str;
		int held = strcmp(r->element[i + 2]->str, "1") == 0;

		if (held)
			ended[nended++] = id;

		if (strcmp(outcome, "notmine") == 0) {
			warnx("'%s' was never reserved by worker '%s': not recorded", id, s.worker);
			exit_status = CIQ_EX_DATAERR;
		} else if (strcmp(outcome, "duplicate") == 0 && !held) {
			warnx("'%s' already has a result: this one is ignored", id);
		} else if (strcmp(outcome, "flaky") == 0) {
			warnx("'%s' both passed and failed: recorded as flaky", id);
		} else if (strcmp(outcome, "recorded") == 0 && !held) {
			warnx("'%s' was reclaimed by another worker: this first result is recorded", id);
		}
	}
	/* Their heartbeat has nothing left to do. */
	ciq_heartbeat_done(&conf, nended, ended);
	free(ended);
	freeReplyObject(r);
	free(args);
	free(lens);
	free(output);
	free(encoded);
	ciq_session_close(&s);
	ciq_conf_free(&conf);
	return ciq_tool_exit(&tool, exit_status);
}
