/*
 * progress.c - the progress line.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "progress.h"

#define RED   "\033[31m"
#define GREEN "\033[32m"
#define BOLD  "\033[1m"
#define RESET "\033[0m"

void
ciq_progress_init(struct ciq_progress *p, FILE *f, enum ciq_progress_mode mode, int color,
    int width, long long interval_ms, const char *build, long long now_ms)
{
	memset(p, 0, sizeof *p);
	p->f = f;
	p->mode = mode;
	p->color = color && mode == CIQ_PROGRESS_LINE;
	p->width = width;
	p->interval_ms = interval_ms > 0 ? interval_ms : 1;
	/* A terminal shows the line at once; a log waits an interval, so a
	 * quick build prints nothing. */
	p->next_ms = mode == CIQ_PROGRESS_LINE ? now_ms : now_ms + p->interval_ms;
	p->build = build;
}

int
ciq_progress_due(const struct ciq_progress *p, long long now_ms)
{
	return p->mode != CIQ_PROGRESS_NONE && now_ms >= p->next_ms;
}

long long
ciq_progress_eta(const struct ciq_progress_sample *s)
{
	long long left = s->total - s->processed, workers = s->live > 0 ? s->live : 1;

	if (!s->published || s->processed <= 0 || s->busy_ms < 0 || left <= 0)
		return -1;
	/* Remaining tests over the live workers, each taking the mean time. */
	return (long long)((double)s->busy_ms / (double)s->processed * (double)left / (double)workers);
}

static void
duration(char *buf, size_t n, long long ms)
{
	long long s = (ms + 999) / 1000;

	if (s < 60)
		snprintf(buf, n, "%llds", s);
	else if (s < 3600)
		snprintf(buf, n, "%lldm%02llds", s / 60, s % 60);
	else
		snprintf(buf, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
}

/* The line, without colour, into buf. */
static void
format(char *buf, size_t n, const struct ciq_progress *p, const struct ciq_progress_sample *s,
    int color)
{
	char eta[32], waited[32];
	long long e = ciq_progress_eta(s);
	int len;

	duration(waited, sizeof waited, s->elapsed_ms);
	if (!s->published) {
		snprintf(buf, n, "ciq-report: build %s: waiting to be published (%s)", p->build, waited);
		return;
	}
	len = snprintf(buf, n, "ciq-report: build %s: %s%lld of %lld done%s, %lld running, "
	    "%lld of %lld workers alive", p->build, color ? BOLD : "", s->processed, s->total,
	    color ? RESET : "", s->running, s->live, s->known);
	if (len < 0 || (size_t)len >= n)
		return;
	if (s->failed >= 0)
		len += snprintf(buf + len, n - (size_t)len, ", %s%lld failed%s",
		    color && s->failed > 0 ? RED : color ? GREEN : "", s->failed, color ? RESET : "");
	if (len < 0 || (size_t)len >= n)
		return;
	if (e >= 0) {
		duration(eta, sizeof eta, e);
		snprintf(buf + len, n - (size_t)len, ", about %s left", eta);
	} else {
		snprintf(buf + len, n - (size_t)len, " (%s)", waited);
	}
}

/* Cut a line to w visible columns (escape sequences take none). */
static void
fit(char *line, int w)
{
	int cols = 0;

	for (char *c = line; *c != '\0'; c++) {
		if (*c == '\033') {
			while (*c != '\0' && *c != 'm')
				c++;
			if (*c == '\0')
				return;
			continue;
		}
		if (((unsigned char)*c & 0xc0) == 0x80)
			continue;
		if (++cols > w) {
			strcpy(c, "\033[0m");
			return;
		}
	}
}

void
ciq_progress_show(struct ciq_progress *p, const struct ciq_progress_sample *s, long long now_ms)
{
	char line[600];

	if (!ciq_progress_due(p, now_ms))
		return;
	p->next_ms = now_ms + p->interval_ms;
	/* Room after the text for fit()'s closing escape sequence. */
	format(line, 512, p, s, p->color);
	if (p->mode == CIQ_PROGRESS_PLAIN) {
		fprintf(p->f, "%s\n", line);
	} else {
		/* One column short, so the cursor never wraps. */
		if (p->width > 1)
			fit(line, p->width - 1);
		fprintf(p->f, "\r\033[K%s", line);
		p->shown = 1;
	}
	fflush(p->f);
}

void
ciq_progress_clear(struct ciq_progress *p)
{
	if (p->mode == CIQ_PROGRESS_LINE && p->shown) {
		fputs("\r\033[K", p->f);
		fflush(p->f);
		p->shown = 0;
	}
}

void
ciq_progress_stderr(struct ciq_progress *p, const char *want, long long interval_ms,
    const char *build)
{
	enum ciq_progress_mode mode = CIQ_PROGRESS_PLAIN;
	const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");
	struct winsize ws;
	int width = 0, tty = isatty(STDERR_FILENO);

	if (strcmp(want, "none") == 0)
		mode = CIQ_PROGRESS_NONE;
	else if (strcmp(want, "line") == 0 || (strcmp(want, "auto") == 0 && tty &&
	    (term == NULL || strcmp(term, "dumb") != 0)))
		mode = CIQ_PROGRESS_LINE;
	if (tty && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0)
		width = ws.ws_col;
	ciq_progress_init(p, stderr, mode, no_color == NULL || *no_color == '\0', width,
	    mode == CIQ_PROGRESS_LINE ? 500 : interval_ms, build, ciq_now_ms());
}
