/*
 * readfile.h - read a file or a descriptor into memory: whole (a list of
 * ids, a JUnit report), or keeping the tail (a test's output, stored
 * with its result).
 *
 * Outputs are capped at CIQ_OUTPUT_MAX bytes. The end of a log is where
 * a failure shows, so a longer output keeps its last bytes and starts
 * with a line saying how much was cut.
 */
#ifndef CIQ_READFILE_H
#define CIQ_READFILE_H

#include <stddef.h>

#include "errlen.h"

#define CIQ_OUTPUT_MAX 65536

/*
 * Read path ("-" for stdin) into a new buffer (*out, *len; the caller
 * frees *out), its last CIQ_OUTPUT_MAX bytes at most, as above. Returns
 * 0, or -1 with err filled ("cannot open 'PATH': ...").
 */
int ciq_readfile_tail(const char *path, char **out, size_t *len, char err[CIQ_ERRLEN]);

/*
 * Read all of fd (name is for messages) into a new buffer (*out, *len,
 * with one spare byte after the data; the caller frees *out). More than
 * max bytes is an error. Returns 0, or -1 with err filled. fd stays open.
 */
int ciq_readfile_fd(int fd, const char *name, size_t max, char **out, size_t *len,
    char err[CIQ_ERRLEN]);

#endif
