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
	"ciq-requeue",
	"usage: ciq-requeue [--output FILE] [--max-requeues N] [--requeue-tolerance RATIO]\n"
	    "                   [options] [--] TEST...\n"
	    "       ciq-requeue [--output FILE] --junit FILE [--max-requeues N]\n"
	    "                   [--requeue-tolerance RATIO] [options] [--] TEST\n",
	NULL
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", 1, NULL, 'o' },
		{ "junit", 1, NULL, OPT_JUNIT },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	const char *output_path = NULL, *junit_path = NULL, **args, **requeued;
	char msg[CIQ_ERRLEN], *output = NULL, *encoded = NULL, max[32], tol[32];
	size_t output_len = 0, encoded_len = 0, *lens;
	redisReply *r;
	int c, rc, nargs, nrequeued = 0;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
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
	ciq_tool_attachments(&tool, &conf, argc - optind, output_path, junit_path, 'r',
	    "requeued", &output, &output_len, &encoded, &encoded_len);
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);

	snprintf(max, sizeof max, "%lld", ciq_conf_int(&conf, CIQ_K_MAX_REQUEUES));
	snprintf(tol, sizeof tol, "%.17g", ciq_conf_double(&conf, CIQ_K_REQUEUE_TOLERANCE));
	nargs = 6 + argc - optind;
	args = calloc((size_t)nargs, sizeof *args);
	lens = calloc((size_t)nargs, sizeof *lens);
	requeued = calloc((size_t)nargs, sizeof *requeued);
	if (args == NULL || lens == NULL || requeued == NULL)
		errx(CIQ_EX_SOFTWARE, "out of memory");
	args[0] = max;
	args[1] = tol;
	args[2] = output != NULL ? output : "";
	args[3] = output != NULL ? "1" : "0";
	args[4] = encoded != NULL ? encoded : "";
	args[5] = encoded != NULL ? "1" : "0";
	for (int i = optind; i < argc; i++)
		args[6 + i - optind] = argv[i];
	for (int i = 0; i < nargs; i++)
		lens[i] = i == 2 ? output_len : i == 4 ? encoded_len : strlen(args[i]);
	if ((r = ciq_session_run(&s, CIQ_S_REQUEUE, nargs, args, lens, &rc, msg)) == NULL)
		errx(rc, "%s", msg);
	if (strcmp(ciq_reply_str(r, 0), "ok") != 0)
		errx(CIQ_EX_SOFTWARE, "unexpected reply from the server: '%s'", ciq_reply_str(r, 0));
	rc = CIQ_EX_OK;
	for (size_t i = 1; i + 2 < r->elements; i += 3) {
		const char *id = r->element[i]->str, *why = r->element[i + 1]->str;
		const char *detail = r->element[i + 2]->str;

		if (strcmp(why, "requeued") == 0) {
			requeued[nrequeued++] = id;
			continue;
		}
		if (strcmp(why, "notmine") == 0) {
			warnx("'%s' was never reserved by worker '%s': not requeued", id, s.worker);
			rc = CIQ_EX_DATAERR;
			continue;
		}
		/* A refusal: the failure stands. 65 above wins over 1. */
		if (rc == CIQ_EX_OK)
			rc = CIQ_EX_NO;
		if (strcmp(why, "reclaimed") == 0 && *detail != '\0')
			warnx("'%s' is no longer reserved by this worker (now: '%s'): not requeued", id, detail);
		else if (strcmp(why, "reclaimed") == 0)
			warnx("'%s' is no longer reserved by this worker: not requeued", id);
		else if (strcmp(why, "recorded") == 0)
			warnx("'%s' already has a result: not requeued", id);
		else if (strcmp(why, "max-requeues") == 0 && strcmp(max, "0") == 0)
			; /* Requeues are off: refusing is the expected answer, say nothing. */
		else if (strcmp(why, "max-requeues") == 0)
			warnx("'%s' was requeued %s times already (--max-requeues %s): not requeued",
			    id, detail, max);
		else
			warnx("the build used its requeues (%s, --requeue-tolerance %s): '%s' not requeued",
			    detail, ciq_conf_get(&conf, CIQ_K_REQUEUE_TOLERANCE), id);
	}
	ciq_heartbeat_done(&conf, nrequeued, requeued);
	free(args);
	free(lens);
	free(requeued);
	freeReplyObject(r);
	free(output);
	free(encoded);
	ciq_session_close(&s);
	ciq_conf_free(&conf);
	return ciq_tool_exit(&tool, rc);
}
