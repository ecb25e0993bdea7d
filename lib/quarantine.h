/*
 * quarantine.h - the known-flaky list: the tests whose failure the report
 * does not count (ciq-report --known-flaky FILE, CIQ_KNOWN_FLAKY).
 *
 * The file is one of two kinds, told apart by its content, never by its
 * name:
 *
 *	a JUnit XML report, when its first text (after a byte-order mark
 *	and white space) is an XML declaration, a comment, a DOCTYPE, or a
 *	<testsuites> or <testsuite> tag. It is read with junitxml.h, and
 *	each testcase gives one id: its name attribute. That is the inverse
 *	of how ciq's own JUnit writer (junit.h) names a unit's testcase (the
 *	id as name, the suite as classname), so a file that ciq-report
 *	--junit wrote lists its tests back. A testcase without a name gives
 *	nothing. What the reader changes does not round-trip: names longer
 *	than CIQ_CASE_NAME_MAX are cut, and bytes that the writer replaced
 *	(invalid UTF-8, control characters) are gone; such ids are not
 *	matched, so their failures count.
 *
 *	anything else is a plain list, one id a line, with the rules of
 *	idlist.h: blank lines (only spaces and tabs) are skipped, a trailing
 *	CR is stripped, every other byte is kept exactly; an id with a NUL
 *	byte or longer than CIQ_ID_MAX is an error.
 *
 * An id listed more than once counts once. An empty file, or one with no
 * id, is an empty list: nothing is quarantined.
 */
#ifndef CIQ_QUARANTINE_H
#define CIQ_QUARANTINE_H

#include <stddef.h>

#include "cases.h"
#include "errlen.h"
#include "idlist.h"

/* The largest file read, either kind: a larger one is refused. */
#define CIQ_QUARANTINE_FILE_MAX (256L * 1024 * 1024)

struct ciq_quarantine {
	struct ciq_id *ids;     /* sorted bytewise, each once */
	size_t n;
	int junit;              /* the file was a JUnit report */
	char *buf;              /* the file's bytes (a plain list's belong to list) */
	struct ciq_idlist list; /* a plain list, which ids point into */
	struct ciq_cases cases; /* a JUnit report's testcases, which ids point into */
};

/*
 * Read the list at path ("-" for standard input) into q. Returns
 * CIQ_EX_OK, or CIQ_EX_DATAERR with err filled ("cannot open 'PATH':
 * ...", "cannot read 'PATH': Is a directory", "PATH:3: id contains a
 * NUL byte", "'PATH' line 12: ..." for a broken JUnit report); q is then
 * empty. Free q with ciq_quarantine_free() either way.
 */
int ciq_quarantine_read(struct ciq_quarantine *q, const char *path, char err[CIQ_ERRLEN]);

/* 1 when id[0..len) is listed, else 0. q may be empty (zeroed). */
int ciq_quarantine_has(const struct ciq_quarantine *q, const char *id, size_t len);

void ciq_quarantine_free(struct ciq_quarantine *q);

#endif
