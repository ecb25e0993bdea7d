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

#include "cli.h"
#include "exit.h"
#include "heartbeat.h"
#include "session.h"

static void
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: ciq-release [options] [--] [TEST...]\n"
	    "See ciq-release(1).\n");
	if (status == 0 && ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write the usage");
	exit(status);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", 0, NULL, 'h' },
		{ "version", 0, NULL, 'V' },
		CIQ_CONF_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	char msg[CIQ_ERRLEN];
	redisReply *r;
	int c, rc;

	/* getopt names the program in its messages as err(3) does. */
	argv[0] = program_invocation_short_name;
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(0);
			break;
		case 'V':
			printf("ciq-release %s\n", CIQ_VERSION);
			if (ciq_cli_close_stdout() == -1)
				err(CIQ_EX_SOFTWARE, "cannot write the version");
			return 0;
		default:
			if (ciq_conf_flag(&conf, c, optarg) == -1)
				usage(CIQ_EX_USAGE);
		}
	}
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	r = ciq_session_run(&s, CIQ_S_RELEASE, argc - optind, (const char **)argv + optind,
	    NULL, &rc, msg);
	if (r == NULL)
		errx(rc, "%s", msg);
	freeReplyObject(r);
	ciq_heartbeat_stop(&conf, argc - optind > 0 ? argc - optind : -1, (const char **)argv + optind);
	ciq_session_close(&s);
	ciq_conf_free(&conf);
	if (ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write to stdout");
	return CIQ_EX_OK;
}
