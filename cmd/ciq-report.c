/*
 * ciq-report - wait for the build to finish, then give its verdict.
 *
 * Three limits bound the wait: the init timeout (the queue must be
 * published by then), the report timeout (the whole wait), and the
 * inactive timeout (no worker showed a sign of life for that long while
 * work remains). Then it prints the totals, the failures with their
 * output, the flaky, requeued, reclaimed and never-run tests and the
 * per-worker counts, and exits with the verdict. It is never green when
 * a test has no result or the build's keys vanished.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "cli.h"
#include "exit.h"
#include "json.h"
#include "session.h"
#include "summary.h"
#include "timing.h"
#include "transport.h"

#define JSON_VERSION 1

/* How the wait ended, before the results are read. */
enum wait_end { FINISHED, STOPPED, NOT_FINISHED, ABANDONED, TIMED_OUT };

static void
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: ciq-report [--no-wait] [--json] [--queue URL] [--build ID]\n"
	    "                  [--init-timeout S] [--report-timeout S] [--inactive-timeout S]\n"
	    "                  [options]\n"
	    "See ciq-report(1).\n");
	if (status == 0 && ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write the usage");
	exit(status);
}

/*
 * Poll the build's progress until it finishes or a limit is reached.
 * Exits itself for the outcomes that leave nothing to report.
 */
static enum wait_end
wait_build(struct ciq_session *s, int no_wait)
{
	long long start = ciq_now_ms();
	long long init = ciq_conf_ms(s->conf, CIQ_K_INIT_TIMEOUT);
	long long overall = ciq_conf_ms(s->conf, CIQ_K_REPORT_TIMEOUT);
	long long inactive = ciq_conf_ms(s->conf, CIQ_K_INACTIVE_TIMEOUT);
	char timeout[32], msg[CIQ_ERRLEN];
	const char *args[1] = { timeout };
	struct ciq_backoff wait;
	int seen = 0, rc;

	snprintf(timeout, sizeof timeout, "%lld", ciq_conf_ms(s->conf, CIQ_K_TIMEOUT));
	ciq_backoff_init(&wait, 100, 1000);
	for (;;) {
		redisReply *r = ciq_session_run(s, CIQ_S_STATUS, 1, args, NULL, &rc, msg);
		long long elapsed = ciq_now_ms() - start, silence;

		if (r == NULL)
			errx(rc, "%s", msg);
		if (strcmp(ciq_reply_str(r, 0), "none") == 0) {
			const char *leader = ciq_reply_str(r, 1);

			if (seen)
				errx(CIQ_EX_VANISHED, "the keys of build '%s' vanished while waiting: "
				    "expired, evicted or flushed", s->build);
			if (no_wait || elapsed >= init) {
				if (*leader != '\0')
					errx(CIQ_EX_NOTPOPULATED, "build '%s' was never populated: worker '%s' "
					    "won the election but did not publish", s->build, leader);
				errx(CIQ_EX_NOTPOPULATED, "build '%s' was never populated (no worker ran "
				    "ciq-populate within %s s)", s->build, ciq_conf_get(s->conf, CIQ_K_INIT_TIMEOUT));
			}
		} else {
			long long queued = strtoll(ciq_reply_str(r, 2), NULL, 10);
			long long running = strtoll(ciq_reply_str(r, 3), NULL, 10);
			int stopped = strcmp(ciq_reply_str(r, 8), "1") == 0;

			seen = 1;
			silence = strtoll(ciq_reply_str(r, 6), NULL, 10);
			if (silence < 0)
				silence = elapsed;
			freeReplyObject(r);
			if (queued == 0 && running == 0)
				return FINISHED;
			/* Nobody takes the queued tests: wait for the running ones. */
			if (stopped && running == 0)
				return STOPPED;
			if (no_wait)
				return NOT_FINISHED;
			if (silence >= inactive)
				return ABANDONED;
			if (elapsed >= overall)
				return TIMED_OUT;
			ciq_sleep_ms(ciq_backoff_next(&wait));
			continue;
		}
		freeReplyObject(r);
		ciq_sleep_ms(ciq_backoff_next(&wait));
	}
}

static void
print_output(const char *out, size_t n)
{
	const char *p = out, *end = out + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		fputs("    | ", stdout);
		for (size_t i = 0; i < len; i++)
			putchar(p[i] == '\0' || p[i] == '\r' ? ' ' : p[i]);
		putchar('\n');
		p += len + 1;
	}
}

static void
print_seconds(long long ms)
{
	if (ms < 0)
		printf("?");
	else
		printf("%lld.%03lld s", ms / 1000, ms % 1000);
}

static void
print_text(const struct ciq_summary *sum, const char *build, const char *verdict)
{
	printf("ciq: build %s: %lld tests, %lld with a result, %zu workers\n", build, sum->total,
	    sum->processed, sum->nworkers);
	printf("  passed %lld, failed %lld, skipped %lld, flaky %lld, requeued %lld, reclaimed %lld, "
	    "never run %zu\n", sum->passed, sum->failed, sum->skipped, sum->flaky, sum->requeued,
	    sum->reclaimed, sum->unrun.n);
	if (sum->failures.n > 0)
		printf("\nFailed tests (%zu):\n", sum->failures.n);
	for (size_t i = 0; i < sum->failures.n; i++) {
		const struct ciq_item *it = &sum->failures.v[i];

		printf("  FAIL %s  [worker %s, ", it->id, it->worker);
		print_seconds(it->ms);
		printf(", %lld attempt%s]\n", 1 + it->requeues + it->reclaims,
		    it->requeues + it->reclaims ? "s" : "");
		if (it->output != NULL)
			print_output(it->output, it->outlen);
	}
	if (sum->flaky_tests.n > 0)
		printf("\nFlaky tests (%zu): failed, then passed\n", sum->flaky_tests.n);
	for (size_t i = 0; i < sum->flaky_tests.n; i++) {
		const struct ciq_item *it = &sum->flaky_tests.v[i];

		if (it->requeues > 0)
			printf("  FLAKY %s  [passed on worker %s after %lld requeue%s]\n", it->id,
			    it->worker, it->requeues, it->requeues == 1 ? "" : "s");
		else
			printf("  FLAKY %s  [passed on worker %s in another attempt]\n", it->id, it->worker);
	}
	if (sum->requeued_tests.n > 0)
		printf("\nRequeued tests (%zu):\n", sum->requeued_tests.n);
	for (size_t i = 0; i < sum->requeued_tests.n; i++)
		printf("  REQUEUED %s  [%lld time%s]\n", sum->requeued_tests.v[i].id,
		    sum->requeued_tests.v[i].requeues, sum->requeued_tests.v[i].requeues == 1 ? "" : "s");
	if (sum->reclaimed_tests.n > 0)
		printf("\nReclaimed tests (%zu): their worker fell silent\n", sum->reclaimed_tests.n);
	for (size_t i = 0; i < sum->reclaimed_tests.n; i++)
		printf("  RECLAIMED %s  [%lld time%s]\n", sum->reclaimed_tests.v[i].id,
		    sum->reclaimed_tests.v[i].reclaims, sum->reclaimed_tests.v[i].reclaims == 1 ? "" : "s");
	if (sum->unrun.n > 0)
		printf("\nNever run (%zu):\n", sum->unrun.n);
	for (size_t i = 0; i < sum->unrun.n; i++) {
		if (sum->unrun.v[i].running)
			printf("  UNFINISHED %s  [held by worker %s]\n", sum->unrun.v[i].id, sum->unrun.v[i].worker);
		else
			printf("  QUEUED %s\n", sum->unrun.v[i].id);
	}
	printf("\nWorkers:\n  %-12s %8s %8s %8s %8s %8s %9s %12s\n", "worker", "reserved", "passed",
	    "failed", "skipped", "requeued", "reclaimed", "busy");
	for (size_t i = 0; i < sum->nworkers; i++) {
		const struct ciq_worker_stats *w = &sum->workers[i];

		printf("  %-12s %8lld %8lld %8lld %8lld %8lld %9lld %10lld.%01lld s\n", w->id, w->reserved,
		    w->passed, w->failed, w->skipped, w->requeued, w->reclaimed, w->busy_ms / 1000,
		    (w->busy_ms % 1000) / 100);
	}
	printf("\n%s\n", verdict);
}

static void
json_items(const char *name, const struct ciq_list *l, int output)
{
	printf(",\n  \"%s\": [", name);
	for (size_t i = 0; i < l->n; i++) {
		const struct ciq_item *it = &l->v[i];

		printf("%s\n    {\"id\": ", i ? "," : "");
		ciq_json_str(stdout, it->id, it->len);
		printf(", \"worker\": ");
		ciq_json_cstr(stdout, *it->worker ? it->worker : NULL);
		if (it->ms >= 0)
			printf(", \"duration_ms\": %lld", it->ms);
		else
			printf(", \"duration_ms\": null");
		printf(", \"requeues\": %lld, \"reclaims\": %lld, \"attempts\": %lld", it->requeues,
		    it->reclaims, 1 + it->requeues + it->reclaims);
		if (!strcmp(name, "unrun"))
			printf(", \"state\": \"%s\"", it->running ? "running" : "queued");
		if (output) {
			printf(", \"output\": ");
			if (it->output != NULL)
				ciq_json_str(stdout, it->output, it->outlen);
			else
				printf("null");
		}
		printf("}");
	}
	printf("%s]", l->n ? "\n  " : "");
}

static void
print_json(const struct ciq_summary *sum, const struct ciq_session *s, const char *verdict, int status)
{
	printf("{\n  \"version\": %d,\n  \"build\": ", JSON_VERSION);
	ciq_json_cstr(stdout, s->build);
	printf(",\n  \"namespace\": ");
	ciq_json_cstr(stdout, ciq_conf_get(s->conf, CIQ_K_NAMESPACE));
	printf(",\n  \"verdict\": \"%s\",\n  \"exit_status\": %d,\n", verdict, status);
	printf("  \"seed\": ");
	ciq_json_cstr(stdout, sum->seed);
	printf(",\n  \"order\": ");
	ciq_json_cstr(stdout, sum->order);
	printf(",\n  \"totals\": {\"tests\": %lld, \"processed\": %lld, \"passed\": %lld, \"failed\": %lld, "
	    "\"skipped\": %lld, \"flaky\": %lld, \"requeued\": %lld, \"reclaimed\": %lld, "
	    "\"released\": %lld, \"unrun\": %zu}", sum->total, sum->processed, sum->passed, sum->failed,
	    sum->skipped, sum->flaky, sum->requeued, sum->reclaimed, sum->released, sum->unrun.n);
	json_items("failures", &sum->failures, 1);
	json_items("flaky", &sum->flaky_tests, 1);
	json_items("requeued", &sum->requeued_tests, 0);
	json_items("reclaimed", &sum->reclaimed_tests, 0);
	json_items("unrun", &sum->unrun, 0);
	printf(",\n  \"workers\": [");
	for (size_t i = 0; i < sum->nworkers; i++) {
		const struct ciq_worker_stats *w = &sum->workers[i];

		printf("%s\n    {\"id\": ", i ? "," : "");
		ciq_json_cstr(stdout, w->id);
		printf(", \"tests\": %lld, \"passed\": %lld, \"failed\": %lld, \"skipped\": %lld, "
		    "\"requeued\": %lld, \"reclaimed\": %lld, \"busy_ms\": %lld, \"finished\": %s}",
		    w->reserved, w->passed, w->failed, w->skipped, w->requeued, w->reclaimed, w->busy_ms,
		    w->last_seen_ms < 0 ? "true" : "false");
	}
	printf("%s]\n}\n", sum->nworkers ? "\n  " : "");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", 0, NULL, 'j' },
		{ "no-wait", 0, NULL, 'W' },
		{ "help", 0, NULL, 'h' },
		{ "version", 0, NULL, 'V' },
		CIQ_CONF_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	struct ciq_summary sum;
	enum wait_end end;
	char msg[CIQ_ERRLEN], verdict[160];
	const char *word;
	int c, rc, json = 0, no_wait = 0, status;

	/* getopt names the program in its messages as err(3) does. */
	argv[0] = program_invocation_short_name;
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'W':
			no_wait = 1;
			break;
		case 'h':
			usage(0);
			break;
		case 'V':
			printf("ciq-report %s\n", CIQ_VERSION);
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
	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_QUEUE, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	end = wait_build(&s, no_wait);
	if ((rc = ciq_summary_read(&s, &sum, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	/* A complete build teaches the next one's --order timing. */
	if (end == FINISHED && sum.processed == sum.total &&
	    (rc = ciq_timing_merge(&s, msg)) != CIQ_EX_OK)
		warnx("warning: the durations were not recorded for --order timing: %s", msg);

	/* The verdict, worst first: never green on doubt. */
	if (end == STOPPED) {
		status = CIQ_EX_STOPPED, word = "stopped";
		snprintf(verdict, sizeof verdict, "STOPPED: %lld tests failed, the build's --max-failures; "
		    "%zu tests not run", sum.failed, sum.unrun.n);
	} else if (end == ABANDONED) {
		status = CIQ_EX_ABANDONED, word = "abandoned";
		snprintf(verdict, sizeof verdict, "ABANDONED: %zu tests left unrun and no worker showed life "
		    "for %s s", sum.unrun.n, ciq_conf_get(&conf, CIQ_K_INACTIVE_TIMEOUT));
	} else if (end == TIMED_OUT || end == NOT_FINISHED) {
		status = CIQ_EX_TEMPFAIL, word = "unfinished";
		snprintf(verdict, sizeof verdict, "UNFINISHED: %zu tests not run yet%s", sum.unrun.n,
		    end == TIMED_OUT ? " when the report timeout expired" : "");
	} else if (sum.processed < sum.total) {
		status = CIQ_EX_VANISHED, word = "lost";
		snprintf(verdict, sizeof verdict, "LOST: %lld of %lld tests have no result, yet nothing is "
		    "left to run: keys were evicted or flushed", sum.total - sum.processed, sum.total);
	} else if (sum.failed > 0) {
		status = CIQ_EX_NO, word = "failed";
		snprintf(verdict, sizeof verdict, "FAILED: %lld of %lld tests failed", sum.failed, sum.total);
	} else {
		status = CIQ_EX_OK, word = "passed";
		snprintf(verdict, sizeof verdict, "PASSED: %lld tests, %lld passed, %lld skipped", sum.total,
		    sum.passed, sum.skipped);
	}
	if (json)
		print_json(&sum, &s, word, status);
	else
		print_text(&sum, s.build, verdict);
	ciq_summary_free(&sum);
	ciq_session_close(&s);
	ciq_conf_free(&conf);
	if (ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write the report");
	return status;
}
