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

#include "order.h"
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

/* ms for people, into buf: "850 ms", "12.3 s", "4m 05s", "1h 02m"; "?" when ms < 0. */
const char *ciq_report_human(char *buf, size_t n, long long ms);

/*
 * A worker's recorded order (order.h), as ciq-report --order prints it:
 * the ids one a line, byte for byte, nothing else; or a JSON document
 * with the version, build, namespace, worker and ids (each id a JSON
 * string: a byte that is not valid UTF-8 becomes U+FFFD, see json.h).
 */
void ciq_report_order_text(FILE *f, const struct ciq_order *o);
void ciq_report_order_json(FILE *f, const struct ciq_order *o, const char *build, const char *ns,
    const char *worker);

#endif
