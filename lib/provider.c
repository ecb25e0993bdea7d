/*
 * provider.c - detect the CI provider, then read its own variables.
 *
 * One row per provider. Each column names the variables to read, the
 * first that is set and not empty wins. A name holding "${" is a template
 * composed from several variables: some providers have no variable for
 * the build URL, only a documented recipe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "conf.h"
#include "provider.h"

#define ALT 2 /* variables per column */

enum retry_rule {
	RETRY_NONE,    /* the provider does not say: never a retry */
	RETRY_FLAG,    /* the variable is "true" */
	RETRY_COUNT,   /* the variable counts earlier retries: > 0 */
	RETRY_ATTEMPT  /* the variable numbers attempts from 1: > 1 */
};

struct provider {
	const char *name;         /* value of CIQ_K_PROVIDER */
	const char *title;        /* the provider's own name, for hints */
	const char *detect;       /* variable that identifies the provider */
	const char *is;           /* its value (any case), or NULL: set at all */
	const char *also;         /* a second variable that must be set, or NULL */
	const char *build[ALT];
	const char *worker;       /* parallel index, or NULL */
	int base;                 /* index of the first worker: 0 or 1 */
	const char *workers;
	const char *seed[ALT];
	const char *retry;
	enum retry_rule rule;
	const char *branch[ALT];
	const char *build_url;
	const char *no_index;     /* how to give a worker id without an index */
};

/*
 * Order matters only when several detection variables are set: the
 * specific ones come first, and GitLab and Heroku are told apart by
 * detection before CI_NODE_INDEX, which they number differently, is read.
 */
static const struct provider providers[] = {
	{ "buildkite", "Buildkite", "BUILDKITE", "true", NULL,
	  { "BUILDKITE_BUILD_ID" }, "BUILDKITE_PARALLEL_JOB", 0, "BUILDKITE_PARALLEL_JOB_COUNT",
	  /* BUILDKITE_COMMIT may be the symbolic "HEAD", skipped below */
	  { "BUILDKITE_COMMIT", "BUILDKITE_COMMIT_RESOLVED" },
	  "BUILDKITE_RETRY_COUNT", RETRY_COUNT,
	  { "BUILDKITE_BRANCH" }, "BUILDKITE_BUILD_URL", NULL },
	/* The workflow id, not the job's: a separate report job shares it. */
	{ "circleci", "CircleCI", "CIRCLECI", "true", NULL,
	  { "CIRCLE_WORKFLOW_ID" }, "CIRCLE_NODE_INDEX", 0, "CIRCLE_NODE_TOTAL",
	  { "CIRCLE_SHA1" }, NULL, RETRY_NONE,
	  { "CIRCLE_BRANCH", "CIRCLE_TAG" }, "CIRCLE_BUILD_URL", NULL },
	{ "travis", "Travis CI", "TRAVIS", "true", NULL,
	  { "TRAVIS_BUILD_ID" }, NULL, 0, NULL,
	  { "TRAVIS_COMMIT" }, "TRAVIS_JOB_RESTARTED", RETRY_FLAG,
	  { "TRAVIS_PULL_REQUEST_BRANCH", "TRAVIS_BRANCH" }, "TRAVIS_BUILD_WEB_URL",
	  "give each job of the build matrix its own CIQ_WORKER=0, 1, ..." },
	{ "heroku", "Heroku CI", "HEROKU_TEST_RUN_ID", NULL, NULL,
	  { "HEROKU_TEST_RUN_ID" }, "CI_NODE_INDEX", 0, "CI_NODE_TOTAL",
	  { "HEROKU_TEST_RUN_COMMIT_VERSION" }, NULL, RETRY_NONE,
	  { "HEROKU_TEST_RUN_BRANCH" }, NULL, NULL },
	/* Semaphore Classic sets SEMAPHORE too, but no workflow id. */
	{ "semaphore", "Semaphore", "SEMAPHORE", "true", "SEMAPHORE_WORKFLOW_ID",
	  { "SEMAPHORE_WORKFLOW_ID" }, "SEMAPHORE_JOB_INDEX", 1, "SEMAPHORE_JOB_COUNT",
	  { "SEMAPHORE_GIT_SHA" }, "SEMAPHORE_PIPELINE_RERUN", RETRY_FLAG,
	  { "SEMAPHORE_GIT_WORKING_BRANCH", "SEMAPHORE_GIT_BRANCH" }, NULL, NULL },
	{ "github", "GitHub Actions", "GITHUB_ACTIONS", "true", NULL,
	  { "GITHUB_RUN_ID" }, NULL, 0, NULL,
	  { "GITHUB_SHA" }, "GITHUB_RUN_ATTEMPT", RETRY_ATTEMPT,
	  { "GITHUB_HEAD_REF", "GITHUB_REF_NAME" },
	  "${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}",
	  "export CIQ_WORKER=${{ strategy.job-index }}" },
	{ "gitlab", "GitLab CI", "GITLAB_CI", "true", NULL,
	  { "CI_PIPELINE_ID" }, "CI_NODE_INDEX", 1, "CI_NODE_TOTAL",
	  { "CI_COMMIT_SHA" }, NULL, RETRY_NONE,
	  { "CI_COMMIT_REF_NAME" }, "CI_PIPELINE_URL", NULL },
	{ "bitbucket", "Bitbucket Pipelines", "BITBUCKET_BUILD_NUMBER", NULL, NULL,
	  { "BITBUCKET_BUILD_NUMBER" }, "BITBUCKET_PARALLEL_STEP", 0, "BITBUCKET_PARALLEL_STEP_COUNT",
	  { "BITBUCKET_COMMIT" }, "BITBUCKET_STEP_RUN_NUMBER", RETRY_ATTEMPT,
	  { "BITBUCKET_BRANCH" }, NULL, NULL },
	/* TF_BUILD is "True"; the 1-based index is common usage, not documented. */
	{ "azure", "Azure Pipelines", "TF_BUILD", "true", NULL,
	  { "BUILD_BUILDID" }, "SYSTEM_JOBPOSITIONINPHASE", 1, "SYSTEM_TOTALJOBSINPHASE",
	  { "BUILD_SOURCEVERSION" }, "SYSTEM_JOBATTEMPT", RETRY_ATTEMPT,
	  { "BUILD_SOURCEBRANCHNAME" },
	  "${SYSTEM_TEAMFOUNDATIONSERVERURI}${SYSTEM_TEAMPROJECT}/_build/results?buildId=${BUILD_BUILDID}",
	  NULL },
	{ "jenkins", "Jenkins", "JENKINS_URL", NULL, NULL,
	  { "BUILD_TAG", "BUILD_NUMBER" }, NULL, 0, NULL,
	  { "GIT_COMMIT" }, NULL, RETRY_NONE,
	  { "BRANCH_NAME", "GIT_BRANCH" }, "BUILD_URL",
	  "set it in each parallel branch or matrix cell" },
};

#define NPROVIDERS (sizeof providers / sizeof providers[0])

/* A variable's value, or NULL when it is unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* A non-negative decimal integer, or -1. */
static long
number(const char *s)
{
	long n = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100000000)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n;
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

/* Fill slot k from the first spec that has a value other than reject. */
static void
fill(struct ciq_conf *c, enum ciq_key k, const char *const spec[ALT], const char *reject)
{
	char *v;

	for (int i = 0; i < ALT && spec[i] != NULL && c->set[k].value == NULL; i++) {
		if ((v = lookup(spec[i])) != NULL &&
		    (reject == NULL || strcmp(v, reject) != 0))
			ciq_conf_put(c, k, v, spec[i]);
		free(v);
	}
}

/* The worker index, 0-based; an index that is not one stays unset. */
static void
fill_worker(struct ciq_conf *c, const struct provider *p)
{
	char buf[24];
	long n;

	if (p->worker == NULL || c->set[CIQ_K_WORKER].value != NULL)
		return;
	if ((n = number(env(p->worker)) - p->base) < 0)
		return;
	snprintf(buf, sizeof buf, "%ld", n);
	ciq_conf_put(c, CIQ_K_WORKER, buf, p->worker);
}

static void
fill_retry(struct ciq_conf *c, const struct provider *p)
{
	const char *v = p->retry != NULL ? env(p->retry) : NULL;
	int yes = 0;

	if (c->set[CIQ_K_RETRY].value != NULL)
		return;
	if (v == NULL) {
		ciq_conf_put(c, CIQ_K_RETRY, "false", p->detect);
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
	ciq_conf_put(c, CIQ_K_RETRY, yes ? "true" : "false", p->retry);
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
ciq_provider_infer(struct ciq_conf *c)
{
	const struct provider *p = detect();
	const char *one[ALT] = { NULL };

	if (p == NULL)
		return;
	if (c->set[CIQ_K_PROVIDER].value == NULL)
		ciq_conf_put(c, CIQ_K_PROVIDER, p->name, p->detect);
	fill(c, CIQ_K_BUILD, p->build, NULL);
	fill_worker(c, p);
	one[0] = p->workers;
	fill(c, CIQ_K_WORKERS, one, NULL);
	/* A symbolic ref is the same in every build: no seed at all is better. */
	fill(c, CIQ_K_SEED, p->seed, "HEAD");
	fill_retry(c, p);
	fill(c, CIQ_K_BRANCH, p->branch, NULL);
	one[0] = p->build_url;
	fill(c, CIQ_K_BUILD_URL, one, NULL);
}

static const struct provider *
find(const char *name)
{
	for (size_t i = 0; name != NULL && i < NPROVIDERS; i++)
		if (strcmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

/*
 * The hint names the setting, then why the provider did not fill it. The
 * sentence lives in a static buffer, valid until the next call.
 */
const char *
ciq_provider_hint(const struct ciq_conf *c, enum ciq_key k)
{
	static char buf[CIQ_ERRLEN];
	const struct ciq_conf_info *in = ciq_conf_info(k);
	const struct provider *p = find(c->set[CIQ_K_PROVIDER].value);
	const char *var, *v;
	size_t n;

	if (k == CIQ_K_QUEUE)
		return "set CIQ_QUEUE, --queue or REDIS_URL";
	if (in->env == NULL)
		return "the CI provider does not expose it";
	snprintf(buf, sizeof buf, "set %s", in->env);
	if (in->flag != NULL)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " or --%s", in->flag);
	n = strlen(buf);
	if (p == NULL) {
		snprintf(buf + n, sizeof buf - n, " (no CI provider detected)");
		return buf;
	}
	switch (k) {
	case CIQ_K_BUILD:
		var = p->build[0];
		break;
	case CIQ_K_WORKER:
		var = p->worker;
		break;
	case CIQ_K_WORKERS:
		var = p->workers;
		break;
	case CIQ_K_SEED:
		var = p->seed[0];
		break;
	default:
		return buf;
	}
	if (var == NULL && k == CIQ_K_WORKER)
		snprintf(buf + n, sizeof buf - n, " (%s has no parallel index: %s)",
		    p->title, p->no_index);
	else if (var == NULL)
		snprintf(buf + n, sizeof buf - n, " (%s does not expose it)", p->title);
	else if ((v = env(var)) == NULL)
		snprintf(buf + n, sizeof buf - n, " (%s did not set %s)", p->title, var);
	else if (k == CIQ_K_WORKER)
		snprintf(buf + n, sizeof buf - n, " (%s='%.32s' is not a %d-based index)",
		    var, v, p->base);
	else
		snprintf(buf + n, sizeof buf - n, " (%s='%.32s' is not usable)", var, v);
	return buf;
}
