/*
 * markdown.c - the Markdown summary.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "markdown.h"
#include "report.h"
#include "utf8.h"

/* Caps that keep the document far below 1 MiB. */
#define SHOWN_OUTPUTS   30     /* failures shown with their output */
#define SHOWN_TESTS     200    /* entries of any other list */
#define OUTPUT_LINES    50     /* the last lines of an output */
#define OUTPUT_BYTES    4096   /* and at most this much of it */

/*
 * Write s[0..n) as inline text: valid UTF-8 and printable, with every
 * ASCII character that Markdown or HTML could read as markup written as
 * a character reference, so an id shows as it is, in a table cell too.
 */
static void
text(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned int cp;
		size_t len = ciq_utf8_len(s + i, n - i, &cp);

		if (len == 0) {
			fputs(CIQ_UTF8_REPLACEMENT, f);
			i++;
			continue;
		}
		if (cp == '\t')
			putc(' ', f);
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			;
		else if (cp < 0x80 && strchr("\\`*_{}[]<>()#+-.!|~:@&\"'$", (int)cp) != NULL)
			fprintf(f, "&#%u;", cp);
		else
			fwrite(s + i, 1, len, f);
		i += len;
	}
}

static void
code(FILE *f, const char *s, size_t n)
{
	fputs("<code>", f);
	text(f, s, n);
	fputs("</code>", f);
}

static void
ccode(FILE *f, const char *s)
{
	code(f, s, strlen(s));
}

static const char *
plural(long long n)
{
	return n == 1 ? "" : "s";
}

/*
 * An output in a fenced code block: its last OUTPUT_LINES lines and
 * OUTPUT_BYTES bytes, valid UTF-8, control characters dropped, and a
 * fence longer than any run of backticks inside.
 */
static void
output(FILE *f, const char *s, size_t n)
{
	size_t start, lines = 1, total = 1, shown = 1, run = 0, longest = 0, fence;

	if (n > 0 && s[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++)
		total += s[i] == '\n';
	/* Back from the end, to the start of the last lines that fit. */
	for (start = n; start > 0; start--) {
		if (s[start - 1] == '\n' && lines++ == OUTPUT_LINES)
			break;
		if (n - start >= OUTPUT_BYTES) {
			const char *nl = memchr(s + start, '\n', n - start);

			/* Begin on a whole line, or at least a whole character. */
			if (nl != NULL)
				start = (size_t)(nl - s) + 1;
			while (start < n && ((unsigned char)s[start] & 0xc0) == 0x80)
				start++;
			break;
		}
	}
	for (size_t i = start; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	fence = longest >= 3 ? longest + 1 : 3;
	if (start > 0) {
		for (size_t i = start; i < n; i++)
			shown += s[i] == '\n';
		fprintf(f, "The last %zu of %zu lines:\n\n", shown, total);
	}
	for (size_t i = 0; i < fence; i++)
		putc('`', f);
	fputs("text\n", f);
	for (size_t i = start; i < n;) {
		unsigned int cp;
		size_t len = ciq_utf8_len(s + i, n - i, &cp);

		if (len == 0) {
			fputs(CIQ_UTF8_REPLACEMENT, f);
			i++;
			continue;
		}
		if (cp == '\n' || cp == '\t' || !(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)))
			fwrite(s + i, 1, len, f);
		i += len;
	}
	putc('\n', f);
	for (size_t i = 0; i < fence; i++)
		putc('`', f);
	fputs("\n", f);
}

static void
more(FILE *f, size_t shown, size_t n)
{
	if (n > shown)
		fprintf(f, "\n… and %zu more.\n", n - shown);
}

static const char *
mark(const char *word)
{
	if (strcmp(word, "passed") == 0)
		return "\xe2\x9c\x85";          /* U+2705 */
	if (strcmp(word, "failed") == 0)
		return "\xe2\x9d\x8c";          /* U+274C */
	if (strcmp(word, "unfinished") == 0)
		return "\xe2\x8f\xb3";          /* U+23F3 */
	return "\xe2\x9a\xa0\xef\xb8\x8f";  /* U+26A0 U+FE0F */
}

/* Failed tests, or the quarantined ones, with their outputs. */
static void
failures(FILE *f, const char *title, const struct ciq_list *l)
{
	char sec[32];
	size_t n = l->n;
	int in_list = 0;

	if (n == 0)
		return;
	fprintf(f, "\n### %s (%zu)\n\n", title, n);
	for (size_t i = 0; i < n && i < SHOWN_TESTS; i++) {
		const struct ciq_test *t = l->v[i];
		long long attempts = ciq_test_attempts(t);

		if (i >= SHOWN_OUTPUTS || t->output == NULL) {
			fputs("- ", f);
			code(f, t->id, t->len);
			fputs(": worker ", f);
			ccode(f, t->worker);
			fprintf(f, ", %s, %lld attempt%s%s\n", ciq_report_human(sec, sizeof sec, t->ms),
			    attempts, plural(attempts), t->output == NULL ? ", no output" : "");
			in_list = 1;
			continue;
		}
		if (in_list)
			putc('\n', f);
		in_list = 0;
		fputs("<details><summary>", f);
		code(f, t->id, t->len);
		fputs(": worker ", f);
		ccode(f, t->worker);
		fprintf(f, ", %s, %lld attempt%s</summary>\n\n", ciq_report_human(sec, sizeof sec, t->ms),
		    attempts, plural(attempts));
		output(f, t->output, t->outlen);
		fputs("\n</details>\n\n", f);
	}
	more(f, SHOWN_TESTS, n);
}

/* A list of ids, each with a note. */
static void
list(FILE *f, const struct ciq_summary *sum, const char *title, const struct ciq_list *l,
    int kind)
{
	char sec[32];

	if (l->n == 0)
		return;
	fprintf(f, "\n### %s (%zu)\n\n", title, l->n);
	for (size_t i = 0; i < l->n && i < SHOWN_TESTS; i++) {
		const struct ciq_test *t = l->v[i];

		fputs("- ", f);
		code(f, t->id, t->len);
		switch (kind) {
		case 'f':
			fputs(": passed on worker ", f);
			ccode(f, t->worker);
			if (t->requeues > 0)
				fprintf(f, " after %lld requeue%s", t->requeues, plural(t->requeues));
			break;
		case 'q':
			fprintf(f, ": requeued %lld time%s", t->requeues, plural(t->requeues));
			break;
		case 'k':
			fputs(": passed on worker ", f);
			ccode(f, t->worker);
			break;
		case 'r':
			fprintf(f, ": reclaimed %lld time%s", t->reclaims, plural(t->reclaims));
			break;
		case 'u':
			if (t->running) {
				fputs(": still running on worker ", f);
				ccode(f, t->holder);
				fprintf(f, ", for %s",
				    ciq_report_human(sec, sizeof sec, ciq_test_running_ms(sum, t)));
			} else {
				fputs(": still queued", f);
			}
			break;
		}
		putc('\n', f);
	}
	more(f, SHOWN_TESTS, l->n);
}

void
ciq_markdown_write(FILE *f, const struct ciq_summary *sum, const struct ciq_verdict *v,
    size_t slowest)
{
	char a[32], b[32];

	/* The verdict line is ours: words, numbers and a colon. */
	fprintf(f, "### %s %s\n\nciq build ", mark(v->word), v->line);
	ccode(f, v->build);
	if (v->ns != NULL && *v->ns != '\0') {
		fputs(" (namespace ", f);
		ccode(f, v->ns);
		putc(')', f);
	}
	fprintf(f, ": %lld test%s, %zu worker%s", sum->total, plural(sum->total), sum->nworkers,
	    plural((long long)sum->nworkers));
	if (sum->wall_ms >= 0)
		fprintf(f, ", wall time %s, test time %s", ciq_report_human(a, sizeof a, sum->wall_ms),
		    ciq_report_human(b, sizeof b, sum->busy_ms));
	if (sum->utilisation >= 0)
		fprintf(f, ", utilisation %.0f%%", sum->utilisation * 100);
	fputs(".\n\n| passed | failed | skipped | flaky | requeued | reclaimed | never run |\n"
	    "|---:|---:|---:|---:|---:|---:|---:|\n", f);
	fprintf(f, "| %lld | %lld | %lld | %lld | %lld | %lld | %zu |\n", sum->passed, sum->failed,
	    sum->skipped, sum->flaky, sum->requeued, sum->reclaimed, sum->unrun.n);
	failures(f, "Failed tests", &sum->failures);
	failures(f, "Quarantined: failed, not counted", &sum->quarantined_tests);
	list(f, sum, "Flaky tests", &sum->flaky_tests, 'f');
	list(f, sum, "Known flaky, passed here", &sum->known_passed, 'k');
	list(f, sum, "Requeued tests", &sum->requeued_tests, 'q');
	list(f, sum, "Reclaimed tests", &sum->reclaimed_tests, 'r');
	list(f, sum, "Never run", &sum->unrun, 'u');
	if (slowest > 0) {
		struct ciq_test **top = ciq_calloc(slowest, sizeof *top);
		size_t n = ciq_summary_slowest(sum, top, slowest);

		if (n > 0)
			fprintf(f, "\n### Slowest tests\n\n| test | duration | worker |\n|---|---:|---|\n");
		for (size_t i = 0; i < n; i++) {
			fputs("| ", f);
			code(f, top[i]->id, top[i]->len);
			fprintf(f, " | %s | ", ciq_report_human(a, sizeof a, top[i]->ms));
			ccode(f, top[i]->worker);
			fputs(" |\n", f);
		}
		free(top);
	}
	if (sum->nworkers > 0)
		fputs("\n### Workers\n\n| worker | tests | passed | failed | skipped | requeued | "
		    "reclaimed | busy | idle |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", f);
	for (size_t i = 0; i < sum->nworkers && i < SHOWN_TESTS; i++) {
		const struct ciq_worker_stats *w = &sum->workers[i];

		fputs("| ", f);
		ccode(f, w->id);
		fprintf(f, " | %lld | %lld | %lld | %lld | %lld | %lld | %s | %s |\n", w->reserved,
		    w->passed, w->failed, w->skipped, w->requeued, w->reclaimed,
		    ciq_report_human(a, sizeof a, w->busy_ms), ciq_report_human(b, sizeof b, w->idle_ms));
	}
	more(f, SHOWN_TESTS, sum->nworkers);
}
