/*
 * ciq-pop - reserve the next test(s) of the build for this worker.
 *
 * Prints one id per line and exits 0, or exits 1 when the queue is
 * exhausted: nothing queued and nothing in flight anywhere. While nothing
 * is queued but tests are still running elsewhere it waits, with
 * jittered exponential backoff capped near 2 s, because those tests may
 * come back (requeued, released, or reclaimed from a dead worker).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "cli.h"
#include "exit.h"
#include "session.h"
#include "transport.h"

static void
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: ciq-pop [-n count] [--queue URL] [--build ID] [--worker ID]\n"
	    "               [--timeout SECONDS] [--init-timeout SECONDS] [options]\n"
	    "See ciq-pop(1).\n");
	if (status == 0 && ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write the usage");
	exit(status);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", 1, NULL, 'n' },
		{ "help", 0, NULL, 'h' },
		{ "version", 0, NULL, 'V' },
		CIQ_CONF_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	struct ciq_backoff wait;
	char msg[CIQ_ERRLEN], timeout[32], count[16];
	long long deadline;
	long n = 1;
	int c, rc;

	/* getopt names the program in its messages as err(3) does. */
	argv[0] = program_invocation_short_name;
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "hn:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;

			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > 100000) {
				warnx("invalid count '%s': expected 1 to 100000", optarg);
				usage(CIQ_EX_USAGE);
			}
			break;
		}
		case 'h':
			usage(0);
			break;
		case 'V':
			printf("ciq-pop %s\n", CIQ_VERSION);
			if (ciq_cli_close_stdout() == -1)
				err(CIQ_EX_SOFTWARE, "cannot write the version");
			return 0;
		default:
			if (ciq_conf_flag(&conf, c, optarg) == -1)
				usage(CIQ_EX_USAGE);
		}
	}
	if (optind != argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		usage(CIQ_EX_USAGE);
	}
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);

	snprintf(timeout, sizeof timeout, "%lld", ciq_conf_ms(&conf, CIQ_K_TIMEOUT));
	snprintf(count, sizeof count, "%ld", n);
	ciq_backoff_init(&wait, 50, 2000);
	deadline = ciq_now_ms() + ciq_conf_ms(&conf, CIQ_K_INIT_TIMEOUT);
	for (;;) {
		const char *args[2] = { timeout, count };
		redisReply *r = ciq_session_run(&s, CIQ_S_POP, 2, args, NULL, &rc, msg);
		char status[16];

		if (r == NULL)
			errx(rc, "%s", msg);
		snprintf(status, sizeof status, "%s", ciq_reply_str(r, 0));
		if (strcmp(status, "ok") == 0) {
			for (size_t i = 1; i + 1 < r->elements; i += 2) {
				const redisReply *id = r->element[i];

				fwrite(id->str, 1, id->len, stdout);
				putchar('\n');
				if (r->element[i + 1]->len > 0)
					warnx("reclaimed '%s' from worker %s, silent for over %s s",
					    id->str, r->element[i + 1]->str, ciq_conf_get(&conf, CIQ_K_TIMEOUT));
			}
			freeReplyObject(r);
			break;
		}
		freeReplyObject(r);
		if (strcmp(status, "done") == 0) {
			ciq_session_close(&s);
			ciq_conf_free(&conf);
			return CIQ_EX_NO;
		}
		if (strcmp(status, "notready") == 0 && ciq_now_ms() >= deadline)
			errx(CIQ_EX_TEMPFAIL, "build '%s' was not published within %s s "
			    "(did ciq-populate run?)", s.build, ciq_conf_get(&conf, CIQ_K_INIT_TIMEOUT));
		if (strcmp(status, "wait") != 0 && strcmp(status, "notready") != 0)
			errx(CIQ_EX_SOFTWARE, "unexpected reply from the server: '%s'", status);
		ciq_sleep_ms(ciq_backoff_next(&wait));
	}
	ciq_session_close(&s);
	ciq_conf_free(&conf);
	if (ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write the test ids");
	return CIQ_EX_OK;
}
