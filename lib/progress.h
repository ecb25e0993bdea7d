/*
 * progress.h - what ciq-report shows while it waits.
 *
 * On a terminal, one line rewritten in place; elsewhere (a CI log), a
 * plain line every few seconds, so the log shows the build moving. The
 * caller decides the mode (isatty, TERM, NO_COLOR) and the stream.
 */
#ifndef CIQ_PROGRESS_H
#define CIQ_PROGRESS_H

#include <stdio.h>

enum ciq_progress_mode {
	CIQ_PROGRESS_NONE,
	CIQ_PROGRESS_PLAIN,  /* a line every interval, for logs */
	CIQ_PROGRESS_LINE    /* one line kept up to date, for a terminal */
};

struct ciq_progress {
	FILE *f;
	enum ciq_progress_mode mode;
	int color;                /* ANSI colours (LINE mode) */
	int width;                /* columns of the terminal, 0 unknown */
	long long interval_ms;    /* PLAIN: between lines; LINE: between redraws */
	long long next_ms;        /* when the next line is due */
	int shown;                /* LINE: a line is on the screen */
	const char *build;
};

/* One look at the build, from the status script and the stats. */
struct ciq_progress_sample {
	int published;            /* 0: the leader has not published yet */
	long long elapsed_ms;     /* since the wait began */
	long long total, queued, running, processed;
	long long live, known;    /* workers alive, workers ever seen */
	long long failed;         /* failed tests so far, -1 unknown */
	long long busy_ms;        /* test time recorded so far, -1 unknown */
};

/*
 * Set up. now_ms is on the monotonic clock; the first line is due at once
 * in LINE mode, interval_ms later in PLAIN mode. Can't fail.
 */
void ciq_progress_init(struct ciq_progress *p, FILE *f, enum ciq_progress_mode mode,
    int color, int width, long long interval_ms, const char *build, long long now_ms);

/*
 * Set up for standard error as asked: want is auto, line, plain or none;
 * auto is a line on a terminal whose TERM is not dumb, plain lines
 * elsewhere. NO_COLOR set and not empty (https://no-color.org) means no
 * colour. interval_ms is for plain lines. Can't fail.
 */
void ciq_progress_stderr(struct ciq_progress *p, const char *want, long long interval_ms,
    const char *build);

/* Whether a line is due at now_ms (so the caller reads what it needs). */
int ciq_progress_due(const struct ciq_progress *p, long long now_ms);

/* Show the sample if a line is due. */
void ciq_progress_show(struct ciq_progress *p, const struct ciq_progress_sample *s,
    long long now_ms);

/* Erase the terminal line, before anything else is written. */
void ciq_progress_clear(struct ciq_progress *p);

/*
 * Estimated ms until the build is done, from the mean duration of the
 * tests recorded so far and the workers alive; -1 when there is nothing
 * to go on.
 */
long long ciq_progress_eta(const struct ciq_progress_sample *s);

#endif
