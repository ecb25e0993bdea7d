/*
 * report.h - a build's summary as text for people and as JSON for
 * programs (the document --json prints and --webhook posts).
 *
 * Writers only write to the stream they are given; the caller checks it
 * (ferror) and decides what a failed write means.
 */
#ifndef CIQ_REPORT_H
#define CIQ_REPORT_H

#include <stdio.h>

#include "summary.h"

/* The version of the JSON document's layout; see ciq-report(1). */
#define CIQ_REPORT_JSON_VERSION 1

/* The text report, ending with the verdict line. slowest: tests listed
 * in the slowest-tests section (0 leaves it out). */
void ciq_report_text(FILE *f, const struct ciq_summary *sum, const struct ciq_verdict *v,
    size_t slowest);

/* The JSON document. */
void ciq_report_json(FILE *f, const struct ciq_summary *sum, const struct ciq_verdict *v);

/* ms as seconds with three decimals ("12.345"), into buf; "?" when ms < 0. */
const char *ciq_report_seconds(char *buf, size_t n, long long ms);

#endif
