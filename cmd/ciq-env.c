/*
 * ciq-env - print the effective configuration and where each value came
 * from: a flag, a CIQ_* variable, the CI provider or a default.
 *
 * The plain output is one "NAME=value  # source" line per setting, for a
 * human; --export prints lines for eval; --json one object for jq. Exits 0
 * when the queue, the build and the worker are known and every value is
 * valid, 1 when something required is missing, 78 when a value is invalid.
 * Passwords are never printed.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "conf.h"
#include "exit.h"
#include "json.h"
#include "url.h"

enum mode { PLAIN, EXPORT, JSON };

enum { OPT_VERSION = 1 };

/* The fields of --json, in order, and how each is typed. */
enum jtype { J_STRING, J_INT, J_REAL, J_BOOL };

static const struct {
	enum ciq_key k;
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

static void
usage(FILE *f)
{
	fputs("usage: ciq-env [--export | --json] [--check] [options]\n"
	    "  -e, --export         print export lines for eval\n"
	    "  -j, --json           print one JSON object\n"
	    "  -c, --check          print nothing on stdout, only set the exit status\n"
	    "  -h, --help           print this and exit; --version prints the version\n"
	    "  --queue URL  --build ID  --worker ID  --workers N  --seed SEED\n"
	    "  --namespace NS  --retry true|false  --order random|timing|given\n"
	    "  --timeout S  --init-timeout S  --report-timeout S  --inactive-timeout S\n"
	    "  --max-requeues N  --requeue-tolerance R  --ttl S  --timing-ttl S\n"
	    "  --connect-timeout S  --command-timeout S  --reconnect-timeout S\n"
	    "  --heartbeat S  --max-failures N  --max-consecutive-failures K\n", f);
}

static void bad_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* A message, the usage, and the usage status. */
static void
bad_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	usage(stderr);
	exit(CIQ_EX_USAGE);
}

/* CIQ_QUEUE, or CIQ_ and the upper-cased field name for the others. */
static const char *
var_name(enum ciq_key k, char *buf, size_t len)
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
source(const struct ciq_conf *c, enum ciq_key k, char *buf, size_t len)
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
shown(const struct ciq_conf *c, enum ciq_key k)
{
	if (ciq_conf_info(k)->secret)
		return ciq_strdup("***");
	if (k == CIQ_K_QUEUE)
		return ciq_url_redact(c->set[k].value);
	return ciq_strdup(c->set[k].value);
}

/* Single-quote s for sh when it needs it, or always. */
static void
sh_quote(const char *s, int always)
{
	if (!always && *s != '\0' &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_@%+=:,./-") == strlen(s)) {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

/*
 * Check one slot alone, so every problem gets its own line: a conf that
 * holds only that slot (and the provider, which the hints name).
 */
static int
check_slot(const struct ciq_conf *c, enum ciq_key k, char err[CIQ_ERRLEN])
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

static void
close_stdout(void)
{
	if (ciq_cli_close_stdout() == -1)
		err(CIQ_EX_SOFTWARE, "cannot write to stdout");
}

static void
print_plain(const struct ciq_conf *c)
{
	char name[64], src[64], *v;

	for (int k = 0; k < CIQ_K_COUNT; k++) {
		if (c->set[k].value == NULL)
			continue;
		v = shown(c, k);
		printf("%s=", var_name(k, name, sizeof name));
		sh_quote(v, 0);
		printf("  # %s\n", source(c, k, src, sizeof src));
		free(v);
	}
}

/*
 * Lines for eval. A redacted value is not exported, as eval would replace
 * the real secret with ***; the tools still find it where it came from.
 */
static void
print_export(const struct ciq_conf *c)
{
	char name[64], *v;

	for (int k = 0; k < CIQ_K_COUNT; k++) {
		if (c->set[k].value == NULL)
			continue;
		v = shown(c, k);
		if (strcmp(v, c->set[k].value) != 0) {
			printf("# %s is not exported: it holds a password\n",
			    var_name(k, name, sizeof name));
		} else {
			printf("export %s=", var_name(k, name, sizeof name));
			sh_quote(v, 1);
			putchar('\n');
		}
		free(v);
	}
}

static void
print_json(const struct ciq_conf *c)
{
	char err[CIQ_ERRLEN], src[64], *v;
	const char *sep = "";
	size_t i;

	putchar('{');
	for (i = 0; i < NFIELDS; i++) {
		enum ciq_key k = fields[i].k;

		ciq_json_cstr(stdout, ciq_conf_info(k)->name);
		putchar(':');
		if (c->set[k].value == NULL) {
			fputs("null", stdout);
		} else if (fields[i].type == J_STRING) {
			v = shown(c, k);
			ciq_json_cstr(stdout, v);
			free(v);
		} else if (check_slot(c, k, err) == -1) {
			/* An invalid number is no number: the exit status says why. */
			fputs("null", stdout);
		} else if (fields[i].type == J_BOOL) {
			fputs(strcmp(c->set[k].value, "true") == 0 ? "true" : "false", stdout);
		} else if (fields[i].type == J_INT) {
			printf("%lld", ciq_conf_int(c, k));
		} else {
			printf("%.15g", ciq_conf_double(c, k));
		}
		putchar(',');
	}
	fputs("\"sources\":{", stdout);
	for (i = 0; i < NFIELDS; i++) {
		enum ciq_key k = fields[i].k;

		if (c->set[k].value == NULL)
			continue;
		fputs(sep, stdout);
		ciq_json_cstr(stdout, ciq_conf_info(k)->name);
		putchar(':');
		ciq_json_cstr(stdout, source(c, k, src, sizeof src));
		sep = ",";
	}
	fputs("}}\n", stdout);
}

/* One line on stderr per problem; the exit status for the worst one. */
static int
report_problems(const struct ciq_conf *c)
{
	char err[CIQ_ERRLEN];
	int status = CIQ_EX_OK;

	for (int k = 0; k < CIQ_K_COUNT; k++) {
		if (check_slot(c, k, err) == 0)
			continue;
		warnx("%s", err);
		if (c->set[k].value != NULL)
			status = CIQ_EX_CONFIG;
		else if (status == CIQ_EX_OK)
			status = CIQ_EX_NO;
	}
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check",   0, NULL, 'c' },
		{ "export",  0, NULL, 'e' },
		{ "help",    0, NULL, 'h' },
		{ "json",    0, NULL, 'j' },
		{ "version", 0, NULL, OPT_VERSION },
		CIQ_CONF_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ciq_conf c;
	enum mode mode = PLAIN;
	int ch, check = 0, status;

	ciq_conf_init(&c);
	/* getopt's messages name argv[0]: make it the name warnx uses. */
	argv[0] = program_invocation_short_name;
	while ((ch = getopt_long(argc, argv, "cehj", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			check = 1;
			break;
		case 'e':
		case 'j':
			if (mode != PLAIN && mode != (ch == 'e' ? EXPORT : JSON))
				bad_usage("--export and --json exclude each other");
			mode = ch == 'e' ? EXPORT : JSON;
			break;
		case 'h':
			usage(stdout);
			close_stdout();
			exit(CIQ_EX_OK);
		case OPT_VERSION:
			puts("ciq-env " CIQ_VERSION);
			close_stdout();
			exit(CIQ_EX_OK);
		default:
			/* getopt said what was wrong; a setting flag is fine. */
			if (ch < CIQ_OPT_BASE || ciq_conf_flag(&c, ch, optarg) == -1) {
				usage(stderr);
				exit(CIQ_EX_USAGE);
			}
			break;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);

	ciq_conf_resolve(&c);
	if (!check) {
		if (mode == JSON)
			print_json(&c);
		else if (mode == EXPORT)
			print_export(&c);
		else
			print_plain(&c);
	}
	/* Flush what was printed before the problems are told on stderr. */
	close_stdout();
	status = report_problems(&c);
	ciq_conf_free(&c);
	return status;
}
