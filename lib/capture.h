/*
 * capture.h - a test's output, read for storing with its result.
 *
 * Outputs are capped at CIQ_OUTPUT_MAX bytes. The end of a log is where
 * a failure shows, so a longer output keeps its last bytes and starts
 * with a line saying how much was cut.
 */
#ifndef CIQ_CAPTURE_H
#define CIQ_CAPTURE_H

#include <stddef.h>

#include "conf.h"

#define CIQ_OUTPUT_MAX 65536

/*
 * Read path ("-" for stdin) into a new buffer (*out, *len; the caller
 * frees *out). Returns 0, or -1 with err filled.
 */
int ciq_capture_read(const char *path, char **out, size_t *len, char err[CIQ_ERRLEN]);

/*
 * Read all of fd (name is for messages) into a new buffer (*out, *len,
 * with one spare byte after the data; the caller frees *out). More than
 * max bytes is an error. Returns 0, or -1 with err filled. fd stays open.
 */
int ciq_capture_all(int fd, const char *name, size_t max, char **out, size_t *len,
    char err[CIQ_ERRLEN]);

#endif
