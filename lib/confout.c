/*
 * confout.c - the effective configuration as people, sh and jq read it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "confout.h"
#include "json.h"
#include "url.h"

/* The fields of --json, in order, and how each is typed. */
enum jtype { J_STRING, J_INT, J_REAL, J_BOOL };

static const struct {
	enum ciq_setting_id k;
	enum jtype type;
} fields[] = {
	{ CIQ_K_PROVIDER, J_STRING }, { CIQ_K_QUEUE, J_STRING },
	{ CIQ_K_BUILD, J_STRING }, { CIQ_K_WORKER, J_STRING },
	{ CIQ_K_WORKERS, J_INT }, { CIQ_K_SEED, J_STRING },
	{ CIQ_K_NAMESPACE, J_STRING }, { CIQ_K_RETRY, J_BOOL },
	{ CIQ_K_BRANCH, J_STRING }, { CIQ_K_BUILD_URL, J_STRING },
	{ CIQ_K_TIMEOUT, J_REAL }, { CIQ_K_INIT_TIMEOUT, J_REAL },
	{ CIQ_K_MAX_REQUEUES, J_INT }, { CIQ_K_REQUEUE_TOLERANCE, J_REAL },
	{ CIQ_K_TTL, J_REAL }, { CIQ_K_ORDER, J_STRING },
};

#define NFIELDS (sizeof fields / sizeof fields[0])

/* CIQ_QUEUE, or CIQ_ and the upper-cased field name for the others. */
static const char *
var_name(enum ciq_setting_id k, char *buf, size_t len)
{
	const struct ciq_conf_info *in = ciq_conf_info(k);
	size_t i;

	if (in->env != NULL)
		return in->env;
	snprintf(buf, len, "CIQ_%s", in->name);
	for (i = 4; buf[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	return buf;
}

/*
 * Where a value came from, flags spelled as on the command line. A value
 * can come from another setting's flag: the seed falls back to --build.
 */
static const char *
source(const struct ciq_conf *c, enum ciq_setting_id k, char *buf, size_t len)
{
	const char *s = c->set[k].source, *flag;

	for (int i = 0; s != NULL && i < CIQ_K_COUNT; i++) {
		if ((flag = ciq_conf_info(i)->flag) != NULL && strcmp(s, flag) == 0) {
			snprintf(buf, len, "--%s", flag);
			return buf;
		}
	}
	return s;
}

/* The value as it may be shown, in a new string: secrets as ***. */
static char *
shown(const struct ciq_conf *c, enum ciq_setting_id k)
{
	if (ciq_conf_info(k)->secret)
		return ciq_strdup("***");
	if (k == CIQ_K_QUEUE)
		return ciq_url_redact(c->set[k].value);
	return ciq_strdup(c->set[k].value);
}

/* Single-quote s for sh when it needs it, or always. */
static void
sh_quote(FILE *f, const char *s, int always)
{
	if (!always && *s != '\0' &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_@%+=:,./-") == strlen(s)) {
		fputs(s, f);
		return;
	}
	putc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			putc(*s, f);
	}
	putc('\'', f);
}

/*
 * Check one slot alone, so every problem gets its own line: a conf that
 * holds only that slot (and the provider, which the hints name).
 */
int
ciq_confout_check(const struct ciq_conf *c, enum ciq_setting_id k, char err[CIQ_ERRLEN])
{
	struct ciq_conf one;
	struct ciq_url u;
	char why[CIQ_ERRLEN], where[64], *redacted;

	ciq_conf_init(&one);
	one.set[CIQ_K_PROVIDER] = c->set[CIQ_K_PROVIDER];
	one.set[k] = c->set[k];
	if (ciq_conf_check(&one, CIQ_NEED_WORKER & CIQ_NEED(k), err) == -1)
		return -1;
	if (k != CIQ_K_QUEUE || c->set[k].value == NULL)
		return 0;
	if (ciq_url_parse(c->set[k].value, &u, why) == -1) {
		/* why never holds the password, and the URL is shown redacted. */
		redacted = ciq_url_redact(c->set[k].value);
		snprintf(err, CIQ_ERRLEN, "invalid %s '%s': %.160s",
		    source(c, k, where, sizeof where), redacted, why);
		free(redacted);
		return -1;
	}
	ciq_url_free(&u);
	return 0;
}

void
ciq_confout_plain(FILE *f, const struct ciq_conf *c)
{
	char name[64], src[64], *v;

	for (int k = 0; k < CIQ_K_COUNT; k++) {
		if (c->set[k].value == NULL)
			continue;
		v = shown(c, k);
		fprintf(f, "%s=", var_name(k, name, sizeof name));
		sh_quote(f, v, 0);
		fprintf(f, "  # %s\n", source(c, k, src, sizeof src));
		free(v);
	}
}

/*
 * Lines for eval. A redacted value is not exported, as eval would replace
 * the real secret with ***; the tools still find it where it came from.
 */
void
ciq_confout_export(FILE *f, const struct ciq_conf *c)
{
	char name[64], *v;

	for (int k = 0; k < CIQ_K_COUNT; k++) {
		if (c->set[k].value == NULL)
			continue;
		v = shown(c, k);
		if (strcmp(v, c->set[k].value) != 0) {
			fprintf(f, "# %s is not exported: it holds a password\n",
			    var_name(k, name, sizeof name));
		} else {
			fprintf(f, "export %s=", var_name(k, name, sizeof name));
			sh_quote(f, v, 1);
			putc('\n', f);
		}
		free(v);
	}
}

void
ciq_confout_json(FILE *f, const struct ciq_conf *c)
{
	char err[CIQ_ERRLEN], src[64], *v;
	const char *sep = "";
	size_t i;

	putc('{', f);
	for (i = 0; i < NFIELDS; i++) {
		enum ciq_setting_id k = fields[i].k;

		ciq_json_cstr(f, ciq_conf_info(k)->name);
		putc(':', f);
		if (c->set[k].value == NULL) {
			fputs("null", f);
		} else if (fields[i].type == J_STRING) {
			v = shown(c, k);
			ciq_json_cstr(f, v);
			free(v);
		} else if (ciq_confout_check(c, k, err) == -1) {
			/* An invalid number is no number: the exit status says why. */
			fputs("null", f);
		} else if (fields[i].type == J_BOOL) {
			fputs(strcmp(c->set[k].value, "true") == 0 ? "true" : "false", f);
		} else if (fields[i].type == J_INT) {
			fprintf(f, "%lld", ciq_conf_int(c, k));
		} else {
			fprintf(f, "%.15g", ciq_conf_double(c, k));
		}
		putc(',', f);
	}
	fputs("\"sources\":{", f);
	for (i = 0; i < NFIELDS; i++) {
		enum ciq_setting_id k = fields[i].k;

		if (c->set[k].value == NULL)
			continue;
		fputs(sep, f);
		ciq_json_cstr(f, ciq_conf_info(k)->name);
		putc(':', f);
		ciq_json_cstr(f, source(c, k, src, sizeof src));
		sep = ",";
	}
	fputs("}}\n", f);
}

