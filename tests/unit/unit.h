/*
 * unit.h - the unit tests of the library's pure functions (make unit).
 *
 * No framework: CHECK(cond) counts a check and prints a line for each
 * that fails; main() prints "unit: N checks, N failed" and exits 0 only
 * when none failed.
 */
#ifndef CIQ_UNIT_H
#define CIQ_UNIT_H

#include <stddef.h>

#define CHECK(cond) unit_check((cond) != 0, __FILE__, __LINE__, "%s", #cond)
/* Two C strings, either NULL; both shown when they differ. */
#define CHECK_STR(got, want) unit_check_str((got), (want), __FILE__, __LINE__, #got)

void unit_check(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void unit_check_str(const char *got, const char *want, const char *file, int line,
    const char *what);
/* 1 when the n bytes at hay hold needle. */
int unit_contains(const char *hay, size_t n, const char *needle);

void test_url(void);
void test_number(void);
void test_idlist(void);
void test_cases(void);
void test_compress(void);
void test_keys(void);
void test_sha256(void);
void test_grind(void);
void test_kept(void);

#endif
