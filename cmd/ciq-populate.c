/*
 * ciq-populate - put the build's test ids in the queue, once.
 *
 * Every worker runs it with the same list. Each reads and validates the
 * whole list first, so a bad list never wins the election. The winner
 * orders the ids (seeded shuffle, or as given), pushes them in pipelined
 * batches and marks the queue ready with its total and a digest of the
 * set; nothing is visible to workers before that. The others wait for
 * ready; one whose list differs from the leader's says so, records it
 * on the server (the report is then not green) and exits 65, unless
 * --allow-mismatch says the lists may differ. Running it again is
 * harmless: a published build is only joined.
 *
 * In retry mode (a retried CI job, or --retry true) on a build whose
 * queue is drained, this worker is given the tests that failed in its
 * earlier attempt instead (every failure when it ran nothing before);
 * a build whose keys are gone cannot be retried.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "exit.h"
#include "idlist.h"
#include "plan.h"
#include "publish.h"
#include "session.h"
#include "split.h"
#include "timing.h"
#include "tool.h"

#define MAX_WARNINGS 10
#define MAX_REPEAT   10000
#define MAX_RUNS     10000000  /* a grind's runs in all: a server's memory, not a limit of ciq */

/* Options without a short form; below CIQ_OPT_BASE. */
enum {
	OPT_ALLOW_MISMATCH = 0x80, OPT_REPEAT, OPT_JOIN, OPT_DRY_RUN, OPT_TARGET_TIME,
	OPT_DEFAULT_DURATION, OPT_JSON
};

/* --dry-run and what it takes. */
struct dry {
	int on, json;
	long long target_ms, default_ms;  /* -1: none */
};

static const struct ciq_tool tool = {
	"ciq-populate",
	"usage: ciq-populate [--queue URL] [--build ID] [--worker ID] [--seed SEED]\n"
	    "                    [--order random|timing|given] [--init-timeout SECONDS] [--ttl SECONDS]\n"
	    "                    [--allow-mismatch] [--repeat N] [options] [FILE...]\n"
	    "       ciq-populate --join [--queue URL] [--build ID] [--worker ID] [options]\n"
	    "       ciq-populate --dry-run [--workers N] [--target-time S] [--default-duration S]\n"
	    "                    [--json] [options] [FILE...]\n"
	    "See ciq-populate(1).\n",
	"the plan"
};

static void
read_inputs(struct ciq_idlist *l, int argc, char **argv)
{
	char msg[CIQ_ERRLEN];

	if (argc == 0 && ciq_idlist_read(l, 0, "<stdin>", msg) == -1)
		errx(CIQ_EX_DATAERR, "%s: nothing was published", msg);
	for (int i = 0; i < argc; i++) {
		int stdin_ = strcmp(argv[i], "-") == 0;
		int fd = stdin_ ? 0 : open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd == -1)
			err(CIQ_EX_DATAERR, "cannot open '%s'", argv[i]);
		if (ciq_idlist_read(l, fd, stdin_ ? "<stdin>" : argv[i], msg) == -1)
			errx(CIQ_EX_DATAERR, "%s: nothing was published", msg);
		if (!stdin_)
			close(fd);
	}
	for (size_t i = 0; i < l->ndups && i < MAX_WARNINGS; i++)
		warnx("%s:%zu: duplicate id '%s' dropped", l->dups[i].file, l->dups[i].line,
		    l->dups[i].id.s);
	if (l->ndups > MAX_WARNINGS)
		warnx("%zu more duplicate ids dropped", l->ndups - MAX_WARNINGS);
	if (l->n == 0)
		errx(CIQ_EX_DATAERR, "no test ids in the input: nothing was published");
}

/*
 * Retry mode: set up this worker's list of tests to run again. Returns 1
 * when it did (the job runs those), 0 outside retry mode or while the
 * build still runs (join it as usual).
 */
static int
retried(struct ciq_session *s)
{
	char msg[CIQ_ERRLEN];
	long long n;
	int rc;

	if (strcmp(ciq_conf_get(s->conf, CIQ_K_RETRY), "true") != 0)
		return 0;
	if ((rc = ciq_retry_list(s, &n, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if (n < 0)
		return 0;
	warnx("retry of build '%s': worker '%s' runs %lld failed tests again", s->build, s->worker, n);
	return 1;
}

/*
 * A follower's list or --repeat against what the leader published (the
 * JOIN reply j): say how they differ. Returns the exit status: 65 when
 * they do, unless they may.
 */
static int
compare(const redisReply *j, const struct ciq_idlist *l, const char *digest, long long repeat,
    int may_differ)
{
	const char *theirs = ciq_reply_str(j, 2), *warn = may_differ ? "warning: " : "";
	const char *said = may_differ ? "" : ", and the build's report will say so "
	    "(--allow-mismatch when they differ on purpose)";

	if (strcmp(theirs, digest) == 0)
		return CIQ_EX_OK;
	/* The same ids, another "xN" (ciq_publish): only --repeat differs. */
	if (strlen(theirs) >= 64 && strncmp(theirs, digest, 64) == 0)
		warnx("%sthis worker's --repeat %lld differs from the %s that worker '%s' published: "
		    "the queue holds the published runs%s", warn, repeat,
		    theirs[64] != '\0' ? theirs + 65 : "1", ciq_reply_str(j, 3), said);
	else
		warnx("%sthis worker's list (%zu ids, digest %.12s) differs from the one worker "
		    "'%s' published (%s ids, digest %.12s): the queue holds the published one%s",
		    warn, l->n, digest, ciq_reply_str(j, 3), ciq_reply_str(j, 1), theirs, said);
	return may_differ ? CIQ_EX_OK : CIQ_EX_DATAERR;
}

/* A unit the split command left whole; or nothing split at all. */
static void
left_whole(void *arg, const struct ciq_id *unit, const char *why)
{
	(void)arg;
	if (unit == NULL)
		warnx("warning: %s", why);
	else
		warnx("warning: '%.*s' runs whole: --split-command %s", (int)unit->len, unit->s, why);
}

/* The leader: split the slow units (not in a grind), then publish. */
static int
lead(struct ciq_session *s, struct ciq_idlist *l, long long repeat, const char *digest,
    char msg[CIQ_ERRLEN])
{
	struct ciq_split split;
	long long gen = 0;
	int rc, done = 0;

	if (repeat == 1 && (rc = ciq_split_slow(s, l, &split, &done, left_whole, NULL, msg)) != CIQ_EX_OK)
		return rc;
	/* The history keeps the ids of the last lists: this one's, units and
	 * their parts. (Not a grind's.) */
	if (repeat == 1 && ((rc = ciq_timing_seen(s, l, &gen, msg)) != CIQ_EX_OK ||
	    (done && (rc = ciq_timing_seen(s, &split.parts, &gen, msg)) != CIQ_EX_OK)))
		warnx("warning: the list was not noted in the duration history: %s", msg);
	if (!done)
		return ciq_publish(s, l, repeat, NULL, digest, msg);
	if ((rc = ciq_split_refresh(s, &split, msg)) != CIQ_EX_OK)
		warnx("warning: the durations of the split units were not refreshed: %s", msg);
	rc = ciq_publish(s, &split.list, repeat, &split, digest, msg);
	ciq_split_free(&split);
	return rc;
}

/* --dry-run: what the leader would publish, and what it should take.
 * Nothing is written. */
static int
dry_run(struct ciq_conf *conf, struct ciq_idlist *l, const struct dry *d)
{
	struct ciq_session s;
	struct ciq_plan p;
	struct ciq_split split;
	struct ciq_idlist *pub;
	const char *w = ciq_conf_get(conf, CIQ_K_WORKERS);
	char msg[CIQ_ERRLEN];
	int rc, done;

	if ((rc = ciq_session_open(&s, conf, CIQ_NEED_QUEUE, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	/* What the leader would publish: split, when asked. */
	if ((rc = ciq_split_slow(&s, l, &split, &done, left_whole, NULL, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	pub = done ? &split.list : l;
	if ((rc = ciq_plan_read(&p, &s, pub, w != NULL ? ciq_conf_int(conf, CIQ_K_WORKERS) : 1,
	    d->default_ms, d->target_ms, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if (d->json)
		ciq_plan_json(stdout, &p, pub, s.build);
	else
		ciq_plan_text(stdout, &p, pub, s.build);
	ciq_plan_free(&p);
	if (done)
		ciq_split_free(&split);
	ciq_session_close(&s);
	ciq_idlist_free(l);
	ciq_conf_free(conf);
	return ciq_tool_exit(&tool, CIQ_EX_OK);
}

/* --join: wait for the build to be published and join it, without a list;
 * never the leader. In retry mode, a retried job's list first. */
static int
join(struct ciq_conf *conf)
{
	struct ciq_session s;
	char msg[CIQ_ERRLEN];
	redisReply *j;
	int rc;

	if ((rc = ciq_session_open(&s, conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if (!retried(&s)) {
		if ((rc = ciq_join(&s, NULL, NULL, NULL, 0, &j, msg)) != CIQ_EX_OK)
			errx(rc, "%s", msg);
		freeReplyObject(j);
	}
	ciq_session_close(&s);
	ciq_conf_free(conf);
	return ciq_tool_exit(&tool, CIQ_EX_OK);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "allow-mismatch", 0, NULL, OPT_ALLOW_MISMATCH },
		{ "repeat", 1, NULL, OPT_REPEAT },
		{ "join", 0, NULL, OPT_JOIN },
		{ "dry-run", 0, NULL, OPT_DRY_RUN },
		{ "target-time", 1, NULL, OPT_TARGET_TIME },
		{ "default-duration", 1, NULL, OPT_DEFAULT_DURATION },
		{ "json", 0, NULL, OPT_JSON },
		CIQ_TOOL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf conf;
	struct ciq_session s;
	struct ciq_idlist list;
	char msg[CIQ_ERRLEN], digest[96];
	const char *ttl_args[1];
	redisReply *r;
	long long repeat = 1;
	struct dry dry = { 0, 0, -1, -1 };
	int c, rc, may_differ = 0, join_only = 0, status = CIQ_EX_OK;

	ciq_tool_start(argv);
	ciq_conf_init(&conf);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ALLOW_MISMATCH:
			may_differ = 1;
			break;
		case OPT_JOIN:
			join_only = 1;
			break;
		case OPT_DRY_RUN:
			dry.on = 1;
			break;
		case OPT_JSON:
			dry.json = 1;
			break;
		case OPT_TARGET_TIME:
			dry.target_ms = ciq_tool_seconds(&tool, "target-time", optarg, 0);
			break;
		case OPT_DEFAULT_DURATION:
			dry.default_ms = ciq_tool_seconds(&tool, "default-duration", optarg, 1);
			break;
		case OPT_REPEAT:
			repeat = ciq_tool_whole(&tool, "repeat", optarg, 1, MAX_REPEAT);
			break;
		default:
			ciq_tool_option(&tool, &conf, c, optarg);
		}
	}
	if (join_only && (optind < argc || may_differ || repeat != 1)) {
		warnx("--join takes no list, no --allow-mismatch and no --repeat: it joins what the "
		    "leader published");
		ciq_tool_usage(&tool, CIQ_EX_USAGE);
	}
	if (!dry.on && (dry.json || dry.target_ms >= 0 || dry.default_ms >= 0)) {
		warnx("--json, --target-time and --default-duration go with --dry-run");
		ciq_tool_usage(&tool, CIQ_EX_USAGE);
	}
	ciq_conf_resolve(&conf);
	if (ciq_conf_check(&conf, dry.on ? CIQ_NEED_QUEUE : CIQ_NEED_WORKER, msg) == -1)
		errx(CIQ_EX_CONFIG, "%s", msg);
	if (join_only)
		return join(&conf);

	/* Validate everything before talking to anyone. */
	ciq_idlist_init(&list);
	read_inputs(&list, argc - optind, argv + optind);
	if (list.n > MAX_RUNS / (size_t)repeat)
		errx(CIQ_EX_DATAERR, "--repeat %lld of %zu ids makes more than %d runs: nothing was published",
		    repeat, list.n, MAX_RUNS);
	if (dry.on)
		return dry_run(&conf, &list, &dry);
	ciq_idlist_digest(&list, digest);
	/* A grind's runs are part of what every worker must agree on. */
	if (repeat > 1)
		snprintf(digest + 64, sizeof digest - 64, "x%lld", repeat);

	if ((rc = ciq_session_open(&s, &conf, CIQ_NEED_WORKER, msg)) != CIQ_EX_OK)
		errx(rc, "%s", msg);
	if (retried(&s)) {
		ciq_session_close(&s);
		ciq_idlist_free(&list);
		ciq_conf_free(&conf);
		return CIQ_EX_OK;
	}
	ttl_args[0] = ciq_conf_get(&conf, CIQ_K_TTL);
	if ((r = ciq_session_run(&s, CIQ_S_ELECT, 1, ttl_args, NULL, &rc, msg)) == NULL)
		errx(rc, "%s", msg);
	if (strcmp(ciq_reply_str(r, 0), s.worker) == 0 && strcmp(ciq_reply_str(r, 1), "ready") != 0) {
		if (ciq_eviction_risk(&s, msg))
			warnx("warning: %s", msg);
		if ((rc = lead(&s, &list, repeat, digest, msg)) != CIQ_EX_OK)
			errx(rc, "%s", msg);
	} else {
		redisReply *j;

		if ((rc = ciq_join(&s, ciq_reply_str(r, 0), &list, digest, may_differ, &j, msg)) != CIQ_EX_OK)
			errx(rc, "%s", msg);
		status = compare(j, &list, digest, repeat, may_differ);
		freeReplyObject(j);
	}
	freeReplyObject(r);
	ciq_session_close(&s);
	ciq_idlist_free(&list);
	ciq_conf_free(&conf);
	return ciq_tool_exit(&tool, status);
}
