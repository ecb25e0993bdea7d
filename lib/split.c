/*
 * split.c - split slow units into their parts (split.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "plan.h"
#include "readfile.h"
#include "runner.h"
#include "conf.h"
#include "exit.h"
#include "number.h"
#include "split.h"
#include "timing.h"

/* The most a split command may print. */
#define OUTPUT_MAX (64L * 1024 * 1024)

long long
ciq_split_auto(const long long *ms, size_t n, long long workers)
{
	long long *known = ciq_calloc(n + 1, sizeof *known), total = 0, median;
	size_t nknown = 0;

	for (size_t i = 0; i < n; i++)
		if (ms[i] >= 0)
			total += known[nknown++] = ms[i];
	/* A unit without history counts for the median of the known ones. */
	median = ciq_plan_median(known, nknown);
	if (median > 0)
		total += median * (long long)(n - nknown);
	free(known);
	return workers > 1 ? total / workers : total;
}

/*
 * Run cmd on unit into parts (a list of its own). Returns 0, or -1 with
 * why filled: the unit stays whole.
 */
static int
parts_of(const char *cmd, const struct ciq_id *unit, long long timeout_ms,
    struct ciq_idlist *parts, char why[CIQ_ERRLEN])
{
	char *script = ciq_malloc(strlen(cmd) + 8), *id = ciq_malloc(unit->len + 1), *buf;
	char sh[] = "sh", c[] = "-c", *argv[] = { sh, c, script, sh, id, NULL };
	struct ciq_run r;
	size_t len;
	int out = memfd_create("ciq-split", MFD_CLOEXEC), rc = -1;

	sprintf(script, "%s \"$1\"", cmd);
	memcpy(id, unit->s, unit->len);
	id[unit->len] = '\0';
	if (out == -1)
		snprintf(why, CIQ_ERRLEN, "no file for its output");
	else if (ciq_runner_run(argv, "", 0, out, timeout_ms, &r, why) == -1)
		;
	else if (r.end == CIQ_RUN_TIMEDOUT)
		snprintf(why, CIQ_ERRLEN, "ran past the time left (%lld ms)", timeout_ms);
	else if (r.end == CIQ_RUN_NOEXEC)
		snprintf(why, CIQ_ERRLEN, "could not run: %s", strerror(r.status));
	else if (r.end != CIQ_RUN_EXITED)
		snprintf(why, CIQ_ERRLEN, "was killed by signal %d", r.status);
	else if (r.status != 0)
		snprintf(why, CIQ_ERRLEN, "exited %d", r.status);
	else if (lseek(out, 0, SEEK_SET) == -1 ||
	    ciq_readfile_fd(out, "its output", OUTPUT_MAX, &buf, &len, why) == -1)
		;
	else if (ciq_idlist_take(parts, buf, len, "its output", why) == -1)
		;
	else if (parts->n == 0)
		snprintf(why, CIQ_ERRLEN, "printed no id");
	else
		rc = 0;
	if (out != -1)
		close(out);
	free(script);
	free(id);
	return rc;
}

void
ciq_split_run(struct ciq_split *s, const struct ciq_idlist *l, const long long *ms,
    long long threshold_ms, const char *cmd, long long budget_ms, ciq_split_warn *warn,
    void *arg)
{
	long long end = ciq_now_ms() + budget_ms;

	memset(s, 0, sizeof *s);
	ciq_idlist_init(&s->list);
	ciq_idlist_init(&s->parts);
	s->units = ciq_calloc(l->n + 1, sizeof *s->units);
	for (size_t i = 0; i < l->n; i++) {
		const struct ciq_id *unit = &l->ids[i];
		struct ciq_idlist parts;
		char why[CIQ_ERRLEN];
		size_t added = 0;

		if (ms[i] < 0 || ms[i] <= threshold_ms) {
			ciq_idlist_add(&s->list, unit->s, unit->len);
			continue;
		}
		ciq_idlist_init(&parts);
		if (ciq_now_ms() >= end)
			snprintf(why, sizeof why, "no time was left of the %lld s it may take in all",
			    budget_ms / 1000);
		if (ciq_now_ms() >= end || parts_of(cmd, unit, end - ciq_now_ms(), &parts, why) == -1) {
			warn(arg, unit, why);
			ciq_idlist_add(&s->list, unit->s, unit->len);
		} else {
			size_t first = s->list.n;

			for (size_t j = 0; j < parts.n; j++)
				added += (size_t)ciq_idlist_add(&s->list, parts.ids[j].s, parts.ids[j].len);
			/* Parts that were all in the list already would lose the unit. */
			if (added == 0) {
				warn(arg, unit, "printed only ids already in the list");
				ciq_idlist_add(&s->list, unit->s, unit->len);
			} else {
				s->units[s->nunits++] = (struct ciq_split_unit){ *unit, first, added };
				for (size_t j = first; j < first + added; j++)
					ciq_idlist_add(&s->parts, s->list.ids[j].s, s->list.ids[j].len);
			}
			/* The parts live on in s: take their buffer. */
			s->bufs = ciq_realloc(s->bufs, (s->nbufs + parts.nbufs) * sizeof *s->bufs);
			memcpy(s->bufs + s->nbufs, parts.bufs, parts.nbufs * sizeof *s->bufs);
			s->nbufs += parts.nbufs;
			parts.nbufs = 0;
		}
		ciq_idlist_free(&parts);
	}
}

void
ciq_split_free(struct ciq_split *s)
{
	for (size_t i = 0; i < s->nbufs; i++)
		free(s->bufs[i]);
	free(s->bufs);
	free(s->units);
	ciq_idlist_free(&s->list);
	ciq_idlist_free(&s->parts);
	memset(s, 0, sizeof *s);
}

int
ciq_split_refresh(struct ciq_session *s, const struct ciq_split *split, char msg[CIQ_ERRLEN])
{
	long long *ms = ciq_calloc(split->list.n + 1, sizeof *ms);
	long long *sums = ciq_calloc(split->nunits + 1, sizeof *sums);
	const char **units = ciq_calloc(split->nunits + 1, sizeof *units);
	size_t n = 0;
	int rc;

	if ((rc = ciq_timing_durations(s, &split->list, ms, msg)) != CIQ_EX_OK)
		goto out;
	for (size_t i = 0; i < split->nunits; i++) {
		const struct ciq_split_unit *u = &split->units[i];
		long long sum = 0;
		size_t j;

		for (j = u->first; j < u->first + u->parts && ms[j] >= 0; j++)
			sum += ms[j];
		if (j < u->first + u->parts || u->parts == 0)
			continue;
		units[n] = u->id.s;
		sums[n++] = sum;
	}
	for (size_t i = 0; i < n && rc == CIQ_EX_OK; i += 1000)
		rc = ciq_timing_fold(s, n - i < 1000 ? n - i : 1000, units + i, sums + i, msg);
out:
	free(ms);
	free(sums);
	free(units);
	return rc;
}

int
ciq_split_slow(struct ciq_session *s, const struct ciq_idlist *l, struct ciq_split *split,
    int *done, ciq_split_warn *warn, void *arg, char msg[CIQ_ERRLEN])
{
	const char *cmd = ciq_conf_get(s->conf, CIQ_K_SPLIT_COMMAND);
	const char *thr = ciq_conf_get(s->conf, CIQ_K_SPLIT_THRESHOLD);
	const char *workers = ciq_conf_get(s->conf, CIQ_K_WORKERS);
	long long *ms, threshold = 0;
	int rc;

	*done = 0;
	if (cmd == NULL || *cmd == '\0')
		return CIQ_EX_OK;
	if (workers == NULL && (thr == NULL || strcmp(thr, "auto") == 0)) {
		warn(arg, NULL, "--split-threshold auto needs the number of workers (--workers, "
		    "CIQ_WORKERS): nothing is split");
		return CIQ_EX_OK;
	}
	ms = ciq_calloc(l->n + 1, sizeof *ms);
	if ((rc = ciq_timing_durations(s, l, ms, msg)) == CIQ_EX_OK) {
		if (thr != NULL && strcmp(thr, "auto") != 0)
			/* Checked with the settings (conf.c). */
			ciq_number_ms(thr, 1, 10000000000LL, &threshold);
		else
			threshold = ciq_split_auto(ms, l->n, ciq_conf_int(s->conf, CIQ_K_WORKERS));
		ciq_split_run(split, l, ms, threshold, cmd,
		    ciq_conf_ms(s->conf, CIQ_K_INIT_TIMEOUT) / 2, warn, arg);
		*done = 1;
	}
	free(ms);
	return rc;
}
