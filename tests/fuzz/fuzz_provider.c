/*
 * fuzz_provider.c - libFuzzer harness for configuration and CI provider
 * inference (lib/conf.c, lib/provider.c).
 *
 * The input is an environment, one NAME=VALUE per line (the format of
 * tests/fixtures/env/). It is all the process sees: the environment is
 * cleared before and after each run. Then the configuration is resolved
 * and checked as every tool does, and every hint is asked for.
 *
 * Besides not crashing: every value has a source; a value read from a
 * CIQ_* variable is that variable; a worker index the provider gave is
 * a plain non-negative decimal ("0", "7", never "07" or "-1"); a retry
 * the provider gave is true or false; the symbolic seed "HEAD" is never
 * taken from a provider's commit variable; resolving again changes
 * nothing; messages are terminated strings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "provider.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_provider: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* Set each NAME=VALUE line of data; other lines are ignored. */
static void
load_env(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *line, *next, *eq;

	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (line = copy; line < copy + size; line = next) {
		size_t n = strcspn(line, "\n");

		next = line + n + 1;
		line[n] = '\0';
		/* A NUL in the line ends it, as it would in a real environment. */
		if ((eq = strchr(line, '=')) == NULL || eq == line)
			continue;
		*eq = '\0';
		setenv(line, eq + 1, 1);
	}
	free(copy);
}

static int
canonical_index(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 10 || (s[0] == '0' && n > 1))
		return 0;
	return strspn(s, "0123456789") == n;
}

static void
check_err(int rc, const char *err)
{
	CHECK(rc == 0 || rc == -1);
	if (rc == -1)
		CHECK(err[0] != '\0' && memchr(err, '\0', CIQ_ERRLEN) != NULL);
}

static void
check_conf(const struct ciq_conf *c)
{
	const char *w = c->set[CIQ_K_WORKER].value;
	const char *r = c->set[CIQ_K_RETRY].value;
	const char *seed = c->set[CIQ_K_SEED].value;

	for (int k = 0; k < CIQ_K_COUNT; k++) {
		const struct ciq_conf_info *in = ciq_conf_info((enum ciq_setting_id)k);
		const char *src = c->set[k].source;

		if (c->set[k].value == NULL)
			continue;
		CHECK(src != NULL);
		if (in->env != NULL && strcmp(src, in->env) == 0) {
			const char *v = getenv(in->env);

			CHECK(v != NULL && strcmp(v, c->set[k].value) == 0);
		}
	}
	if (c->set[CIQ_K_PROVIDER].value != NULL) {
		const char *p = c->set[CIQ_K_PROVIDER].value;

		CHECK(*p != '\0' && strspn(p, "abcdefghijklmnopqrstuvwxyz") == strlen(p));
	}
	if (w != NULL && strcmp(c->set[CIQ_K_WORKER].source, "CIQ_WORKER") != 0)
		CHECK(canonical_index(w));
	if (r != NULL && strcmp(c->set[CIQ_K_RETRY].source, "CIQ_RETRY") != 0)
		CHECK(strcmp(r, "true") == 0 || strcmp(r, "false") == 0);
	if (seed != NULL && strcmp(seed, "HEAD") == 0)
		CHECK(strcmp(c->set[CIQ_K_SEED].source, "CIQ_SEED") == 0 ||
		    seed == c->set[CIQ_K_BUILD].value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ciq_conf c;
	struct ciq_setting before[CIQ_K_COUNT];
	char err[CIQ_ERRLEN];
	int rc;

	clearenv();
	load_env(data, size);

	ciq_conf_init(&c);
	ciq_conf_resolve(&c);
	CHECK(c.resolved);
	memcpy(before, c.set, sizeof before);
	ciq_conf_resolve(&c);
	CHECK(memcmp(before, c.set, sizeof before) == 0);
	check_conf(&c);

	for (int f = 0; f < CIQ_CI_COUNT; f++) {
		const char *hint = ciq_provider_hint(c.set[CIQ_K_PROVIDER].value, (enum ciq_ci_field)f);

		CHECK(hint != NULL && memchr(hint, '\0', CIQ_ERRLEN) != NULL);
	}
	for (int k = 0; k < CIQ_K_COUNT; k++) {
		err[0] = '\0';
		rc = ciq_conf_check(&c, CIQ_NEED(k), err);
		check_err(rc, err);
	}
	err[0] = '\0';
	rc = ciq_conf_check(&c, CIQ_NEED_WORKER, err);
	check_err(rc, err);
	err[0] = '\0';
	rc = ciq_conf_check(&c, 0, err);
	check_err(rc, err);
	if (rc == 0) {
		/* Checked values convert without overflow (UBSan watches). */
		for (int k = 0; k < CIQ_K_COUNT; k++) {
			(void)ciq_conf_ms(&c, (enum ciq_setting_id)k);
			(void)ciq_conf_int(&c, (enum ciq_setting_id)k);
			(void)ciq_conf_double(&c, (enum ciq_setting_id)k);
		}
	}
	if (c.set[CIQ_K_QUEUE].value != NULL) {
		struct ciq_url u;

		if (ciq_url_parse(c.set[CIQ_K_QUEUE].value, &u, err) == 0)
			ciq_url_free(&u);
	}

	ciq_conf_free(&c);
	clearenv();
	return 0;
}
