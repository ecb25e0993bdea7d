/*
 * attach.h - what ciq-ack and ciq-requeue attach to results: the test's
 * output (--output) and the runner's JUnit report (--junit), read and
 * checked before anything is sent.
 */
#ifndef CIQ_ATTACH_H
#define CIQ_ATTACH_H

#include <stddef.h>

#include "errlen.h"

struct ciq_attach {
	char *output;     /* the output's tail (readfile.h) in its stored form
	                     (compress.h), or NULL without --output */
	size_t outlen;
	char *cases;      /* the report's testcases encoded for the server (cases.h),
	                     in their stored form (compress.h), or NULL without --junit */
	size_t caseslen;
};

/*
 * Check the command line and read the attachments of ntests tests:
 * output_path and junit_path may be NULL ("-" is stdin, for one of them
 * at most); a JUnit report describes one run, so it takes one test. The
 * testcases are encoded with the attempt's result (p, f, s, or r for a
 * requeue) and worker, this worker's id. Returns 0 with a filled; or
 * CIQ_ATTACH_USAGE (no test, --junit with several, stdin twice) or
 * CIQ_ATTACH_DATA (a file that cannot be read or is not JUnit), with a
 * empty and err filled ("no test given", "cannot open 'F': ..."). Free a
 * with ciq_attach_free either way.
 */
#define CIQ_ATTACH_USAGE -1
#define CIQ_ATTACH_DATA  -2
int ciq_attach_read(struct ciq_attach *a, int ntests, const char *output_path,
    const char *junit_path, char result, const char *worker, char err[CIQ_ERRLEN]);

void ciq_attach_free(struct ciq_attach *a);

#endif
