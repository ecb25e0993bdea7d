/*
 * idlist.h - the list of test ids a worker reads before populating.
 *
 * One id per line. Blank lines (only spaces and tabs) are skipped and a
 * trailing CR is stripped; every other byte is kept exactly. An id with a
 * NUL byte or longer than CIQ_ID_MAX is an error for the whole list, so
 * nothing is published from a list that is partly wrong. Later copies of
 * an id are dropped and remembered, for a warning.
 */
#ifndef CIQ_IDLIST_H
#define CIQ_IDLIST_H

#include <stddef.h>

#include "errlen.h"

#define CIQ_ID_MAX 65536

struct ciq_id {
	const char *s;     /* points into one of the list's buffers */
	size_t len;
};

struct ciq_dup {
	struct ciq_id id;
	const char *file;  /* the input's name as given to ciq_idlist_read */
	size_t line;
};

struct ciq_idlist {
	struct ciq_id *ids;
	size_t n, cap;
	struct ciq_dup *dups;
	size_t ndups, dupcap;
	char **bufs;       /* one buffer per input, freed with the list */
	size_t nbufs;
	size_t *slots;     /* hash set of indexes + 1 into ids; 0 is empty */
	size_t nslots;
};

void ciq_idlist_init(struct ciq_idlist *l);
void ciq_idlist_free(struct ciq_idlist *l);

/*
 * Read every line of fd (name is for messages) and append the new ids.
 * Returns 0, or -1 with err saying which line of which input is wrong
 * (or why reading failed); the list is then unusable.
 */
int ciq_idlist_read(struct ciq_idlist *l, int fd, const char *name, char err[CIQ_ERRLEN]);

/*
 * Add the id s[0..len) unless the list has it: 1 when added, 0 for a
 * duplicate (not remembered). s must live as long as the list.
 */
int ciq_idlist_add(struct ciq_idlist *l, const char *s, size_t len);

/*
 * The same for the len bytes at buf, which the list takes: buf comes
 * from malloc, with room for one byte more (as readfile.h's readers
 * leave), and is freed with the list, even on an error.
 */
int ciq_idlist_take(struct ciq_idlist *l, char *buf, size_t len, const char *name,
    char err[CIQ_ERRLEN]);

/*
 * Hex SHA-256 of the set of ids, independent of their order: the ids are
 * sorted bytewise and each is hashed as an 8-byte big-endian length and
 * its bytes. out must hold 65 bytes.
 */
void ciq_idlist_digest(const struct ciq_idlist *l, char out[65]);

/*
 * Put the ids in the documented seeded order: sort bytewise, then a
 * Fisher-Yates shuffle from the last position down, swapping position i
 * with ciq_prng_below(i + 1), on a prng seeded with the seed string (see
 * prng.h). The same seed and the same set give the same order anywhere.
 */
void ciq_idlist_shuffle(struct ciq_idlist *l, const char *seed);

#endif
