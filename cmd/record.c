/*
 * record.c - the warnings for the server's answers to results and requeues.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include "exit.h"
#include "record.h"

int
ciq_record_next(struct ciq_session *s, const char *status, const struct ciq_attach *a,
    int n, char *const *ids, struct ciq_results *res, char err[CIQ_ERRLEN])
{
	char timeout[32], max_duration[32];
	const char *head[6] = { timeout, "1", ciq_conf_get(s->conf, CIQ_K_MAX_CONSECUTIVE_FAILURES),
		"0", max_duration, status };

	snprintf(timeout, sizeof timeout, "%lld", ciq_conf_ms(s->conf, CIQ_K_TIMEOUT));
	snprintf(max_duration, sizeof max_duration, "%lld", ciq_conf_ms(s->conf, CIQ_K_MAX_DURATION));
	return ciq_results_send(s, CIQ_S_NEXT, 6, head, a, n, ids, res, err);
}

int
ciq_record_requeue(struct ciq_session *s, const struct ciq_attach *a, int n,
    char *const *ids, struct ciq_results *res, char err[CIQ_ERRLEN])
{
	char max[32], tol[32];
	const char *head[2] = { max, tol };

	snprintf(max, sizeof max, "%lld", ciq_conf_int(s->conf, CIQ_K_MAX_REQUEUES));
	snprintf(tol, sizeof tol, "%.17g", ciq_conf_double(s->conf, CIQ_K_REQUEUE_TOLERANCE));
	return ciq_results_send(s, CIQ_S_REQUEUE, 2, head, a, n, ids, res, err);
}

int
ciq_record_acked(const struct ciq_session *s, const struct ciq_results *res)
{
	int rc = CIQ_EX_OK;

	for (size_t i = 0; i < res->n; i++) {
		const char *id = res->v[i].id;
		int held = res->v[i].ended;

		switch (res->v[i].answer) {
		case CIQ_ANS_NOTMINE:
			warnx("'%s' was never reserved by worker '%s': not recorded", id, s->worker);
			rc = CIQ_EX_DATAERR;
			break;
		case CIQ_ANS_DUPLICATE:
			if (!held)
				warnx("'%s' already has a result: this one is ignored", id);
			break;
		case CIQ_ANS_FLAKY:
			warnx("'%s' both passed and failed: recorded as flaky", id);
			break;
		case CIQ_ANS_RECORDED:
			if (!held)
				warnx("'%s' was reclaimed by another worker: this first result is recorded", id);
			break;
		default:
			break;
		}
	}
	return rc;
}

int
ciq_record_requeued(const struct ciq_session *s, const struct ciq_results *res)
{
	char max[32];
	int rc = CIQ_EX_OK;

	snprintf(max, sizeof max, "%lld", ciq_conf_int(s->conf, CIQ_K_MAX_REQUEUES));

	for (size_t i = 0; i < res->n; i++) {
		const char *id = res->v[i].id, *detail = res->v[i].detail;

		if (res->v[i].answer == CIQ_ANS_REQUEUED)
			continue;
		if (res->v[i].answer == CIQ_ANS_NOTMINE) {
			warnx("'%s' was never reserved by worker '%s': not requeued", id, s->worker);
			rc = CIQ_EX_DATAERR;
			continue;
		}
		/* A refusal: the failure stands. 65 above wins over 1. */
		if (rc == CIQ_EX_OK)
			rc = CIQ_EX_NO;
		if (res->v[i].answer == CIQ_ANS_RECLAIMED && *detail != '\0')
			warnx("'%s' is no longer reserved by this worker (now: '%s'): not requeued", id, detail);
		else if (res->v[i].answer == CIQ_ANS_RECLAIMED)
			warnx("'%s' is no longer reserved by this worker: not requeued", id);
		else if (res->v[i].answer == CIQ_ANS_RECORDED)
			warnx("'%s' already has a result: not requeued", id);
		else if ((res->v[i].answer == CIQ_ANS_MAX_REQUEUES && strcmp(max, "0") == 0) ||
		    res->v[i].answer == CIQ_ANS_REPEAT)
			; /* Requeues are off, or the build is a grind (ciq-populate
			   --repeat), which counts every run: refusing is the
			   expected answer, say nothing. */
		else if (res->v[i].answer == CIQ_ANS_MAX_REQUEUES)
			warnx("'%s' was requeued %s times already (--max-requeues %s): not requeued",
			    id, detail, max);
		else
			warnx("the build used its requeues (%s, --requeue-tolerance %s): '%s' not requeued",
			    detail, ciq_conf_get(s->conf, CIQ_K_REQUEUE_TOLERANCE), id);
	}
	return rc;
}
