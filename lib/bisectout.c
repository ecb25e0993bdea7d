/*
 * bisectout.c - what ciq-bisect says (bisectout.h).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bisectout.h"
#include "exit.h"
#include "json.h"
#include "shquote.h"

static const char *
plural(size_t n)
{
	return n == 1 ? "" : "s";
}

int
ciq_bisect_status(const struct ciq_bisect *b)
{
	switch (b->verdict) {
	case CIQ_BISECT_FOUND: return CIQ_EX_OK;
	case CIQ_BISECT_FAILS_ALONE: return CIQ_EX_ALONE;
	case CIQ_BISECT_NO_REPRO: return CIQ_EX_NOREPRO;
	case CIQ_BISECT_FLAKY: return CIQ_EX_NOREPRO;
	case CIQ_BISECT_UNFINISHED: return CIQ_EX_UNFINISHED;
	case CIQ_BISECT_TIMED_OUT: return CIQ_EX_TEMPFAIL;
	}
	return CIQ_EX_SOFTWARE;
}

const char *
ciq_bisect_word(const struct ciq_bisect *b)
{
	switch (b->verdict) {
	case CIQ_BISECT_FOUND: return "found";
	case CIQ_BISECT_FAILS_ALONE: return "fails-alone";
	case CIQ_BISECT_NO_REPRO: return "does-not-reproduce";
	case CIQ_BISECT_FLAKY: return "flaky";
	case CIQ_BISECT_UNFINISHED: return "unfinished";
	case CIQ_BISECT_TIMED_OUT: return "timed-out";
	}
	return "";
}

/* Seconds from ms, without trailing zeros: "2", "0.5". */
static void
seconds(char *buf, size_t size, long long ms)
{
	int n = snprintf(buf, size, "%lld.%03lld", ms / 1000, ms % 1000);

	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

void
ciq_bisect_say(const struct ciq_bisect *b, char msg[CIQ_ERRLEN])
{
	const char *t = b->test.s;
	char secs[32];

	seconds(secs, sizeof secs, b->step_ms);
	switch (b->verdict) {
	case CIQ_BISECT_FOUND:
		snprintf(msg, CIQ_ERRLEN, "found %zu culprit%s of '%s' among its %zu suspect%s in %lld steps",
		    b->nculprits, plural(b->nculprits), t, b->n, plural(b->n), b->steps);
		break;
	case CIQ_BISECT_FAILS_ALONE:
		if (b->alone.end == CIQ_RUN_SIGNALED)
			snprintf(msg, CIQ_ERRLEN, "'%s' fails alone (killed by signal %d): not a leak", t,
			    b->alone.status);
		else
			snprintf(msg, CIQ_ERRLEN, "'%s' fails alone (exit status %d): not a leak", t,
			    b->alone.status);
		break;
	case CIQ_BISECT_NO_REPRO:
		snprintf(msg, CIQ_ERRLEN, "does not reproduce: '%s' passes after all its %zu suspect%s",
		    t, b->n, plural(b->n));
		break;
	case CIQ_BISECT_FLAKY:
		snprintf(msg, CIQ_ERRLEN, "does not reproduce: %zu suspect%s then '%s' failed once, "
		    "then passed when run again: the failure is flaky", b->nculprits,
		    plural(b->nculprits), t);
		break;
	case CIQ_BISECT_UNFINISHED:
		if (b->phase == CIQ_BISECT_P_REPLAY)
			snprintf(msg, CIQ_ERRLEN, "--max-steps %lld ran out before the replay: %zu of "
			    "the %zu suspect%s of '%s' are left, minimal but not confirmed",
			    b->max_steps, b->nculprits, b->n, plural(b->n), t);
		else
			snprintf(msg, CIQ_ERRLEN, "--max-steps %lld ran out: %zu of the %zu suspect%s "
			    "of '%s' are left, not a minimal set", b->max_steps, b->nculprits, b->n,
			    plural(b->n), t);
		break;
	case CIQ_BISECT_TIMED_OUT:
		if (b->phase == CIQ_BISECT_P_ALONE)
			snprintf(msg, CIQ_ERRLEN, "'%s' alone timed out after %s s (--step-timeout): "
			    "cannot tell whether it passes alone", t, secs);
		else if (b->phase == CIQ_BISECT_P_ALL)
			snprintf(msg, CIQ_ERRLEN, "all %zu suspect%s then '%s' timed out after %s s "
			    "(--step-timeout): cannot tell whether they make it fail", b->n, plural(b->n),
			    t, secs);
		else
			snprintf(msg, CIQ_ERRLEN, "the replay of %zu suspect%s then '%s' timed out after "
			    "%s s (--step-timeout): the result is not confirmed", b->nculprits,
			    plural(b->nculprits), t, secs);
		break;
	}
}

/* printf '%s\n' ID... | COMMAND ARG..., the suspects set[0..k) then the test. */
static void
replay(FILE *f, const struct ciq_bisect *b, const size_t *set, size_t k)
{
	fputs("printf '%s\\n'", f);
	for (size_t i = 0; i < k; i++) {
		putc(' ', f);
		ciq_shquote(f, b->suspects[set[i]].s, b->suspects[set[i]].len, 0);
	}
	putc(' ', f);
	ciq_shquote(f, b->test.s, b->test.len, 0);
	fputs(" |", f);
	for (size_t i = 0; b->argv[i] != NULL; i++) {
		putc(' ', f);
		ciq_shquote(f, b->argv[i], strlen(b->argv[i]), i == 0);
	}
}

/* The failing sequence of a verdict, as suspects: 1, or 0 when none. */
static int
sequence(const struct ciq_bisect *b, const size_t **set, size_t *k)
{
	switch (b->verdict) {
	case CIQ_BISECT_FOUND:
	case CIQ_BISECT_UNFINISHED:
		*set = b->culprits;
		*k = b->nculprits;
		return 1;
	case CIQ_BISECT_FAILS_ALONE:
		*set = NULL;
		*k = 0;
		return 1;
	default:
		return 0;
	}
}

void
ciq_bisect_text(FILE *f, const struct ciq_bisect *b)
{
	const size_t *set;
	size_t k;

	if (!sequence(b, &set, &k))
		return;
	if (b->verdict == CIQ_BISECT_FOUND)
		fprintf(f, "minimal failing sequence of '%s' (%zu of its %zu suspect%s, then it):\n",
		    b->test.s, k, b->n, plural(b->n));
	else if (b->verdict == CIQ_BISECT_UNFINISHED)
		fprintf(f, "smallest failing sequence of '%s' when --max-steps ran out "
		    "(%zu of its %zu suspect%s, then it; not minimal):\n", b->test.s, k, b->n,
		    plural(b->n));
	else
		fprintf(f, "'%s' fails alone:\n", b->test.s);
	for (size_t i = 0; i < k; i++) {
		fwrite(b->suspects[set[i]].s, 1, b->suspects[set[i]].len, f);
		putc('\n', f);
	}
	fwrite(b->test.s, 1, b->test.len, f);
	fputs("\nreplay: ", f);
	replay(f, b, set, k);
	putc('\n', f);
}

/* Whether the premises held, so the search narrowed the suspects. */
static int
narrowed(const struct ciq_bisect *b)
{
	switch (b->verdict) {
	case CIQ_BISECT_FAILS_ALONE:
	case CIQ_BISECT_NO_REPRO:
		return 0;
	case CIQ_BISECT_TIMED_OUT:
		return b->phase == CIQ_BISECT_P_REPLAY;
	default:
		return 1;
	}
}

void
ciq_bisect_json(FILE *f, const struct ciq_bisect *b, const char *log)
{
	const size_t *set;
	size_t k;
	int seq = sequence(b, &set, &k);

	fprintf(f, "{\"version\":%d,\"failing_test\":", CIQ_BISECT_JSON_VERSION);
	ciq_json_str(f, b->test.s, b->test.len);
	fprintf(f, ",\"verdict\":\"%s\",\"exit_status\":%d,\"culprits\":[", ciq_bisect_word(b),
	    ciq_bisect_status(b));
	for (size_t i = 0; seq && i < k; i++) {
		if (i > 0)
			putc(',', f);
		ciq_json_str(f, b->suspects[set[i]].s, b->suspects[set[i]].len);
	}
	fprintf(f, "],\"suspects\":%zu,\"steps\":%lld,\"timed_out_steps\":%lld,\"method\":%s,"
	    "\"replay\":", b->n, b->steps, b->timed_out,
	    !narrowed(b) ? "null" : b->ddmin ? "\"ddmin\"" : "\"halving\"");
	if (seq) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);

		if (m == NULL)
			ciq_oom(0);
		replay(m, b, set, k);
		if (fclose(m) != 0)
			ciq_oom(len);
		ciq_json_str(f, text, len);
		free(text);
	} else {
		fputs("null", f);
	}
	fputs(",\"log\":", f);
	ciq_json_cstr(f, log);
	fputs("}\n", f);
}

static const char *const phase_name[] = {
	"alone", "all suspects", "halving", "all left, again", "ddmin", "replay"
};

int
ciq_bisect_step_line(const struct ciq_bisect *b, const struct ciq_bisect_step *st,
    char msg[CIQ_ERRLEN])
{
	const char *t = b->test.s;

	if (st->done != NULL) {
		if (st->done->end != CIQ_RUN_TIMEDOUT)
			return 0;
		snprintf(msg, CIQ_ERRLEN, "step %lld timed out after %lld.%03lld s: its runner's "
		    "process group was killed; the step counts as unresolved", st->n,
		    st->done->ms / 1000, st->done->ms % 1000);
		return 1;
	}
	switch (st->phase) {
	case CIQ_BISECT_P_ALONE:
		snprintf(msg, CIQ_ERRLEN, "step %lld: '%s' alone", st->n, t);
		break;
	case CIQ_BISECT_P_ALL:
		snprintf(msg, CIQ_ERRLEN, "step %lld: all %zu suspect%s, then '%s'", st->n, st->run,
		    plural(st->run), t);
		break;
	case CIQ_BISECT_P_RECHECK:
		snprintf(msg, CIQ_ERRLEN, "step %lld, %zu suspects left: neither half fails alone; "
		    "all %zu again", st->n, st->left, st->run);
		break;
	case CIQ_BISECT_P_REPLAY:
		snprintf(msg, CIQ_ERRLEN, "step %lld: replaying the %zu culprit%s, then '%s'", st->n,
		    st->run, plural(st->run), t);
		break;
	default:
		snprintf(msg, CIQ_ERRLEN, "step %lld, %zu suspects left: %s, %zu of them", st->n,
		    st->left, phase_name[st->phase], st->run);
	}
	return 1;
}

void
ciq_bisect_step_log(const struct ciq_bisect *b, const struct ciq_bisect_step *st,
    char msg[CIQ_ERRLEN])
{
	const struct ciq_run *r = st->done;
	const char *counts = st->failed ? "failed" : "passed";
	char how[64];

	if (r == NULL) {
		snprintf(msg, CIQ_ERRLEN, "step %lld (%s): %zu suspect%s, then '%s'", st->n,
		    phase_name[st->phase], st->run, plural(st->run), b->test.s);
		return;
	}
	if (r->end == CIQ_RUN_EXITED)
		snprintf(how, sizeof how, "exit status %d", r->status);
	else if (r->end == CIQ_RUN_SIGNALED)
		snprintf(how, sizeof how, "killed by signal %d", r->status);
	else
		snprintf(how, sizeof how, "timed out");
	if (r->end == CIQ_RUN_TIMEDOUT)
		counts = "unresolved";
	snprintf(msg, CIQ_ERRLEN, "step %lld: %s after %lld.%03lld s%s: %s", st->n, how,
	    r->ms / 1000, r->ms % 1000, r->end == CIQ_RUN_TIMEDOUT ?
	    ", its process group killed" : "", counts);
}
