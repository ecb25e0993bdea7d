/*
 * ciq-loop - a worker loop's end of the queue, over one connection.
 *
 * The loop (a shell script, or a runner in any language, as a
 * coprocess) writes one line per request on our standard input and
 * reads the answers on our standard output:
 *
 *	next                    take a test: "ATTEMPT ORIGIN ID"
 *	VERB<TAB>OUTPUT<TAB>ID  record the result of ID (VERB pass, fail or
 *	                        skip: as ciq-ack --next; requeue: as
 *	                        ciq-requeue), with the output in the file
 *	                        OUTPUT (empty: none); answer its held line
 *	                        "MS ID" ("- ID": not held, or a requeue
 *	                        refused), then, unless a requeue was
 *	                        refused, the next test
 *
 * When no test is left for this worker it exits 1, as ciq-pop; on an
 * error, with the error's status; at the end of its input, 0. The
 * connection, and a TLS session, stay open from one test to the next:
 * the loop starts no tool and the server makes no connection per test.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit.h"
#include "record.h"
#include "take.h"

static const struct ciq_tool tool = {
	"ciq-loop",
	"usage: ciq-loop [--queue URL] [--build ID] [--worker ID] [--timeout SECONDS]\n"
	    "                [--max-requeues N] [--requeue-tolerance RATIO] [options]\n"
	    "See ciq-loop(1).\n",
	"the answers"
};

/* The results a request may record, and the status ciq-ack sends. */
static const struct {
	const char *verb, *status;
} verbs[] = {
	{ "pass", "pass" }, { "fail", "fail" }, { "skip", "skip" }, { "requeue", NULL },
};

/*
 * Record what line says about a test (cut in place at its tabs), then
 * take the next test. Returns CIQ_EX_OK with one taken, CIQ_EX_NO with
 * none left; exits on an error.
 */
static int
request(struct ciq_session *s, char *line, size_t lineno)
{
	char *output = strchr(line, '\t'), *id = output ? strchr(output + 1, '\t') : NULL, msg[CIQ_ERRLEN];
	const char *status = NULL;
	struct ciq_attach att;
	struct ciq_results res;
	size_t v;
	int rc;

	if (id == NULL || id[1] == '\0')
		errx(CIQ_EX_USAGE, "line %zu: expected 'next' or 'VERB<TAB>OUTPUT<TAB>ID'", lineno);
	*output++ = '\0';
	*id++ = '\0';
	for (v = 0; v < sizeof verbs / sizeof verbs[0]; v++)
		if (strcmp(line, verbs[v].verb) == 0)
			break;
	if (v == sizeof verbs / sizeof verbs[0])
		errx(CIQ_EX_USAGE, "line %zu: unknown request '%.40s': expected next, pass, fail, "
		    "skip or requeue", lineno, line);
	status = verbs[v].status;
	rc = ciq_attach_read(&att, 1, *output != '\0' ? output : NULL, NULL,
	    status != NULL ? status[0] : 'r', s->worker, msg);
	if (rc != 0)
		errx(CIQ_EX_DATAERR, "line %zu: %s: nothing was %s", lineno, msg,
		    status != NULL ? "recorded" : "requeued");
	if (status == NULL)
		rc = ciq_record_requeue(s, &att, 1, &id, &res, msg);
	else
		rc = ciq_record_next(s, status, &att, 1, &id, &res, msg);
	ciq_attach_free(&att);
	if (rc != CIQ_EX_OK)
		errx(rc, "%s", msg);
	rc = status == NULL ? ciq_record_requeued(s, &res) : ciq_record_acked(s, &res);
	if (rc == CIQ_EX_DATAERR)
		exit(rc);
	/* Now: the loop shows the test while the next one is waited for. */
	ciq_tool_print_held(&res);
	fflush(stdout);
	if (status == NULL && rc == CIQ_EX_NO) {
		/* Refused: the loop records the failure next. */
		rc = CIQ_EX_OK;
	} else {
		rc = ciq_take_keep(&tool, s, res.next);
	}
	ciq_results_free(&res);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	char msg[CIQ_ERRLEN], *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int c, rc = CIQ_EX_OK;

	ciq_tool_start(argv);
	ciq_take_begin();
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		ciq_tool_option(&tool, &conf, c, optarg);
	if (optind != argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		ciq_tool_usage(&tool, CIQ_EX_USAGE);
	}
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	while (rc == CIQ_EX_OK && (len = getline(&line, &cap, stdin)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if ((size_t)len != strlen(line))
			errx(CIQ_EX_USAGE, "line %zu holds a NUL byte", lineno);
		/* A driver that writes CRLF: no id ends with a CR (ciq-populate
		 * strips it), so it would only be refused further on, unseen. */
		if (len > 0 && line[len - 1] == '\r')
			errx(CIQ_EX_USAGE, "line %zu ends with a carriage return: end each request "
			    "with a newline alone", lineno);
		if (strcmp(line, "next") == 0)
			rc = ciq_take_keep(&tool, &s, NULL);
		else
			rc = request(&s, line, lineno);
	}
	free(line);
	ciq_session_close(&s);
	ciq_conf_free(&conf);
	return ciq_tool_exit(&tool, rc);
}
