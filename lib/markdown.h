/*
 * markdown.h - a build's summary in GitHub-flavoured Markdown, short
 * enough for a GitHub job summary ($GITHUB_STEP_SUMMARY) or a Buildkite
 * annotation (buildkite-agent annotate), which both take at most 1 MiB.
 *
 * Ids are escaped so that no byte of theirs is read as Markdown or HTML;
 * outputs go in code blocks, cut to their last lines. Lists are capped,
 * with a line saying how many were left out.
 */
#ifndef CIQ_MARKDOWN_H
#define CIQ_MARKDOWN_H

#include <stdio.h>

#include "summary.h"

/* Write the summary to f; slowest: rows of the slowest-tests table (0: none). */
void ciq_markdown_write(FILE *f, const struct ciq_summary *sum, const struct ciq_verdict *v,
    size_t slowest);

#endif
