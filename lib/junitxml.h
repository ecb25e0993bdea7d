/*
 * junitxml.h - reading a test runner's JUnit XML report.
 *
 * Runners write JUnit XML in many dialects (pytest, Jest's jest-junit,
 * Maven Surefire, rspec_junit_formatter, go-junit-report, ...). They
 * agree on little more than this, which is all the reader takes:
 *
 *	<testsuites> or <testsuite> as the root element, testsuites nested
 *	at will;
 *	<testcase> anywhere below it, with the attributes name, classname,
 *	time (seconds, "1,234.5" allowed) and file (else its nearest
 *	testsuite's file);
 *	in a testcase, <failure>, <error> or <skipped>, with the attributes
 *	message and type and a text. The first failure or error decides;
 *	a skip counts when there is neither.
 *
 * Everything else (properties, system-out, Surefire's rerunFailure and
 * flakyFailure, unknown elements and attributes) is passed over. The XML
 * is read as XML 1.0 in UTF-8: the declaration, processing instructions,
 * comments, a DOCTYPE, CDATA sections, the five predefined entities and
 * character references. Being a reader of reports rather than a
 * validator, it lets pass what does not hide the document's structure:
 * an unknown entity (one a DOCTYPE declares, too) stays as written; a
 * character reference to a control character gives that character, and
 * one that can be no character (NUL, a surrogate, past U+10FFFF) gives
 * U+FFFD; bytes that are not valid UTF-8 and control characters are kept
 * (the report's writers clean them); NUL bytes are dropped. What it
 * refuses is a document whose structure is broken (a tag not closed, an
 * end tag that does not match, text outside the root, a file cut short)
 * or that is not JUnit (another root element).
 *
 * Values longer than the caps of lib/cases.h are cut: names and messages
 * keep their start, texts their start and end, with a note in between
 * saying how many bytes were dropped.
 */
#ifndef CIQ_JUNITXML_H
#define CIQ_JUNITXML_H

#include <stddef.h>

#include "cases.h"
#include "errlen.h"

/* The largest report read: a larger file is refused. */
#define CIQ_JUNITXML_FILE_MAX (256L * 1024 * 1024)

/*
 * Parse the report xml[0..n) and append its testcases to out (zeroed by
 * the caller, or holding cases already). Returns 0, or -1 with err filled
 * ("line 12: ..."); out is then freed and zeroed.
 */
int ciq_junitxml_parse(const char *xml, size_t n, struct ciq_cases *out, char err[CIQ_ERRLEN]);

/*
 * Read the report at path ("-" for standard input) and parse it as above.
 * Returns 0, or -1 with err filled ("'PATH' line 12: ..." or "cannot
 * open 'PATH': ...").
 */
int ciq_junitxml_read(const char *path, struct ciq_cases *out, char err[CIQ_ERRLEN]);

#endif
