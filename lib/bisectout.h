/*
 * bisectout.h - what ciq-bisect says (bisect.h): a line for each step,
 * the verdict, the result as text or JSON, and the command line that
 * replays it (shquote.h).
 *
 * Writers only write to the stream or buffer they are given. A message
 * that names an id may cut it to fit CIQ_ERRLEN; the text and JSON
 * results never cut one.
 */
#ifndef CIQ_BISECTOUT_H
#define CIQ_BISECTOUT_H

#include <stdio.h>

#include "bisect.h"
#include "errlen.h"

/* The exit status of a verdict (exit.h): 0 for culprits found. */
int ciq_bisect_status(const struct ciq_bisect *b);

/* The verdict in one word: found, fails-alone, does-not-reproduce,
 * flaky, unfinished, timed-out. */
const char *ciq_bisect_word(const struct ciq_bisect *b);

/* The verdict in one line, for standard error. */
void ciq_bisect_say(const struct ciq_bisect *b, char msg[CIQ_ERRLEN]);

/*
 * A step's progress line, for standard error: before the step, what it
 * runs ("step 4, 37 suspects left: halving, 18 of them"); after it, only
 * when it timed out. Returns 1 when there is a line, else 0.
 */
int ciq_bisect_step_line(const struct ciq_bisect *b, const struct ciq_bisect_step *st,
    char msg[CIQ_ERRLEN]);

/* A step's line for the runners' log: before it, what it runs; after
 * it, how it ended and what that counts as. */
void ciq_bisect_step_log(const struct ciq_bisect *b, const struct ciq_bisect_step *st,
    char msg[CIQ_ERRLEN]);

/*
 * The text result, for a verdict with a failing sequence (found,
 * unfinished, fails-alone): a line saying what it is, the sequence, one
 * id a line, byte for byte, then "replay: " and the command line that
 * replays it. Nothing for the other verdicts.
 */
void ciq_bisect_text(FILE *f, const struct ciq_bisect *b);

/* The version of the JSON object's layout; see ciq-bisect(1). */
#define CIQ_BISECT_JSON_VERSION 1

/*
 * The result as one JSON object on one line: version, failing_test,
 * verdict (the word), exit_status, culprits (ids; empty unless found or unfinished), suspects,
 * steps, timed_out_steps, method ("halving", "ddmin", or null when the
 * premises did not hold), replay (the command line, or null without a
 * failing sequence), log (the runners' output file, or null).
 */
void ciq_bisect_json(FILE *f, const struct ciq_bisect *b, const char *log);

#endif
