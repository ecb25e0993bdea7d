/*
 * bisect.c - premises, halving, ddmin over sets of suspects (bisect.h).
 *
 * A set of suspects is an ascending array of their indexes, so every
 * subset runs in the order of the suite.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "bisect.h"
#include "exit.h"

enum outcome { PASS, FAIL, UNRESOLVED };

/* A step's return besides 0 and an exit status: max_steps ran out. */
#define LIMIT (-1)

/* A set already run, and how it ended. */
struct tried {
	uint64_t hash;
	size_t *set, k;
	enum outcome outcome;
};

struct search {
	struct ciq_bisect *b;
	struct tried *tried;
	size_t ntried, cap;
	char *in;              /* the runner's input */
	size_t inlen, incap;
	size_t left;           /* for the progress: suspects in the smallest failing set */
	struct ciq_run last;   /* how the last step ended */
	char *err;
};

static uint64_t
hash_set(const size_t *set, size_t k)
{
	uint64_t h = 0xcbf29ce484222325u ^ k;   /* FNV-1a over the indexes */

	for (size_t i = 0; i < k; i++)
		h = (h ^ set[i]) * 0x100000001b3u;
	return h;
}

static const struct tried *
lookup(const struct search *s, const size_t *set, size_t k)
{
	uint64_t h = hash_set(set, k);

	for (size_t i = 0; i < s->ntried; i++) {
		const struct tried *t = &s->tried[i];

		if (t->hash == h && t->k == k && (k == 0 || memcmp(t->set, set, k * sizeof *set) == 0))
			return t;
	}
	return NULL;
}

static void
remember(struct search *s, const size_t *set, size_t k, enum outcome o)
{
	struct tried *t;

	if (s->ntried == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->tried = ciq_realloc(s->tried, s->cap * sizeof *s->tried);
	}
	t = &s->tried[s->ntried++];
	t->hash = hash_set(set, k);
	t->k = k;
	t->set = k > 0 ? ciq_memdup(set, k * sizeof *set) : NULL;
	t->outcome = o;
}

static void
append(struct search *s, const char *p, size_t n)
{
	if (s->inlen + n + 1 > s->incap) {
		s->incap = (s->inlen + n + 1) * 2;
		s->in = ciq_realloc(s->in, s->incap);
	}
	memcpy(s->in + s->inlen, p, n);
	s->in[s->inlen + n] = '\n';
	s->inlen += n + 1;
}

static const char *
signame(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "a signal";
	}
}

/*
 * Run the suspects set[0..k) then the test, unless (cache) that set ran
 * already. Returns 0 with *o set, LIMIT when max_steps ran out, or an
 * exit status with err set.
 */
static int
step(struct search *s, enum ciq_bisect_phase phase, const size_t *set, size_t k, int cache,
    enum outcome *o)
{
	struct ciq_bisect *b = s->b;
	struct ciq_bisect_step st;
	const struct tried *t;

	if (cache && (t = lookup(s, set, k)) != NULL) {
		*o = t->outcome;
		return 0;
	}
	if (b->steps >= b->max_steps) {
		b->phase = phase;
		return LIMIT;
	}
	s->inlen = 0;
	for (size_t i = 0; i < k; i++)
		append(s, b->suspects[set[i]].s, b->suspects[set[i]].len);
	append(s, b->test.s, b->test.len);

	st = (struct ciq_bisect_step){ ++b->steps, phase, s->left, k, NULL, 0 };
	if (b->progress != NULL)
		b->progress(b->arg, b, &st);
	if (ciq_runner_run(b->argv, s->in, s->inlen, b->out, b->step_ms, &s->last, s->err) == -1)
		return CIQ_EX_SOFTWARE;
	switch (s->last.end) {
	case CIQ_RUN_NOEXEC:
		snprintf(s->err, CIQ_ERRLEN, "cannot run '%s': %s", b->argv[0], strerror(s->last.status));
		return CIQ_EX_NORUNNER;
	case CIQ_RUN_INTERRUPTED:
		snprintf(s->err, CIQ_ERRLEN, "interrupted by %s at step %lld: its runner was killed",
		    signame(s->last.status), b->steps);
		return 128 + s->last.status;
	case CIQ_RUN_TIMEDOUT:
		*o = UNRESOLVED;
		b->timed_out++;
		break;
	case CIQ_RUN_SIGNALED:
		*o = FAIL;
		break;
	case CIQ_RUN_EXITED:
		*o = s->last.status == 0 ? PASS : FAIL;
		break;
	}
	st.done = &s->last;
	st.failed = *o == FAIL;
	if (b->progress != NULL)
		b->progress(b->arg, b, &st);
	if (cache)
		remember(s, set, k, *o);
	return 0;
}

/* Halve set[0..*k) while one half fails; 0 when neither does or one
 * suspect is left, else LIMIT or an exit status. */
static int
halve(struct search *s, size_t *set, size_t *k)
{
	enum outcome o;
	int rc;

	while (*k > 1) {
		size_t h = *k / 2;

		s->left = *k;
		if ((rc = step(s, CIQ_BISECT_P_HALVING, set, h, 1, &o)) != 0)
			return rc;
		if (o == FAIL) {
			*k = h;
			continue;
		}
		if ((rc = step(s, CIQ_BISECT_P_HALVING, set + h, *k - h, 1, &o)) != 0)
			return rc;
		if (o != FAIL)
			return 0;
		memmove(set, set + h, (*k - h) * sizeof *set);
		*k -= h;
	}
	return 0;
}

/* ddmin on set[0..*k), which fails: down to a set from which no single
 * suspect can be left out. 0, LIMIT or an exit status. */
static int
ddmin(struct search *s, size_t *set, size_t *k)
{
	size_t g = 2, *rest = ciq_calloc(*k, sizeof *rest);
	enum outcome o;
	int rc = 0;

	while (*k >= 2) {
		int reduced = 0;

		s->left = *k;
		for (size_t i = 0; i < g && !reduced; i++) {
			size_t lo = i * *k / g, hi = (i + 1) * *k / g;

			if ((rc = step(s, CIQ_BISECT_P_DDMIN, set + lo, hi - lo, 1, &o)) != 0)
				goto out;
			if (o == FAIL) {
				memmove(set, set + lo, (hi - lo) * sizeof *set);
				*k = hi - lo;
				g = 2;
				reduced = 1;
			}
		}
		/* With two chunks, each complement is the other chunk. */
		for (size_t i = 0; g > 2 && i < g && !reduced; i++) {
			size_t lo = i * *k / g, hi = (i + 1) * *k / g, m = *k - (hi - lo);

			memcpy(rest, set, lo * sizeof *set);
			memcpy(rest + lo, set + hi, (*k - hi) * sizeof *set);
			if ((rc = step(s, CIQ_BISECT_P_DDMIN, rest, m, 1, &o)) != 0)
				goto out;
			if (o == FAIL) {
				memcpy(set, rest, m * sizeof *set);
				*k = m;
				g = g - 1 > 2 ? g - 1 : 2;
				reduced = 1;
			}
		}
		if (reduced)
			continue;
		if (g >= *k)
			break;
		g = 2 * g < *k ? 2 * g : *k;
	}
out:
	s->left = *k;
	free(rest);
	return rc;
}

/* The verdict of a premise or the replay that did not fail as hoped. */
static void
settle(struct ciq_bisect *b, enum ciq_bisect_phase phase, enum outcome o)
{
	b->phase = phase;
	if (o == UNRESOLVED)
		b->verdict = CIQ_BISECT_TIMED_OUT;
	else if (phase == CIQ_BISECT_P_ALONE)
		b->verdict = CIQ_BISECT_FAILS_ALONE;
	else if (phase == CIQ_BISECT_P_ALL)
		b->verdict = CIQ_BISECT_NO_REPRO;
	else
		b->verdict = CIQ_BISECT_FLAKY;
}

int
ciq_bisect_run(struct ciq_bisect *b, char err[CIQ_ERRLEN])
{
	struct search s = { .b = b, .err = err };
	size_t *set = ciq_calloc(b->n, sizeof *set), k = b->n;
	enum outcome o;
	int rc;

	b->steps = b->timed_out = 0;
	b->ddmin = 0;
	b->culprits = set;
	b->nculprits = 0;
	if (b->max_steps < 2 || b->n == 0) {
		snprintf(err, CIQ_ERRLEN, "nothing to bisect: %zu suspects, %lld steps", b->n,
		    b->max_steps);
		return CIQ_EX_SOFTWARE;
	}
	for (size_t i = 0; i < k; i++)
		set[i] = i;
	s.left = k;

	/* The premises. */
	if ((rc = step(&s, CIQ_BISECT_P_ALONE, NULL, 0, 0, &o)) != 0)
		goto out;
	b->alone = s.last;
	if (o != PASS) {
		settle(b, CIQ_BISECT_P_ALONE, o);
		goto out;
	}
	if ((rc = step(&s, CIQ_BISECT_P_ALL, set, k, 1, &o)) != 0)
		goto out;
	if (o != FAIL) {
		settle(b, CIQ_BISECT_P_ALL, o);
		goto out;
	}

	/* Narrow down, then replay. */
	b->nculprits = k;
	rc = halve(&s, set, &k);
	b->nculprits = k;
	if (rc == 0 && k > 1) {
		/* Neither half fails alone: does the whole still fail? */
		if ((rc = step(&s, CIQ_BISECT_P_RECHECK, set, k, 0, &o)) == 0 && o == PASS) {
			settle(b, CIQ_BISECT_P_RECHECK, o);
			goto out;
		}
		if (rc == 0) {
			b->ddmin = 1;
			rc = ddmin(&s, set, &k);
			b->nculprits = k;
		}
	}
	s.left = k;
	if (rc == 0)
		rc = step(&s, CIQ_BISECT_P_REPLAY, set, k, 0, &o);
	if (rc == LIMIT) {
		b->verdict = CIQ_BISECT_UNFINISHED;
		rc = 0;
	} else if (rc == 0 && o == FAIL) {
		b->verdict = CIQ_BISECT_FOUND;
	} else if (rc == 0) {
		settle(b, CIQ_BISECT_P_REPLAY, o);
	}
out:
	for (size_t i = 0; i < s.ntried; i++)
		free(s.tried[i].set);
	free(s.tried);
	free(s.in);
	return rc == 0 ? CIQ_EX_OK : rc;
}

/* Drop the later copies of every id, keeping the first in place; how
 * many are left. */
static size_t
dedup(struct ciq_id *ids, size_t n)
{
	size_t nslots = 16, kept = 0, *slots;

	while (nslots < 2 * n)
		nslots *= 2;
	slots = ciq_calloc(nslots, sizeof *slots);   /* indexes + 1 into ids; 0 is empty */
	for (size_t i = 0; i < n; i++) {
		uint64_t h = 0xcbf29ce484222325u;
		size_t j;
		int dup = 0;

		for (size_t c = 0; c < ids[i].len; c++)
			h = (h ^ (unsigned char)ids[i].s[c]) * 0x100000001b3u;
		for (j = h & (nslots - 1); slots[j] != 0 && !dup; j = (j + 1) & (nslots - 1)) {
			const struct ciq_id *o = &ids[slots[j] - 1];

			dup = o->len == ids[i].len && memcmp(o->s, ids[i].s, o->len) == 0;
		}
		if (dup)
			continue;
		ids[kept] = ids[i];
		slots[j] = ++kept;
	}
	free(slots);
	return kept;
}

int
ciq_bisect_order_file(struct ciq_bisect_order *o, const char *path, char err[CIQ_ERRLEN])
{
	int in = strcmp(path, "-") == 0, fd = in ? 0 : open(path, O_RDONLY | O_CLOEXEC);

	memset(o, 0, sizeof *o);
	ciq_idlist_init(&o->list);
	if (in)
		snprintf(o->where, sizeof o->where, "the order on standard input");
	else
		snprintf(o->where, sizeof o->where, "the order file '%s'", path);
	if (fd == -1) {
		snprintf(err, CIQ_ERRLEN, "cannot open '%s': %s", path, strerror(errno));
		return CIQ_EX_DATAERR;
	}
	if (ciq_idlist_read(&o->list, fd, in ? "<stdin>" : path, err) == -1) {
		if (!in)
			close(fd);
		return CIQ_EX_DATAERR;
	}
	if (!in)
		close(fd);
	o->ids = ciq_calloc(o->list.n + 1, sizeof *o->ids);
	if (o->list.n > 0)
		memcpy(o->ids, o->list.ids, o->list.n * sizeof *o->ids);
	o->n = o->list.n;
	o->dropped = o->list.ndups;
	return CIQ_EX_OK;
}

int
ciq_bisect_order_worker(struct ciq_bisect_order *o, struct ciq_session *s,
    const char *worker, char err[CIQ_ERRLEN])
{
	int rc;

	memset(o, 0, sizeof *o);
	ciq_idlist_init(&o->list);
	snprintf(o->where, sizeof o->where, "the order of worker '%s' in build '%s'", worker,
	    s->build);
	if ((rc = ciq_order_read(s, worker, &o->order, err)) != CIQ_EX_OK)
		return rc == CIQ_EX_NO ? CIQ_EX_DATAERR : rc;
	o->ids = ciq_calloc(o->order.n + 1, sizeof *o->ids);
	for (size_t i = 0; i < o->order.n; i++)
		o->ids[i] = (struct ciq_id){ o->order.ids[i], o->order.lens[i] };
	o->n = dedup(o->ids, o->order.n);
	o->dropped = o->order.n - o->n;
	return CIQ_EX_OK;
}

void
ciq_bisect_order_free(struct ciq_bisect_order *o)
{
	free(o->ids);
	ciq_idlist_free(&o->list);
	ciq_order_free(&o->order);
	o->ids = NULL;
	o->n = o->dropped = 0;
}

int
ciq_bisect_locate(struct ciq_bisect *b, const struct ciq_bisect_order *o, const char *test,
    size_t len, char err[CIQ_ERRLEN])
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->ids[i].len == len && memcmp(o->ids[i].s, test, len) == 0)
			break;
	if (i == o->n) {
		snprintf(err, CIQ_ERRLEN, "'%s' is not in %s (%zu tests)", test, o->where, o->n);
		return CIQ_EX_DATAERR;
	}
	if (i == 0) {
		snprintf(err, CIQ_ERRLEN, "'%s' is the first test in %s: no test ran before it, "
		    "so none can have leaked into it: nothing to bisect", test, o->where);
		return CIQ_EX_DATAERR;
	}
	b->suspects = o->ids;
	b->n = i;
	b->test = o->ids[i];
	return CIQ_EX_OK;
}

void
ciq_bisect_free(struct ciq_bisect *b)
{
	free(b->culprits);
	b->culprits = NULL;
	b->nculprits = 0;
}
