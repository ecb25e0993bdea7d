/*
 * junit.h - a build's results as one JUnit XML report, merged across
 * every worker, for CI test reports (CircleCI store_test_results, GitLab
 * artifacts:reports:junit, Buildkite Test Engine, Jenkins).
 *
 * The document validates against the JUnit schema of the Jenkins xUnit
 * plugin (tests/junit/junit-10.xsd): one <testsuite> with a <testcase>
 * per test, whatever worker ran it, and one more <testsuite> per unit of
 * work that carries its runner's own testcases (ciq-ack --junit).
 * ciq-report(1) describes the layout.
 */
#ifndef CIQ_JUNIT_H
#define CIQ_JUNIT_H

#include <stdio.h>

#include "summary.h"

/* Write the report to f; the caller checks f for errors. */
void ciq_junit_write(FILE *f, const struct ciq_summary *sum, const struct ciq_verdict *v);

#endif
