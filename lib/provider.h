/*
 * provider.h - what the CI provider says about this job.
 *
 * Detection comes first, then the provider's own variables are read: the
 * same variable can mean different things on two providers (CI_NODE_INDEX
 * is 0-based on Heroku CI and 1-based on GitLab). Worker indexes come out
 * 0-based. This module knows the providers, not the settings: conf.c puts
 * what it finds into the slots a flag or a CIQ_* variable left unset.
 */
#ifndef CIQ_PROVIDER_H
#define CIQ_PROVIDER_H

/* What a provider can tell. */
enum ciq_ci_field {
	CIQ_CI_NONE,       /* nothing: no provider fills it */
	CIQ_CI_PROVIDER,   /* the provider's name: "github" */
	CIQ_CI_BUILD,
	CIQ_CI_WORKER,     /* 0-based */
	CIQ_CI_WORKERS,
	CIQ_CI_SEED,
	CIQ_CI_RETRY,      /* "true" or "false" */
	CIQ_CI_BRANCH,
	CIQ_CI_BUILD_URL,
	CIQ_CI_COUNT
};

/* One value, and the variable it came from. */
struct ciq_ci_value {
	char *value;         /* owned; NULL when the provider does not say */
	const char *source;  /* a static string: "GITHUB_RUN_ID" */
};

struct ciq_ci {
	struct ciq_ci_value v[CIQ_CI_COUNT];
};

/*
 * Detect the provider from the environment and read what it exposes
 * into ci (every value NULL outside a known CI). Can't fail. Free with
 * ciq_provider_free.
 */
void ciq_provider_infer(struct ciq_ci *ci);
void ciq_provider_free(struct ciq_ci *ci);

/*
 * Why provider (a name from CIQ_CI_PROVIDER, or NULL outside CI) did not
 * give field f, to end the sentence that tells the user how to supply
 * it: " (no CI provider detected)", " (GitHub Actions has no parallel
 * index: export it from strategy.job-index)", or "" when there is nothing
 * to add. Valid until the next call. Never NULL.
 */
const char *ciq_provider_hint(const char *provider, enum ciq_ci_field f);

#endif
