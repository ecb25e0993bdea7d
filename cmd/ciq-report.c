/*
 * ciq-report - wait for the build to finish, then give its verdict.
 *
 * Three limits bound the wait: the init timeout (the queue must be
 * published by then), the report timeout (the whole wait), and the
 * inactive timeout (no worker showed a sign of life for that long while
 * work remains). Meanwhile it shows the build's progress on stderr. Then
 * it prints the report (text, or JSON with --json), writes the files
 * asked for (JUnit XML, Markdown, the flaky list), posts the JSON to the
 * webhooks, and exits with the verdict. It is never green when a test
 * has no result or the build's keys vanished; a file it cannot write is
 * an error (70); a webhook that fails is only a warning. The failures of
 * the tests on the known-flaky list (--known-flaky) are shown but not
 * counted.
 *
 * With --order WORKER it neither waits nor judges: it prints the ids
 * that worker was handed, in order, and exits 0.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "exit.h"
#include "grind.h"
#include "junit.h"
#include "markdown.h"
#include "number.h"
#include "order.h"
#include "outfile.h"
#include "progress.h"
#include "quarantine.h"
#include "report.h"
#include "session.h"
#include "summary.h"
#include "tool.h"
#include "timing.h"
#include "verdict.h"
#include "wait.h"
#include "webhook.h"

/* Options without a short form; below CIQ_OPT_BASE. */
enum {
	OPT_JUNIT = 0x80, OPT_MARKDOWN, OPT_FLAKY_FILE, OPT_WEBHOOK, OPT_WEBHOOK_TIMEOUT,
	OPT_WEBHOOK_RETRIES, OPT_SLOWEST, OPT_PROGRESS, OPT_PROGRESS_INTERVAL, OPT_NO_WAIT, OPT_ORDER,
	OPT_MAX_TEST_DURATION, OPT_PERCENTILE
};

struct options {
	int json, no_wait;
	const char *junit, *markdown, *flaky_file;
	const char *order;         /* --order WORKER: print that worker's order */
	const char **webhooks;
	size_t nwebhooks;
	struct ciq_webhook hook;
	size_t slowest;
	const char *progress;
	long long progress_ms;
	long long max_test_ms, pct;  /* a grind's limit (-1: none), at this percentile */
};

static const struct ciq_tool tool = {
	"ciq-report",
	"usage: ciq-report [--no-wait] [--json] [--junit FILE] [--markdown FILE]\n"
	    "                  [--flaky-file FILE] [--known-flaky FILE] [--webhook URL]...\n"
	    "                  [--slowest N] [--progress auto|line|plain|none] [--queue URL]\n"
	    "                  [--build ID] [--init-timeout S] [--report-timeout S]\n"
	    "                  [--inactive-timeout S] [--max-test-duration S [--percentile P]]\n"
	    "                  [options]\n"
	    "       ciq-report --order WORKER [--json] [--queue URL] [--build ID] [options]\n"
	    "See ciq-report(1).\n",
	"the report"
};

enum file_kind { JUNIT_FILE, MARKDOWN_FILE, FLAKY_FILE };

/* Write one file whole, or warn and return -1. */
static int
write_file(enum file_kind kind, const char *path, const struct ciq_summary *sum,
    const struct ciq_verdict *v, const struct options *o)
{
	struct ciq_outfile out;
	char msg[CIQ_ERRLEN];

	if (ciq_outfile_open(&out, path, msg) == -1) {
		warnx("%s", msg);
		return -1;
	}
	switch (kind) {
	case JUNIT_FILE:
		ciq_junit_write(out.f, sum, v);
		break;
	case MARKDOWN_FILE:
		ciq_markdown_write(out.f, sum, v, o->slowest);
		break;
	case FLAKY_FILE:
		for (size_t i = 0; i < sum->flaky_tests.n; i++) {
			fwrite(sum->flaky_tests.v[i]->id, 1, sum->flaky_tests.v[i]->len, out.f);
			putc('\n', out.f);
		}
		break;
	}
	if (ciq_outfile_commit(&out, msg) == -1) {
		warnx("%s", msg);
		return -1;
	}
	return 0;
}

static void
parse(int argc, char **argv, struct options *o, struct ciq_conf *conf)
{
	static const struct option longopts[] = {
		{ "json", 0, NULL, 'j' },
		{ "no-wait", 0, NULL, OPT_NO_WAIT },
		{ "junit", 1, NULL, OPT_JUNIT },
		{ "markdown", 1, NULL, OPT_MARKDOWN },
		{ "flaky-file", 1, NULL, OPT_FLAKY_FILE },
		{ "webhook", 1, NULL, OPT_WEBHOOK },
		{ "webhook-timeout", 1, NULL, OPT_WEBHOOK_TIMEOUT },
		{ "webhook-retries", 1, NULL, OPT_WEBHOOK_RETRIES },
		{ "slowest", 1, NULL, OPT_SLOWEST },
		{ "progress", 1, NULL, OPT_PROGRESS },
		{ "progress-interval", 1, NULL, OPT_PROGRESS_INTERVAL },
		/* Not the setting --order random|timing|given of CIQ_TOOL_LONGOPTS:
		 * getopt_long takes the first entry of a name. */
		{ "order", 1, NULL, OPT_ORDER },
		{ "max-test-duration", 1, NULL, OPT_MAX_TEST_DURATION },
		{ "percentile", 1, NULL, OPT_PERCENTILE },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	char msg[CIQ_ERRLEN], shown[CIQ_ERRLEN];
	int c;

	while ((c = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case OPT_NO_WAIT:
			o->no_wait = 1;
			break;
		case OPT_JUNIT:
			o->junit = optarg;
			break;
		case OPT_MARKDOWN:
			o->markdown = optarg;
			break;
		case OPT_FLAKY_FILE:
			o->flaky_file = optarg;
			break;
		case OPT_WEBHOOK:
			if (ciq_webhook_check(optarg, msg) == -1) {
				if (ciq_webhook_shown(optarg, shown, sizeof shown) == -1)
					warnx("invalid --webhook: %s", msg);
				else
					warnx("invalid --webhook '%s': %s", shown, msg);
				ciq_tool_usage(&tool, CIQ_EX_USAGE);
			}
			o->webhooks = ciq_realloc(o->webhooks, (o->nwebhooks + 1) * sizeof *o->webhooks);
			o->webhooks[o->nwebhooks++] = optarg;
			break;
		case OPT_WEBHOOK_TIMEOUT:
			o->hook.timeout_ms = ciq_tool_seconds(&tool, "webhook-timeout", optarg, 0);
			break;
		case OPT_WEBHOOK_RETRIES:
			o->hook.retries = (int)ciq_tool_whole(&tool, "webhook-retries", optarg, 0, 10);
			break;
		case OPT_SLOWEST:
			o->slowest = (size_t)ciq_tool_whole(&tool, "slowest", optarg, 0, 1000);
			break;
		case OPT_PROGRESS:
			if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "line") != 0 &&
			    strcmp(optarg, "plain") != 0 && strcmp(optarg, "none") != 0) {
				warnx("invalid --progress '%s': expected auto, line, plain or none", optarg);
				ciq_tool_usage(&tool, CIQ_EX_USAGE);
			}
			o->progress = optarg;
			break;
		case OPT_PROGRESS_INTERVAL:
			o->progress_ms = ciq_tool_seconds(&tool, "progress-interval", optarg, 0);
			break;
		case OPT_MAX_TEST_DURATION:
			o->max_test_ms = ciq_tool_seconds(&tool, "max-test-duration", optarg, 0);
			break;
		case OPT_PERCENTILE:
			if (ciq_number_fixed(optarg, 3, 1, 100 * CIQ_GRIND_PCT_ONE, &o->pct) != CIQ_NUMBER_OK) {
				warnx("invalid --percentile '%s': expected a number above 0, at most 100, "
				    "with at most 3 decimals", optarg);
				ciq_tool_usage(&tool, CIQ_EX_USAGE);
			}
			break;
		case OPT_ORDER:
			if (*optarg == '\0') {
				warnx("invalid --order '': expected a worker id");
				ciq_tool_usage(&tool, CIQ_EX_USAGE);
			}
			o->order = optarg;
			break;
		default:
			ciq_tool_option(&tool, conf, c, optarg);
		}
	}
	if (optind != argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		ciq_tool_usage(&tool, CIQ_EX_USAGE);
	}
	if (o->order != NULL && (o->junit || o->markdown || o->flaky_file || o->nwebhooks)) {
		warnx("--order prints a worker's order, not a report: it takes no --junit, "
		    "--markdown, --flaky-file or --webhook");
		ciq_tool_usage(&tool, CIQ_EX_USAGE);
	}
}

/* --order WORKER: the ids that worker was handed, in order; no verdict. */
static int
print_order(struct ciq_session *s, const struct options *o, const char *ns)
{
	struct ciq_order ord;
	char msg[CIQ_ERRLEN];
	int rc = ciq_order_read(s, o->order, &ord, msg);

	if (rc != CIQ_EX_OK) {
		ciq_order_free(&ord);
		errx(rc, "%s", msg);
	}
	if (o->json)
		ciq_report_order_json(stdout, &ord, s->build, ns, o->order);
	else
		ciq_report_order_text(stdout, &ord);
	ciq_order_free(&ord);
	return CIQ_EX_OK;
}

/*
 * The known-flaky list, when one is set (an empty value is none): read
 * before the wait, so a wrong path fails at once, not after the build.
 */
static int
read_known_flaky(const struct ciq_conf *conf, struct ciq_quarantine *q)
{
	const char *path = ciq_conf_get(conf, CIQ_K_KNOWN_FLAKY);
	const char *src = conf->set[CIQ_K_KNOWN_FLAKY].source;
	char msg[CIQ_ERRLEN];
	int rc;

	memset(q, 0, sizeof *q);
	if (path == NULL || *path == '\0')
		return 0;
	if ((rc = ciq_quarantine_read(q, path, msg)) != CIQ_EX_OK)
		errx(rc, "%s%s: %s", src != NULL && strcmp(src, "CIQ_KNOWN_FLAKY") == 0 ? "" : "--",
		    src != NULL ? src : "known-flaky", msg);
	return 1;
}

int
main(int argc, char **argv)
{
	struct options o = {
		.hook = { .timeout_ms = 10000, .retries = 2, .backoff_ms = 500,
		    .user_agent = "ciq-report/" CIQ_VERSION },
		.slowest = 10, .progress = "auto", .progress_ms = 10000,
		.max_test_ms = -1, .pct = 50 * CIQ_GRIND_PCT_ONE,
	};
	struct ciq_conf conf;
	struct ciq_session s;
	struct ciq_summary sum;
	struct ciq_verdict v = { 0 };
	struct ciq_progress prog;
	struct ciq_quarantine known;
	struct ciq_grind grind = { 0 };
	enum ciq_wait_end end;
	char msg[CIQ_ERRLEN], *doc = NULL;
	size_t doclen = 0;
	int rc, bad_write = 0, quarantine;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	parse(argc, argv, &o, &conf);
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_QUEUE, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	v.ns = ciq_conf_get(&conf, CIQ_K_NAMESPACE);
	if (v.ns == NULL)
		v.ns = "";
	if (o.order != NULL) {
		rc = print_order(&s, &o, v.ns);
		ciq_session_close(&s);
		ciq_conf_free(&conf);
		return ciq_tool_exit(&tool, rc);
	}
	quarantine = read_known_flaky(&conf, &known);
	ciq_progress_stderr(&prog, o.no_wait ? "none" : o.progress, o.progress_ms, s.build);
	if ((rc = ciq_wait_build(&s, o.no_wait, &prog, &end, msg)) != CIQ_EX_OK) {
		ciq_progress_clear(&prog);
		errx(rc, "%s", msg);
	}
	ciq_progress_clear(&prog);
	if ((rc = ciq_summary_read(&s, &sum, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if (quarantine)
		ciq_summary_quarantine(&sum, &known);
	if (sum.repeat > 1) {
		ciq_grind_read(&grind, &sum, o.max_test_ms, o.pct);
		sum.grind = &grind;
	} else if (o.max_test_ms >= 0) {
		warnx("warning: --max-test-duration is for a grind (ciq-populate --repeat): "
		    "build '%s' is not one", s.build);
	}
	/* A complete build teaches the next one's --order timing. */
	if (end == CIQ_WAIT_FINISHED && !ciq_summary_doubt(&sum) &&
	    (rc = ciq_timing_merge(&s, msg)) != CIQ_EX_OK)
		warnx("warning: the durations were not recorded for --order timing: %s", msg);
	ciq_verdict_judge(&v, end, &sum, ciq_conf_get(&conf, CIQ_K_INACTIVE_TIMEOUT));
	v.build = s.build;

	/* One JSON document for stdout and every webhook. */
	if (o.json || o.nwebhooks > 0) {
		FILE *m = open_memstream(&doc, &doclen);

		if (m == NULL)
			err(CIQ_EX_SOFTWARE, "cannot build the JSON report");
		ciq_report_json(m, &sum, &v);
		if (fclose(m) != 0)
			err(CIQ_EX_SOFTWARE, "cannot build the JSON report");
	}
	if (o.junit != NULL && write_file(JUNIT_FILE, o.junit, &sum, &v, &o) == -1)
		bad_write = 1;
	if (o.markdown != NULL && write_file(MARKDOWN_FILE, o.markdown, &sum, &v, &o) == -1)
		bad_write = 1;
	if (o.flaky_file != NULL && write_file(FLAKY_FILE, o.flaky_file, &sum, &v, &o) == -1)
		bad_write = 1;
	if (o.json)
		fwrite(doc, 1, doclen, stdout);
	else
		ciq_report_text(stdout, &sum, &v, o.slowest);
	fflush(stdout);

	/* A webhook is a courtesy: its failure never changes the verdict. */
	for (size_t i = 0; i < o.nwebhooks; i++) {
		if (ciq_webhook_post(&o.hook, o.webhooks[i], doc, doclen, msg) == -1) {
			char shown[CIQ_ERRLEN];

			ciq_webhook_shown(o.webhooks[i], shown, sizeof shown);
			warnx("cannot post the report to webhook '%s': %s", shown, msg);
		}
	}
	ciq_webhook_cleanup();
	free(doc);
	free(o.webhooks);
	ciq_grind_free(&grind);
	ciq_summary_free(&sum);
	ciq_quarantine_free(&known);
	ciq_session_close(&s);
	ciq_conf_free(&conf);
	return ciq_tool_exit(&tool, bad_write ? CIQ_EX_SOFTWARE : v.status);
}
