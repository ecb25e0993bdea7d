/*
 * provider.c - detect the CI provider, then read its own variables.
 *
 * One row per provider; a column left out is a variable the provider does
 * not have. Each column names the variables to read, the first that is set
 * and not empty wins. A name holding "${" is a template composed from
 * several variables: some providers have no variable for the build URL,
 * only a documented recipe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "errlen.h"
#include "number.h"
#include "provider.h"

#define ALT 2 /* variables per column */

enum retry_rule {
	RETRY_NONE,    /* the provider does not say: never a retry */
	RETRY_FLAG,    /* the variable is "true" */
	RETRY_COUNT,   /* the variable counts earlier retries: > 0 */
	RETRY_ATTEMPT  /* the variable numbers attempts from 1: > 1 */
};

struct provider {
	const char *name;         /* value of CIQ_CI_PROVIDER */
	const char *title;        /* the provider's own name, for hints */
	const char *detect;       /* variable that identifies the provider */
	const char *is;           /* its value (any case), or NULL: set at all */
	const char *also;         /* a second variable that must be set, or NULL */
	const char *build[ALT];   /* id shared by every job of the build */
	const char *worker;       /* parallel index, or NULL */
	int base;                 /* index of the first worker: 0 or 1 */
	const char *workers[ALT];
	const char *seed[ALT];    /* the commit */
	const char *retry;        /* read by rule */
	enum retry_rule rule;
	const char *branch[ALT];
	const char *build_url[ALT];
	const char *no_index;     /* how to give a worker id without an index */
};

/*
 * Order matters only when several detection variables are set: the
 * specific ones come first, and GitLab and Heroku are told apart by
 * detection before CI_NODE_INDEX, which they number differently, is read.
 */
static const struct provider providers[] = {
	{ .name = "buildkite", .title = "Buildkite", .detect = "BUILDKITE", .is = "true",
	  .build = { "BUILDKITE_BUILD_ID" },
	  .worker = "BUILDKITE_PARALLEL_JOB", .base = 0,
	  .workers = { "BUILDKITE_PARALLEL_JOB_COUNT" },
	  /* BUILDKITE_COMMIT may be the symbolic "HEAD", which is skipped */
	  .seed = { "BUILDKITE_COMMIT", "BUILDKITE_COMMIT_RESOLVED" },
	  .retry = "BUILDKITE_RETRY_COUNT", .rule = RETRY_COUNT,
	  .branch = { "BUILDKITE_BRANCH" }, .build_url = { "BUILDKITE_BUILD_URL" } },
	/* The workflow id, not the job's: a separate report job shares it. */
	{ .name = "circleci", .title = "CircleCI", .detect = "CIRCLECI", .is = "true",
	  .build = { "CIRCLE_WORKFLOW_ID" },
	  .worker = "CIRCLE_NODE_INDEX", .base = 0, .workers = { "CIRCLE_NODE_TOTAL" },
	  .seed = { "CIRCLE_SHA1" },
	  .branch = { "CIRCLE_BRANCH", "CIRCLE_TAG" }, .build_url = { "CIRCLE_BUILD_URL" } },
	{ .name = "travis", .title = "Travis CI", .detect = "TRAVIS", .is = "true",
	  .build = { "TRAVIS_BUILD_ID" },
	  .no_index = "give each job of the build matrix its own CIQ_WORKER=0, 1, ...",
	  .seed = { "TRAVIS_COMMIT" },
	  .retry = "TRAVIS_JOB_RESTARTED", .rule = RETRY_FLAG,
	  .branch = { "TRAVIS_PULL_REQUEST_BRANCH", "TRAVIS_BRANCH" },
	  .build_url = { "TRAVIS_BUILD_WEB_URL" } },
	{ .name = "heroku", .title = "Heroku CI", .detect = "HEROKU_TEST_RUN_ID",
	  .build = { "HEROKU_TEST_RUN_ID" },
	  .worker = "CI_NODE_INDEX", .base = 0, .workers = { "CI_NODE_TOTAL" },
	  .seed = { "HEROKU_TEST_RUN_COMMIT_VERSION" },
	  .branch = { "HEROKU_TEST_RUN_BRANCH" } },
	/* Semaphore Classic sets SEMAPHORE too, but no workflow id. The
	 * workflow id survives "Rerun Failed Jobs"; the pipeline id does not. */
	{ .name = "semaphore", .title = "Semaphore", .detect = "SEMAPHORE", .is = "true",
	  .also = "SEMAPHORE_WORKFLOW_ID",
	  .build = { "SEMAPHORE_WORKFLOW_ID" },
	  .worker = "SEMAPHORE_JOB_INDEX", .base = 1, .workers = { "SEMAPHORE_JOB_COUNT" },
	  .seed = { "SEMAPHORE_GIT_SHA" },
	  .retry = "SEMAPHORE_PIPELINE_RERUN", .rule = RETRY_FLAG,
	  .branch = { "SEMAPHORE_GIT_WORKING_BRANCH", "SEMAPHORE_GIT_BRANCH" } },
	{ .name = "github", .title = "GitHub Actions", .detect = "GITHUB_ACTIONS", .is = "true",
	  .build = { "GITHUB_RUN_ID" },
	  .no_index = "export CIQ_WORKER=${{ strategy.job-index }}",
	  .seed = { "GITHUB_SHA" },
	  .retry = "GITHUB_RUN_ATTEMPT", .rule = RETRY_ATTEMPT,
	  .branch = { "GITHUB_HEAD_REF", "GITHUB_REF_NAME" },
	  .build_url = { "${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}" } },
	{ .name = "gitlab", .title = "GitLab CI", .detect = "GITLAB_CI", .is = "true",
	  .build = { "CI_PIPELINE_ID" },
	  .worker = "CI_NODE_INDEX", .base = 1, .workers = { "CI_NODE_TOTAL" },
	  .seed = { "CI_COMMIT_SHA" },
	  .branch = { "CI_COMMIT_REF_NAME" }, .build_url = { "CI_PIPELINE_URL" } },
	{ .name = "bitbucket", .title = "Bitbucket Pipelines", .detect = "BITBUCKET_BUILD_NUMBER",
	  .build = { "BITBUCKET_BUILD_NUMBER" },
	  .worker = "BITBUCKET_PARALLEL_STEP", .base = 0,
	  .workers = { "BITBUCKET_PARALLEL_STEP_COUNT" },
	  .seed = { "BITBUCKET_COMMIT" },
	  .retry = "BITBUCKET_STEP_RUN_NUMBER", .rule = RETRY_ATTEMPT,
	  .branch = { "BITBUCKET_BRANCH" } },
	/* TF_BUILD is "True"; the 1-based index is common usage, not documented. */
	{ .name = "azure", .title = "Azure Pipelines", .detect = "TF_BUILD", .is = "true",
	  .build = { "BUILD_BUILDID" },
	  .worker = "SYSTEM_JOBPOSITIONINPHASE", .base = 1,
	  .workers = { "SYSTEM_TOTALJOBSINPHASE" },
	  .seed = { "BUILD_SOURCEVERSION" },
	  .retry = "SYSTEM_JOBATTEMPT", .rule = RETRY_ATTEMPT,
	  .branch = { "BUILD_SOURCEBRANCHNAME" },
	  .build_url = { "${SYSTEM_TEAMFOUNDATIONSERVERURI}${SYSTEM_TEAMPROJECT}"
	      "/_build/results?buildId=${BUILD_BUILDID}" } },
	{ .name = "jenkins", .title = "Jenkins", .detect = "JENKINS_URL",
	  .build = { "BUILD_TAG", "BUILD_NUMBER" },
	  .no_index = "set it in each parallel branch or matrix cell",
	  .seed = { "GIT_COMMIT" },
	  .branch = { "BRANCH_NAME", "GIT_BRANCH" }, .build_url = { "BUILD_URL" } },
};

#define NPROVIDERS (sizeof providers / sizeof providers[0])

/* A variable's value, or NULL when it is unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static void
put(struct ciq_ci *ci, enum ciq_ci_field f, char *value, const char *source)
{
	ci->v[f].value = value;
	ci->v[f].source = source;
}

/* A whole number of a provider's variable (lib/number.h), or -1. */
static long
number(const char *s)
{
	long long n;

	if (s == NULL || ciq_number_whole(s, 0, 100000000, &n) != CIQ_NUMBER_OK)
		return -1;
	return (long)n;
}

/*
 * The value of spec, a variable name or a "${A}/x/${B}" template, in a new
 * string; NULL when a variable it needs is unset or empty.
 */
static char *
lookup(const char *spec)
{
	const char *p, *v;
	char out[1024], name[64];
	size_t len = 0, n, skip;

	if (strstr(spec, "${") == NULL)
		return (v = env(spec)) != NULL ? ciq_strdup(v) : NULL;
	for (p = spec; *p != '\0'; p += skip) {
		if (strncmp(p, "${", 2) == 0) {
			n = strcspn(p + 2, "}");
			snprintf(name, sizeof name, "%.*s", (int)n, p + 2);
			if ((v = env(name)) == NULL)
				return NULL;
			skip = 2 + n + (p[2 + n] == '}');
			n = strlen(v);
		} else {
			v = p;
			n = skip = 1 + strcspn(p + 1, "$");
		}
		/* No build URL is this long: treat it as missing. */
		if (len + n >= sizeof out)
			return NULL;
		memcpy(out + len, v, n);
		len += n;
	}
	out[len] = '\0';
	return ciq_strdup(out);
}

/* Set field f from the first spec that has a value other than reject. */
static void
fill(struct ciq_ci *ci, enum ciq_ci_field f, const char *const spec[ALT], const char *reject)
{
	char *v;

	for (int i = 0; i < ALT && spec[i] != NULL && ci->v[f].value == NULL; i++) {
		if ((v = lookup(spec[i])) != NULL &&
		    (reject == NULL || strcmp(v, reject) != 0))
			put(ci, f, ciq_strdup(v), spec[i]);
		free(v);
	}
}

/* The worker index, 0-based; an index that is not one stays unset. */
static void
fill_worker(struct ciq_ci *ci, const struct provider *p)
{
	char buf[24];
	long n;

	if (p->worker == NULL)
		return;
	if ((n = number(env(p->worker)) - p->base) < 0)
		return;
	snprintf(buf, sizeof buf, "%ld", n);
	put(ci, CIQ_CI_WORKER, ciq_strdup(buf), p->worker);
}

static void
fill_retry(struct ciq_ci *ci, const struct provider *p)
{
	const char *v = p->retry != NULL ? env(p->retry) : NULL;
	int yes = 0;

	if (v == NULL) {
		put(ci, CIQ_CI_RETRY, ciq_strdup("false"), p->detect);
		return;
	}
	switch (p->rule) {
	case RETRY_FLAG:
		yes = strcmp(v, "true") == 0;
		break;
	case RETRY_COUNT:
		yes = number(v) > 0;
		break;
	case RETRY_ATTEMPT:
		yes = number(v) > 1;
		break;
	case RETRY_NONE:
		break;
	}
	put(ci, CIQ_CI_RETRY, ciq_strdup(yes ? "true" : "false"), p->retry);
}

static const struct provider *
detect(void)
{
	const struct provider *p;
	const char *v;

	for (p = providers; p < providers + NPROVIDERS; p++) {
		if ((v = env(p->detect)) == NULL)
			continue;
		if (p->is != NULL && strcasecmp(v, p->is) != 0)
			continue;
		if (p->also != NULL && env(p->also) == NULL)
			continue;
		return p;
	}
	return NULL;
}

void
ciq_provider_infer(struct ciq_ci *ci)
{
	const struct provider *p = detect();

	memset(ci, 0, sizeof *ci);
	if (p == NULL)
		return;
	put(ci, CIQ_CI_PROVIDER, ciq_strdup(p->name), p->detect);
	fill(ci, CIQ_CI_BUILD, p->build, NULL);
	fill_worker(ci, p);
	fill(ci, CIQ_CI_WORKERS, p->workers, NULL);
	/* A symbolic ref is the same in every build: no seed at all is better. */
	fill(ci, CIQ_CI_SEED, p->seed, "HEAD");
	fill_retry(ci, p);
	fill(ci, CIQ_CI_BRANCH, p->branch, NULL);
	fill(ci, CIQ_CI_BUILD_URL, p->build_url, NULL);
}

void
ciq_provider_free(struct ciq_ci *ci)
{
	for (int f = 0; f < CIQ_CI_COUNT; f++)
		free(ci->v[f].value);
	memset(ci, 0, sizeof *ci);
}

static const struct provider *
find(const char *name)
{
	for (size_t i = 0; name != NULL && i < NPROVIDERS; i++)
		if (strcmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

/* The hint lives in a static buffer, valid until the next call. */
const char *
ciq_provider_hint(const char *provider, enum ciq_ci_field f)
{
	static char buf[CIQ_ERRLEN];
	const struct provider *p = find(provider);
	const char *var, *v;

	if (p == NULL)
		return " (no CI provider detected)";
	switch (f) {
	case CIQ_CI_BUILD:
		var = p->build[0];
		break;
	case CIQ_CI_WORKER:
		var = p->worker;
		break;
	case CIQ_CI_WORKERS:
		var = p->workers[0];
		break;
	case CIQ_CI_SEED:
		var = p->seed[0];
		break;
	default:
		return "";
	}
	if (var == NULL && f == CIQ_CI_WORKER)
		snprintf(buf, sizeof buf, " (%s has no parallel index: %s)", p->title, p->no_index);
	else if (var == NULL)
		snprintf(buf, sizeof buf, " (%s does not expose it)", p->title);
	else if ((v = env(var)) == NULL)
		snprintf(buf, sizeof buf, " (%s did not set %s)", p->title, var);
	else if (f == CIQ_CI_WORKER)
		snprintf(buf, sizeof buf, " (%s='%.32s' is not a %d-based index)", var, v, p->base);
	else
		snprintf(buf, sizeof buf, " (%s='%.32s' is not usable)", var, v);
	return buf;
}
