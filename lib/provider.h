/*
 * provider.h - what the CI provider says about this job.
 *
 * Detection comes first, then the provider's own variables are read: the
 * same variable can mean different things on two providers (CI_NODE_INDEX
 * is 0-based on Heroku CI and 1-based on GitLab). Worker indexes come out
 * 0-based.
 */
#ifndef CIQ_PROVIDER_H
#define CIQ_PROVIDER_H

#include "conf.h"

/*
 * Detect the provider from the environment and fill every slot of c that
 * is still unset with what that provider exposes (provider, build, worker,
 * workers, seed, retry, branch, build_url), each with the variable it came
 * from as its source. Does nothing outside a known CI. Can't fail.
 */
void ciq_provider_infer(struct ciq_conf *c);

/*
 * A sentence telling the user how to supply slot k on the detected
 * provider (or outside CI), e.g. "set CIQ_WORKER (GitHub Actions has no
 * parallel index: export it from strategy.job-index)". Never NULL.
 */
const char *ciq_provider_hint(const struct ciq_conf *c, enum ciq_key k);

#endif
