/*
 * attach.c - read a test's output and the runner's JUnit report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "attach.h"
#include "cases.h"
#include "compress.h"
#include "junitxml.h"
#include "readfile.h"

/* The output's tail, in its stored form (compress.h): the server keeps
 * it until the build expires, so it is deflated here, once, by the
 * worker. */
static int
read_output(const char *path, struct ciq_attach *a, char err[CIQ_ERRLEN])
{
	char *raw;
	size_t n;

	if (ciq_readfile_tail(path, &raw, &n, err) == -1)
		return -1;
	a->output = ciq_compress_encode(raw, n, &a->outlen);
	free(raw);
	return 0;
}

int
ciq_attach_read(struct ciq_attach *a, int ntests, const char *output_path,
    const char *junit_path, char result, const char *worker, char err[CIQ_ERRLEN])
{
	struct ciq_cases read;
	char *encoded;
	size_t len;

	memset(a, 0, sizeof *a);
	if (ntests == 0) {
		snprintf(err, CIQ_ERRLEN, "no test given");
		return CIQ_ATTACH_USAGE;
	}
	/* One report describes one run: it cannot be shared out among tests. */
	if (junit_path != NULL && ntests > 1) {
		snprintf(err, CIQ_ERRLEN, "--junit takes one test, not %d", ntests);
		return CIQ_ATTACH_USAGE;
	}
	if (junit_path != NULL && output_path != NULL && strcmp(junit_path, "-") == 0 &&
	    strcmp(output_path, "-") == 0) {
		snprintf(err, CIQ_ERRLEN, "--output and --junit cannot both read standard input");
		return CIQ_ATTACH_USAGE;
	}
	if (output_path != NULL && read_output(output_path, a, err) == -1)
		return CIQ_ATTACH_DATA;
	if (junit_path == NULL)
		return 0;
	memset(&read, 0, sizeof read);
	if (ciq_junitxml_read(junit_path, &read, err) == -1)
		return CIQ_ATTACH_DATA;
	read.result = result;
	read.worker = ciq_strdup(worker);
	encoded = ciq_cases_encode(&read, &len);
	ciq_cases_free(&read);
	/* Many testcases of one report share their class and file names:
	 * they deflate well too. */
	a->cases = ciq_compress_encode(encoded, len, &a->caseslen);
	free(encoded);
	return 0;
}

void
ciq_attach_free(struct ciq_attach *a)
{
	free(a->output);
	free(a->cases);
	memset(a, 0, sizeof *a);
}
