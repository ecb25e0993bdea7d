/*
 * ciq-bisect - find the tests whose leaked state makes a test fail.
 *
 * Reads an order (a file, or what ciq-pop handed a worker of a build),
 * keeps the tests before the failing one as suspects, and narrows them
 * down by running the user's runner on subsets (lib/bisect.h). Progress
 * goes to stderr, the runners' output to --log or /dev/null, the result
 * to stdout; the exit status is the verdict.
 */
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bisectout.h"
#include "exit.h"
#include "session.h"
#include "tool.h"

/* Options without a short form; below CIQ_OPT_BASE. */
enum { OPT_TEST = 0x80, OPT_ORDER, OPT_STEP_TIMEOUT, OPT_MAX_STEPS, OPT_LOG };

static const struct ciq_tool tool = {
	"ciq-bisect",
	"usage: ciq-bisect --failing-test ID (--order FILE | --worker ID [--build ID])\n"
	    "                  [--step-timeout S] [--max-steps N] [--log FILE] [--json]\n"
	    "                  [options] -- COMMAND [ARG...]\n"
	    "See ciq-bisect(1).\n",
	"the result"
};

struct options {
	const char *test, *order, *log;
	long long step_ms, max_steps;
	int json, logfd;
};

static noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static noreturn void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	ciq_tool_usage(&tool, CIQ_EX_USAGE);
}

/* Parse the options; returns the index of COMMAND. */
static int
parse(int argc, char **argv, struct options *o, struct ciq_conf *conf)
{
	/* Our --order (a file) comes first, so getopt takes it before the
	 * setting of the same name (random|timing|given: CIQ_ORDER only). */
	static const struct option longopts[] = {
		{ "failing-test", 1, NULL, OPT_TEST },
		{ "order", 1, NULL, OPT_ORDER },
		{ "step-timeout", 1, NULL, OPT_STEP_TIMEOUT },
		{ "max-steps", 1, NULL, OPT_MAX_STEPS },
		{ "log", 1, NULL, OPT_LOG },
		{ "json", 0, NULL, 'j' },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, at = optind, dashes = 0;

	/* '+': the options end at COMMAND, whose own options are its own. */
	while ((c = getopt_long(argc, argv, "+hj", longopts, NULL)) != -1) {
		if (c == 'j')
			o->json = 1;
		else if (c == OPT_TEST)
			o->test = optarg;
		else if (c == OPT_ORDER)
			o->order = optarg;
		else if (c == OPT_LOG)
			o->log = optarg;
		else if (c == OPT_STEP_TIMEOUT)
			o->step_ms = ciq_tool_seconds(&tool, "step-timeout", optarg, 0);
		else if (c == OPT_MAX_STEPS)
			o->max_steps = ciq_tool_whole(&tool, "max-steps", optarg, 2, 1000000);
		else
			ciq_tool_option(&tool, conf, c, optarg);
		at = optind;
	}
	dashes = at < argc && strcmp(argv[at], "--") == 0 && optind == at + 1;
	if (o->test == NULL)
		usage_error("%s", "no --failing-test ID: which test failed?");
	if (o->test[0] == '\0' || strchr(o->test, '\n') != NULL)
		usage_error("invalid --failing-test '%s': a test id is not empty and holds no newline",
		    o->test);
	if (!dashes && optind < argc)
		usage_error("unexpected argument '%s': put -- before the runner's command", argv[optind]);
	if (optind >= argc)
		usage_error("%s", "no runner: put -- COMMAND [ARG...] last");
	return optind;
}

/* Before and after each step: the progress line, the log's line. */
static void
progress(void *arg, const struct ciq_bisect *b, const struct ciq_bisect_step *st)
{
	const struct options *o = arg;
	char msg[CIQ_ERRLEN];

	if (ciq_bisect_step_line(b, st, msg))
		warnx("%s", msg);
	if (o->logfd != -1) {
		ciq_bisect_step_log(b, st, msg);
		dprintf(o->logfd, "ciq-bisect: %s\n", msg);
	}
}

int
main(int argc, char **argv)
{
	struct options o = { .step_ms = 3600000, .max_steps = 200, .logfd = -1 };
	struct ciq_conf conf;
	struct ciq_session s;
	struct ciq_bisect_order ord;
	struct ciq_bisect b = { 0 };
	const struct ciq_setting *w = &conf.set[CIQ_K_WORKER];
	char msg[CIQ_ERRLEN];
	int rc;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	b.argv = argv + parse(argc, argv, &o, &conf);
	/* --order FILE, or the order of the worker: --worker, CIQ_WORKER, the provider. */
	if (o.order != NULL && w->source != NULL && strcmp(w->source, "worker") == 0)
		usage_error("%s", "--order and --worker both name an order: give one");
	ciq_conf_resolve(&conf);
	if (o.order == NULL && w->value == NULL)
		usage_error("%s", "no order: give --order FILE, or --worker ID to read it from the build");
	if (o.order != NULL) {
		if (ciq_conf_check(&conf, 0, msg) == -1)
			errx(CIQ_EX_CONFIG, "%s", msg);
		rc = ciq_bisect_order_file(&ord, o.order, msg);
	} else {
		if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
			errx(rc, "%s", msg);
		rc = ciq_bisect_order_worker(&ord, &s, s.worker, msg);
		ciq_session_close(&s);
	}
	if (rc != CIQ_EX_OK || (rc = ciq_bisect_locate(&b, &ord, o.test, strlen(o.test), msg)) != 0)
		errx(rc, "%s", msg);
	if (ord.dropped > 0)
		warnx("%zu later copies of ids in %s ignored: each id keeps its first place",
		    ord.dropped, ord.where);
	if (o.log != NULL &&
	    (o.logfd = open(o.log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0666)) == -1)
		err(CIQ_EX_SOFTWARE, "cannot write the log '%s'", o.log);

	b.step_ms = o.step_ms;
	b.max_steps = o.max_steps;
	b.out = o.logfd;
	b.progress = progress;
	b.arg = &o;
	if ((rc = ciq_bisect_run(&b, msg)) > 128) {
		/* Die of the signal, as the shell expects: the runner is gone. */
		warnx("%s", msg);
		signal(rc - 128, SIG_DFL);
		raise(rc - 128);
	}
	if (rc != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if (b.timed_out > 0 && b.verdict != CIQ_BISECT_TIMED_OUT)
		warnx("%lld step%s timed out (--step-timeout): unresolved, so a smaller set may "
		    "have been missed", b.timed_out, b.timed_out == 1 ? "" : "s");
	ciq_bisect_say(&b, msg);
	warnx("%s", msg);
	if (o.log != NULL)
		warnx("the runner's output is in '%s'", o.log);
	else
		warnx("the runner's output was discarded: --log FILE keeps it");
	if (o.json)
		ciq_bisect_json(stdout, &b, o.log);
	else
		ciq_bisect_text(stdout, &b);
	rc = ciq_bisect_status(&b);
	ciq_bisect_free(&b);
	ciq_bisect_order_free(&ord);
	ciq_conf_free(&conf);
	return ciq_tool_exit(&tool, rc);
}
