/*
 * junitxml.c - a small, tolerant reader of JUnit XML reports.
 *
 * One pass over the document in memory, with a stack of the open
 * elements to match end tags. Only the text of a testcase's deciding
 * <failure>, <error> or <skipped> is decoded; the rest is only checked
 * for structure.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "readfile.h"
#include "junitxml.h"

/* What an open element is to the reader. */
enum kind {
	K_OTHER,
	K_SUITE,    /* testsuites or testsuite */
	K_CASE,     /* the testcase being read */
	K_RESULT    /* its deciding failure, error or skipped */
};

struct open {
	const char *name;
	size_t len;
	enum kind kind;
	char *file;        /* a testsuite's file attribute, or NULL */
};

/* A growing byte buffer. */
struct buf {
	char *s;
	size_t n, cap;
};

/* Attributes the reader takes; spans of the raw values. */
enum { A_NAME, A_CLASSNAME, A_TIME, A_FILE, A_MESSAGE, A_TYPE, A_COUNT };
static const char *const attr_names[A_COUNT] = {
	"name", "classname", "time", "file", "message", "type"
};

struct attrs {
	const char *v[A_COUNT];
	size_t len[A_COUNT];
};

struct parser {
	const char *s;
	size_t n, i;
	char *err;
	struct open *stack;
	size_t depth, cap;
	int root_seen, root_closed;
	struct ciq_cases *out;
	int in_case, decided;   /* reading a testcase; a failure or error was seen */
	size_t result_depth;    /* depth of the K_RESULT element, 0 when none */
	struct buf text;        /* its text so far */
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		while (b->n + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->s = ciq_realloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void
putc_buf(struct buf *b, char c)
{
	put(b, &c, 1);
}

static void
put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		put(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		put(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		put(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		put(b, u, 4);
	}
}

/* Fill err with "line N: MESSAGE" for the current position; returns -1. */
static int
fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	size_t line = 1;
	int k;

	for (size_t i = 0; i < p->i && i < p->n; i++)
		line += p->s[i] == '\n';
	k = snprintf(p->err, CIQ_ERRLEN, "line %zu: ", line);
	va_start(ap, fmt);
	vsnprintf(p->err + k, CIQ_ERRLEN - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Names in messages: at most 40 bytes, as "%.*s" takes them. Names come
 * from the file; a long one would only hide the rest of the message.
 */
static int
shown(size_t len)
{
	return len > 40 ? 40 : (int)len;
}

static int
starts(const struct parser *p, const char *lit)
{
	size_t n = strlen(lit);

	return p->n - p->i >= n && memcmp(p->s + p->i, lit, n) == 0;
}

/* Position of lit at or after p->i, or (size_t)-1. */
static size_t
find(const struct parser *p, const char *lit)
{
	size_t n = strlen(lit);

	for (size_t i = p->i; i + n <= p->n; i++) {
		const char *hit = memchr(p->s + i, lit[0], p->n - i);

		if (hit == NULL)
			break;
		i = (size_t)(hit - p->s);
		if (i + n <= p->n && memcmp(hit, lit, n) == 0)
			return i;
	}
	return (size_t)-1;
}

static int
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_space(struct parser *p)
{
	while (p->i < p->n && space(p->s[p->i]))
		p->i++;
}

/* A name ends at white space, '/', '>', '=', or a quote; may be empty. */
static size_t
name(struct parser *p, const char **start)
{
	size_t from = p->i;

	*start = p->s + from;
	while (p->i < p->n && !space(p->s[p->i]) && strchr("/>=<\"'", p->s[p->i]) == NULL)
		p->i++;
	return p->i - from;
}

static int
is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/*
 * Append s[0..n) to b as XML character data: "\r\n" and "\r" become
 * "\n", NUL bytes go, and with entities the references are replaced.
 * In an attribute value (attr), literal white space becomes a space, as
 * XML's attribute-value normalisation has it.
 */
static void
decode(struct buf *b, const char *s, size_t n, int entities, int attr)
{
	static const struct { const char *name; char c; } named[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' }
	};

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		const char *semi;

		if (c == '\0')
			continue;
		if (c == '\r') {
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
			putc_buf(b, attr ? ' ' : '\n');
			continue;
		}
		if (attr && (c == '\n' || c == '\t')) {
			putc_buf(b, ' ');
			continue;
		}
		/* "&#x10FFFF;" is the longest reference worth reading. */
		if (c != '&' || !entities || (semi = memchr(s + i, ';', n - i < 12 ? n - i : 12)) == NULL) {
			putc_buf(b, c);
			continue;
		}
		{
			const char *ref = s + i + 1;
			size_t rlen = (size_t)(semi - ref);
			int done = 0;

			for (size_t k = 0; k < sizeof named / sizeof *named && !done; k++) {
				if (is(ref, rlen, named[k].name)) {
					putc_buf(b, named[k].c);
					done = 1;
				}
			}
			if (!done && rlen >= 2 && ref[0] == '#') {
				int hex = ref[1] == 'x';
				size_t d = hex ? 2 : 1;
				unsigned long cp = 0;

				for (done = d < rlen; d < rlen && done; d++) {
					char h = ref[d];
					int v = h >= '0' && h <= '9' ? h - '0' :
					    hex && h >= 'a' && h <= 'f' ? h - 'a' + 10 :
					    hex && h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;

					if (v < 0)
						done = 0;
					else if (cp <= 0x10ffff)
						cp = cp * (hex ? 16 : 10) + (unsigned long)v;
				}
				/*
				 * XML 1.0 has no control characters but tab, newline
				 * and return; runners write them anyway (ESC of
				 * colours), and the report's writers clean them. A
				 * reference that can be no character at all becomes
				 * U+FFFD.
				 */
				if (done && (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
					put(b, "\xef\xbf\xbd", 3);
				else if (done)
					put_utf8(b, cp);
			}
			if (!done) {
				/* An unknown entity stays as written. */
				putc_buf(b, c);
				continue;
			}
			i += rlen + 1;
		}
	}
}

/*
 * s[0..n) cut to at most max bytes: the start only, or with keep_end a
 * quarter of the start and the end, with a note of what was dropped in
 * between. Cuts fall between UTF-8 sequences. A new string.
 */
static char *
clip(const char *s, size_t n, size_t max, int keep_end)
{
	size_t note_max, keep, head, tail, from, nl;
	char note[96], *res;

	if (n <= max)
		return ciq_memdup(s, n + 1);
	/* Room for the longest note: both numbers as long as n. */
	note_max = (size_t)snprintf(note, sizeof note, "\n[ciq: %zu of %zu bytes cut]\n", n, n);
	keep = max > note_max ? max - note_max : 0;
	head = keep_end ? keep / 4 : keep;
	tail = keep_end ? keep - head : 0;
	for (int k = 0; k < 3 && head > 0 && ((unsigned char)s[head] & 0xc0) == 0x80; k++)
		head--;
	from = n - tail;
	for (int k = 0; k < 3 && from < n && ((unsigned char)s[from] & 0xc0) == 0x80; k++)
		from++;
	tail = n - from;
	if (keep_end)
		snprintf(note, sizeof note, "\n[ciq: %zu of %zu bytes cut]\n", n - head - tail, n);
	else
		snprintf(note, sizeof note, " [ciq: %zu of %zu bytes cut]", n - head - tail, n);
	nl = strlen(note);
	res = ciq_malloc(head + nl + tail + 1);
	memcpy(res, s, head);
	memcpy(res + head, note, nl);
	memcpy(res + head + nl, s + from, tail);
	res[head + nl + tail] = '\0';
	return res;
}

/* The decoded value of attribute a (empty when absent), cut to max. */
static char *
value(const struct attrs *at, int a, size_t max)
{
	struct buf b = { NULL, 0, 0 };
	char *v;

	put(&b, "", 0);
	if (at->v[a] != NULL)
		decode(&b, at->v[a], at->len[a], 1, 1);
	v = clip(b.s, b.n, max, 0);
	free(b.s);
	return v;
}

/* Seconds ("0.25", "1,234.5", "1e-3") in ms, or -1. */
static long long
millis(const struct attrs *at)
{
	char num[64], *end;
	size_t k = 0;
	double sec;

	if (at->v[A_TIME] == NULL)
		return -1;
	for (size_t i = 0; i < at->len[A_TIME] && k + 1 < sizeof num; i++)
		if (at->v[A_TIME][i] != ',' && !space(at->v[A_TIME][i]))
			num[k++] = at->v[A_TIME][i];
	num[k] = '\0';
	errno = 0;
	sec = strtod(num, &end);
	if (k == 0 || *end != '\0' || errno != 0 || !isfinite(sec) || sec < 0 || sec > 1e12)
		return -1;
	return (long long)(sec * 1000 + 0.5);
}

static struct ciq_case *
current(struct parser *p)
{
	return &p->out->v[p->out->n - 1];
}

/* The nearest testsuite's file, for a testcase without one. */
static const char *
suite_file(const struct parser *p)
{
	for (size_t d = p->depth; d > 0; d--)
		if (p->stack[d - 1].kind == K_SUITE && p->stack[d - 1].file != NULL)
			return p->stack[d - 1].file;
	return "";
}

static void
begin_case(struct parser *p, const struct attrs *at)
{
	struct ciq_case *k = ciq_cases_add(p->out);

	k->outcome = CIQ_CASE_PASSED;
	k->ms = millis(at);
	k->classname = value(at, A_CLASSNAME, CIQ_CASE_NAME_MAX);
	k->name = value(at, A_NAME, CIQ_CASE_NAME_MAX);
	k->file = value(at, A_FILE, CIQ_CASE_NAME_MAX);
	if (*k->file == '\0') {
		free(k->file);
		k->file = ciq_strdup(suite_file(p));
	}
	k->type = ciq_strdup("");
	k->message = ciq_strdup("");
	k->output = ciq_strdup("");
	p->in_case = 1;
	p->decided = 0;
}

/*
 * A failure, error or skipped in the testcase: whether it decides the
 * outcome (the first failure or error; a skip when there is neither).
 */
static int
begin_result(struct parser *p, const char *n, size_t len, const struct attrs *at)
{
	struct ciq_case *k = current(p);
	enum ciq_case_outcome o;

	if (is(n, len, "failure"))
		o = CIQ_CASE_FAILED;
	else if (is(n, len, "error"))
		o = CIQ_CASE_ERROR;
	else if (is(n, len, "skipped"))
		o = CIQ_CASE_SKIPPED;
	else
		return 0;
	if (p->decided || (o == CIQ_CASE_SKIPPED && k->outcome == CIQ_CASE_SKIPPED))
		return 0;
	k->outcome = o;
	p->decided = o != CIQ_CASE_SKIPPED;
	free(k->type);
	free(k->message);
	free(k->output);
	k->type = value(at, A_TYPE, CIQ_CASE_NAME_MAX);
	k->message = value(at, A_MESSAGE, CIQ_CASE_MESSAGE_MAX);
	k->output = ciq_strdup("");
	p->text.n = 0;
	put(&p->text, "", 0);
	return 1;
}

static void
end_result(struct parser *p)
{
	struct ciq_case *k = current(p);

	free(k->output);
	k->output = clip(p->text.s, p->text.n, CIQ_CASE_OUTPUT_MAX, 1);
	p->result_depth = 0;
}

static int
start_tag(struct parser *p)
{
	const char *n;
	size_t len, at_depth = p->depth;
	struct attrs at;
	int empty = 0;
	enum kind kind = K_OTHER;
	struct open *o;

	memset(&at, 0, sizeof at);
	p->i++;
	if ((len = name(p, &n)) == 0)
		return fail(p, "a '<' that starts no tag");
	if (p->root_closed)
		return fail(p, "a second root element <%.*s>", shown(len), n);
	for (;;) {
		const char *an, *v;
		size_t alen;
		char q;

		skip_space(p);
		if (p->i >= p->n)
			return fail(p, "the tag <%.*s> is not closed", shown(len), n);
		if (p->s[p->i] == '>') {
			p->i++;
			break;
		}
		if (starts(p, "/>")) {
			p->i += 2;
			empty = 1;
			break;
		}
		if ((alen = name(p, &an)) == 0)
			return fail(p, "unexpected '%c' in the tag <%.*s>", p->s[p->i], shown(len), n);
		skip_space(p);
		if (p->i >= p->n || p->s[p->i] != '=')
			return fail(p, "the attribute '%.*s' of <%.*s> has no value", shown(alen), an,
			    shown(len), n);
		p->i++;
		skip_space(p);
		if (p->i >= p->n || (p->s[p->i] != '"' && p->s[p->i] != '\''))
			return fail(p, "the value of '%.*s' in <%.*s> is not quoted", shown(alen), an,
			    shown(len), n);
		q = p->s[p->i++];
		v = p->s + p->i;
		if ((v = memchr(v, q, p->n - p->i)) == NULL)
			return fail(p, "the value of '%.*s' in <%.*s> is not closed", shown(alen), an,
			    shown(len), n);
		for (int a = 0; a < A_COUNT; a++) {
			if (at.v[a] == NULL && is(an, alen, attr_names[a])) {
				at.v[a] = p->s + p->i;
				at.len[a] = (size_t)(v - (p->s + p->i));
			}
		}
		p->i = (size_t)(v - p->s) + 1;
	}

	if (!p->root_seen) {
		if (!is(n, len, "testsuites") && !is(n, len, "testsuite"))
			return fail(p, "not a JUnit report: the root element is <%.*s>, "
			    "not <testsuites> or <testsuite>", shown(len), n);
		p->root_seen = 1;
	}
	if (!p->in_case && (is(n, len, "testsuites") || is(n, len, "testsuite"))) {
		kind = K_SUITE;
	} else if (!p->in_case && is(n, len, "testcase")) {
		kind = K_CASE;
		begin_case(p, &at);
	} else if (p->in_case && p->result_depth == 0 && p->stack[at_depth - 1].kind == K_CASE &&
	    begin_result(p, n, len, &at)) {
		kind = K_RESULT;
		p->result_depth = at_depth + 1;
	}
	if (empty) {
		if (kind == K_RESULT)
			end_result(p);
		if (kind == K_CASE)
			p->in_case = 0;
		if (at_depth == 0)
			p->root_closed = 1;
		return 0;
	}
	/* Deep nesting is no JUnit report's: keep the stack bounded. */
	if (p->depth == 10000)
		return fail(p, "elements nested more than 10000 deep");
	if (p->depth == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->stack = ciq_realloc(p->stack, p->cap * sizeof *p->stack);
	}
	o = &p->stack[p->depth++];
	o->name = n;
	o->len = len;
	o->kind = kind;
	o->file = kind == K_SUITE && at.v[A_FILE] != NULL ? value(&at, A_FILE, CIQ_CASE_NAME_MAX) : NULL;
	return 0;
}

static int
end_tag(struct parser *p)
{
	const char *n;
	size_t len;
	struct open *o;

	p->i += 2;
	len = name(p, &n);
	skip_space(p);
	if (p->i >= p->n || p->s[p->i] != '>')
		return fail(p, "the end tag </%.*s> is not closed", shown(len), n);
	p->i++;
	if (p->depth == 0)
		return fail(p, "the end tag </%.*s> closes nothing", shown(len), n);
	o = &p->stack[p->depth - 1];
	if (o->len != len || memcmp(o->name, n, len) != 0)
		return fail(p, "the end tag </%.*s> does not match <%.*s>", shown(len), n,
		    shown(o->len), o->name);
	if (o->kind == K_RESULT)
		end_result(p);
	if (o->kind == K_CASE)
		p->in_case = 0;
	free(o->file);
	p->depth--;
	if (p->depth == 0)
		p->root_closed = 1;
	return 0;
}

/* Character data up to the next '<'. */
static int
text(struct parser *p)
{
	const char *lt = memchr(p->s + p->i, '<', p->n - p->i);
	size_t end = lt != NULL ? (size_t)(lt - p->s) : p->n;

	if (p->depth == 0) {
		for (; p->i < end; p->i++)
			if (!space(p->s[p->i]))
				return fail(p, p->root_seen ? "text after the root element" :
				    "not XML: text before the first element");
		return 0;
	}
	if (p->result_depth != 0)
		decode(&p->text, p->s + p->i, end - p->i, 1, 0);
	p->i = end;
	return 0;
}

/* A declaration before the root (a DOCTYPE, with its internal subset). */
static int
declaration(struct parser *p)
{
	int brackets = 0;
	char q = 0;

	if (p->root_seen)
		return fail(p, "a declaration ('<!') inside the document");
	for (p->i += 2; p->i < p->n; p->i++) {
		char c = p->s[p->i];

		if (q != 0) {
			if (c == q)
				q = 0;
		} else if (c == '"' || c == '\'') {
			q = c;
		} else if (c == '[') {
			brackets++;
		} else if (c == ']') {
			brackets--;
		} else if (c == '>' && brackets <= 0) {
			p->i++;
			return 0;
		}
	}
	return fail(p, "a declaration ('<!') is not closed");
}

/* Skip from p->i past the end marker; fail with what when it is missing. */
static int
skip_to(struct parser *p, const char *end, const char *what)
{
	size_t at = find(p, end);

	if (at == (size_t)-1)
		return fail(p, "%s is not closed", what);
	p->i = at + strlen(end);
	return 0;
}

int
ciq_junitxml_parse(const char *xml, size_t n, struct ciq_cases *out, char err[CIQ_ERRLEN])
{
	struct parser p;
	int rc = 0;

	memset(&p, 0, sizeof p);
	p.s = xml;
	p.n = n;
	p.err = err;
	p.out = out;
	if (n >= 3 && memcmp(xml, "\xef\xbb\xbf", 3) == 0)
		p.i = 3;
	while (rc == 0 && p.i < p.n) {
		if (p.s[p.i] != '<') {
			rc = text(&p);
		} else if (starts(&p, "<?")) {
			rc = skip_to(&p, "?>", "a processing instruction ('<?')");
		} else if (starts(&p, "<!--")) {
			rc = skip_to(&p, "-->", "a comment");
		} else if (starts(&p, "<![CDATA[")) {
			size_t from = p.i + 9;

			if (p.depth == 0)
				rc = fail(&p, "a CDATA section outside the root element");
			else if ((rc = skip_to(&p, "]]>", "a CDATA section")) == 0 && p.result_depth != 0)
				decode(&p.text, p.s + from, p.i - 3 - from, 0, 0);
		} else if (starts(&p, "<!")) {
			rc = declaration(&p);
		} else if (starts(&p, "</")) {
			rc = end_tag(&p);
		} else {
			rc = start_tag(&p);
		}
	}
	if (rc == 0 && !p.root_seen)
		rc = fail(&p, "not a JUnit report: no element at all");
	if (rc == 0 && p.depth > 0)
		rc = fail(&p, "the document ends inside <%.*s> (cut short?)",
		    shown(p.stack[p.depth - 1].len), p.stack[p.depth - 1].name);
	for (size_t d = 0; d < p.depth; d++)
		free(p.stack[d].file);
	free(p.stack);
	free(p.text.s);
	if (rc != 0)
		ciq_cases_free(out);
	return rc;
}

int
ciq_junitxml_read(const char *path, struct ciq_cases *out, char err[CIQ_ERRLEN])
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	char *buf, msg[CIQ_ERRLEN];
	size_t n;
	int rc;

	if (fd == -1) {
		snprintf(err, CIQ_ERRLEN, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	rc = ciq_readfile_fd(fd, path, CIQ_JUNITXML_FILE_MAX, &buf, &n, err);
	if (fd != 0)
		close(fd);
	if (rc == -1)
		return -1;
	rc = ciq_junitxml_parse(buf, n, out, msg);
	free(buf);
	if (rc == -1)
		snprintf(err, CIQ_ERRLEN, "'%s' %s", path, msg);
	return rc;
}
