/*
 * split.h - slow units split into their parts before the leader publishes
 * (ciq-populate --split-command CMD --split-threshold SECONDS|auto).
 *
 * The split command is the user's: given a unit (a spec file, a test
 * class) as its one argument, it prints the unit's parts (examples, test
 * methods) one a line, each an id the runner takes on its own. Parts
 * follow the rules of idlist.h. A command that fails, runs past its time
 * limit, prints nothing or an id idlist.h refuses leaves the unit whole:
 * a test is never lost to a broken splitter.
 */
#ifndef CIQ_SPLIT_H
#define CIQ_SPLIT_H

#include <stddef.h>

#include "errlen.h"
#include "idlist.h"
#include "session.h"

/* One unit that was split: the report names it (meta "split:UNIT"). */
struct ciq_split_unit {
	struct ciq_id id;
	size_t first, parts;    /* its parts: list.ids[first..first + parts) */
};

struct ciq_split {
	struct ciq_idlist list;       /* the list to publish: parts in place of units */
	struct ciq_idlist parts;      /* the parts alone (list's ids, borrowed) */
	struct ciq_split_unit *units; /* the units split, in list order */
	size_t nunits;
	char **bufs;                  /* the commands' outputs, which parts point into */
	size_t nbufs;
};

/* Called for a unit left whole, with why ("exited 3", "printed nothing");
 * unit NULL when nothing could be split at all. */
typedef void ciq_split_warn(void *arg, const struct ciq_id *unit, const char *why);

/*
 * Build s from l: each id whose duration ms[i] (-1: unknown, never split)
 * is over threshold_ms is replaced by the parts cmd prints for it (run as
 * sh -c 'CMD "$1"' with the unit as $1), or left whole after a warning.
 * All the commands together may take budget_ms: one past it is killed. A part that is already in the list is dropped.
 * l must outlive s. Can't fail; free s with ciq_split_free().
 */
void ciq_split_run(struct ciq_split *s, const struct ciq_idlist *l, const long long *ms,
    long long threshold_ms, const char *cmd, long long budget_ms, ciq_split_warn *warn,
    void *arg);

void ciq_split_free(struct ciq_split *s);

/*
 * The threshold of --split-threshold auto: the suite's total over the
 * workers, a worker's fair share, so that no unit outlasts it. Durations
 * ms[0..n), -1 unknown: those count for the median of the known ones.
 * 0 when nothing is known.
 */
long long ciq_split_auto(const long long *ms, size_t n, long long workers);

/*
 * What the leader does with the settings: split the units of l longer
 * than --split-threshold (auto: ciq_split_auto for --workers) into the
 * parts --split-command prints, all within half the followers'
 * --init-timeout; warn(arg, unit, why) for each unit left whole, and
 * warn(arg, NULL, why) when nothing can be split. Returns CIQ_EX_OK with
 * *done 1 and split filled (free it), or *done 0: nothing to split; or
 * an exit status with msg filled (the history could not be read).
 */
int ciq_split_slow(struct ciq_session *s, const struct ciq_idlist *l, struct ciq_split *split,
    int *done, ciq_split_warn *warn, void *arg, char msg[CIQ_ERRLEN]);

/*
 * Fold into the history, for each unit split whose parts all have a
 * duration there, the sum of its parts' durations: a split unit no
 * longer runs whole, and this keeps its own duration current. Returns
 * CIQ_EX_OK or an exit status with msg filled.
 */
int ciq_split_refresh(struct ciq_session *s, const struct ciq_split *split,
    char msg[CIQ_ERRLEN]);

#endif
