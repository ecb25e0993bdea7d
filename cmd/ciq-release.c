/*
 * ciq-release - give this worker's reservations back at once.
 *
 * Meant for a TERM/INT trap in the worker loop: the tests go back to the
 * head of the queue for the other workers, with no wait for the timeout.
 * With TEST arguments only those are released.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit.h"
#include "hblog.h"
#include "session.h"
#include "tool.h"

static const struct ciq_tool tool = {
	"ciq-release",
	"usage: ciq-release [options] [--] [TEST...]\n"
	    "See ciq-release(1).\n",
	NULL
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	char msg[CIQ_ERRLEN];
	redisReply *r;
	int c, rc;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		default:
			ciq_tool_option(&tool, &conf, c, optarg);
		}
	}
	ciq_tool_ids(&tool, argc - optind, argv + optind);
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	r = ciq_session_run(&s, CIQ_S_RELEASE, argc - optind, (const char **)argv + optind,
	    NULL, &rc, msg);
	if (r == NULL)
		errx(rc, "%s", msg);
	freeReplyObject(r);
	ciq_hblog_done(&conf, argc - optind > 0 ? argc - optind : -1, (const char **)argv + optind);
	ciq_session_close(&s);
	ciq_conf_free(&conf);
	return ciq_tool_exit(&tool, CIQ_EX_OK);
}
