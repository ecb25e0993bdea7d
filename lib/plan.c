/*
 * plan.c - the makespan of a build in the queue's model (plan.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "exit.h"
#include "json.h"
#include "plan.h"
#include "publish.h"
#include "timing.h"

/* A min-heap of the times the workers are free at. */
static void
sift_down(long long *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		long long t;

		if (l < n && h[l] < h[m])
			m = l;
		if (r < n && h[r] < h[m])
			m = r;
		if (m == i)
			return;
		t = h[i], h[i] = h[m], h[m] = t;
		i = m;
	}
}

long long
ciq_plan_makespan(const long long *ms, size_t n, long long workers)
{
	size_t w = workers < 1 ? 1 : (size_t)workers;
	long long *free_at, end = 0;

	if (w > n)
		w = n;
	if (n == 0)
		return 0;
	free_at = ciq_calloc(w, sizeof *free_at);
	for (size_t i = 0; i < n; i++) {
		/* The first free worker takes the next test. */
		free_at[0] += ms[i];
		if (free_at[0] > end)
			end = free_at[0];
		sift_down(free_at, w, 0);
	}
	free(free_at);
	return end;
}

long long
ciq_plan_workers(const long long *ms, size_t n, long long target_ms, long long *makespan)
{
	long long total = 0, longest = 0, w;

	*makespan = 0;
	for (size_t i = 0; i < n; i++) {
		total += ms[i];
		if (ms[i] > longest)
			longest = ms[i];
	}
	if (n == 0)
		return 1;
	if (longest > target_ms)
		return 0;
	/* No fewer than the total over the target; then up, one at a time:
	 * the greedy queue is not monotonic in general, so no halving. */
	w = target_ms > 0 ? (total + target_ms - 1) / target_ms : 1;
	if (w < 1)
		w = 1;
	for (; w <= (long long)n; w++) {
		*makespan = ciq_plan_makespan(ms, n, w);
		if (*makespan <= target_ms)
			return w;
	}
	*makespan = longest;
	return (long long)n;
}

static int
by_ms(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

long long
ciq_plan_median(const long long *ms, size_t n)
{
	long long *v, m;

	if (n == 0)
		return -1;
	v = ciq_memdup(ms, n * sizeof *ms);
	qsort(v, n, sizeof *v, by_ms);
	m = v[(n - 1) / 2];
	free(v);
	return m;
}

int
ciq_plan_read(struct ciq_plan *p, struct ciq_session *s, struct ciq_idlist *l,
    long long workers, long long default_ms, long long target_ms, char err[CIQ_ERRLEN])
{
	long long *known;
	int rc;

	memset(p, 0, sizeof *p);
	p->ms = ciq_calloc(l->n + 1, sizeof *p->ms);
	p->guessed = ciq_calloc(l->n + 1, 1);
	p->n = l->n;
	p->workers = workers < 1 ? 1 : workers;
	p->target_ms = target_ms;
	if ((rc = ciq_publish_order(s, l, err)) != CIQ_EX_OK ||
	    (rc = ciq_timing_durations(s, l, p->ms, err)) != CIQ_EX_OK)
		return rc;
	known = ciq_calloc(l->n + 1, sizeof *known);
	for (size_t i = 0; i < l->n; i++)
		if (p->ms[i] >= 0)
			known[p->known++] = p->ms[i];
	p->default_ms = default_ms;
	p->default_from = "--default-duration";
	if (default_ms < 0) {
		p->default_ms = p->known > 0 ? ciq_plan_median(known, p->known) : 0;
		p->default_from = p->known > 0 ? "the median" : "no history";
	}
	free(known);
	for (size_t i = 0; i < l->n; i++) {
		if (p->ms[i] < 0) {
			p->ms[i] = p->default_ms;
			p->guessed[i] = 1;
		}
		p->total += p->ms[i];
		if (p->ms[i] > p->longest)
			p->longest = p->ms[i];
	}
	p->makespan = ciq_plan_makespan(p->ms, p->n, p->workers);
	if (target_ms > 0)
		p->target_workers = ciq_plan_workers(p->ms, p->n, target_ms, &p->target_makespan);
	return CIQ_EX_OK;
}

void
ciq_plan_free(struct ciq_plan *p)
{
	free(p->ms);
	free(p->guessed);
	memset(p, 0, sizeof *p);
}

/* ms as seconds to the ms: "12.345". */
static const char *
secs(char *buf, size_t n, long long ms)
{
	snprintf(buf, n, "%lld.%03lld", ms / 1000, ms % 1000);
	return buf;
}

void
ciq_plan_text(FILE *f, const struct ciq_plan *p, const struct ciq_idlist *l, const char *build)
{
	char a[32], b[32], c[32];

	for (size_t i = 0; i < p->n; i++) {
		fprintf(f, "%10s s%s  ", secs(a, sizeof a, p->ms[i]), p->guessed[i] ? "?" : " ");
		fwrite(l->ids[i].s, 1, l->ids[i].len, f);
		putc('\n', f);
	}
	fprintf(f, "\nbuild %s: %zu tests, %zu with history; the others (?) count for %s s (%s)\n",
	    build, p->n, p->known, secs(a, sizeof a, p->default_ms), p->default_from);
	fprintf(f, "expected: %s s with %lld worker%s (all tests %s s, the longest %s s)\n",
	    secs(a, sizeof a, p->makespan), p->workers, p->workers == 1 ? "" : "s",
	    secs(b, sizeof b, p->total), secs(c, sizeof c, p->longest));
	if (p->target_ms > 0 && p->target_workers > 0)
		fprintf(f, "--target-time %s s: %lld worker%s (expected %s s)\n",
		    secs(a, sizeof a, p->target_ms), p->target_workers,
		    p->target_workers == 1 ? "" : "s", secs(b, sizeof b, p->target_makespan));
	else if (p->target_ms > 0)
		fprintf(f, "--target-time %s s: no number of workers meets it: the longest test "
		    "alone takes %s s\n", secs(a, sizeof a, p->target_ms), secs(b, sizeof b, p->longest));
}

void
ciq_plan_json(FILE *f, const struct ciq_plan *p, const struct ciq_idlist *l, const char *build)
{
	fputs("{\n  \"version\": 1,\n  \"build\": ", f);
	ciq_json_cstr(f, build);
	fprintf(f, ",\n  \"tests\": %zu, \"with_history\": %zu, \"default_ms\": %lld, "
	    "\"default_from\": \"%s\",\n  \"workers\": %lld, \"makespan_ms\": %lld, "
	    "\"total_ms\": %lld, \"longest_ms\": %lld,\n  ", p->n, p->known, p->default_ms,
	    p->default_from, p->workers, p->makespan, p->total, p->longest);
	ciq_json_ms(f, "target_ms", p->target_ms > 0 ? p->target_ms : -1);
	fputs(", ", f);
	ciq_json_ms(f, "workers_for_target", p->target_ms > 0 && p->target_workers > 0 ?
	    p->target_workers : -1);
	fputs(", ", f);
	ciq_json_ms(f, "makespan_for_target_ms", p->target_ms > 0 && p->target_workers > 0 ?
	    p->target_makespan : -1);
	fputs(",\n  \"order\": [", f);
	for (size_t i = 0; i < p->n; i++) {
		fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
		ciq_json_str(f, l->ids[i].s, l->ids[i].len);
		fprintf(f, ", \"expected_ms\": %lld, \"history\": %s}", p->ms[i],
		    p->guessed[i] ? "false" : "true");
	}
	fprintf(f, "%s]\n}\n", p->n ? "\n  " : "");
}
