/*
 * heartbeat.c - refresh reservations, watch the worker loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "backoff.h"
#include "heartbeat.h"
#include "transport.h"

/* How often the loop is looked at. */
#define WATCH_MS 100

/*
 * Read /proc/PID/stat: the state (field 3), the parent (4) and the start
 * time (22). The command name (2) may hold spaces and parentheses, so
 * parsing starts after its last ')'.
 */
static int
proc_stat(pid_t pid, char *state, pid_t *ppid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	for (field = 3; field <= 22 && *p; field++) {
		while (*p == ' ')
			p++;
		if (field == 3)
			*state = *p;
		else if (field == 4)
			*ppid = (pid_t)strtol(p, NULL, 10);
		else if (field == 22)
			*start = strtoull(p, NULL, 10);
		while (*p && *p != ' ')
			p++;
	}
	return field > 22 ? 0 : -1;
}

int
ciq_watch_init(struct ciq_watch *w, pid_t pid)
{
	char state;
	pid_t ppid;

	w->pid = pid;
	w->start = 0;
	return pid > 0 ? proc_stat(pid, &state, &ppid, &w->start) : -1;
}

int
ciq_watch_alive(const struct ciq_watch *w)
{
	unsigned long long start = 0;
	char state = 0;
	pid_t ppid;

	if (w->pid <= 0 || proc_stat(w->pid, &state, &ppid, &start) == -1)
		return 0;
	return start == w->start && state != 'Z' && state != 'X';
}

/* The target of /proc/PID/fd/FD ("pipe:[1234]"), or "" on failure. */
static void
fd_target(pid_t pid, int fd, char *out, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

pid_t
ciq_watch_loop(void)
{
	pid_t parent = getppid(), grandparent;
	unsigned long long start;
	char ours[128], theirs[128], state;

	fd_target(getpid(), 1, ours, sizeof ours);
	if (strncmp(ours, "pipe:", 5) != 0)
		return parent;
	fd_target(parent, 1, theirs, sizeof theirs);
	if (strcmp(ours, theirs) != 0)
		return parent;
	return proc_stat(parent, &state, &grandparent, &start) == 0 ? grandparent : -1;
}

/* Run script sc for the ids, connecting first if need be; NULL on failure. */
static redisReply *
call(struct ciq_session *s, int *open, struct ciq_conf *conf, enum ciq_script sc, int n,
    const char **ids)
{
	char msg[CIQ_ERRLEN];
	int rc;

	if (!*open) {
		if (ciq_session_open(s, conf, CIQ_NEED_WORKER, msg) != 0)
			return NULL;
		*open = 1;
	}
	return ciq_session_run(s, sc, n, ids, NULL, &rc, msg);
}

static volatile sig_atomic_t stopped;

static void
on_term(int sig)
{
	(void)sig;
	stopped = 1;
}

/* The note's path, in a new string; NULL when no directory can be made. */
static char *
note_path(const struct ciq_conf *c)
{
	const char *base = getenv("XDG_RUNTIME_DIR"), *parts[4];
	char dir[512], *path;
	unsigned long long h = 0xcbf29ce484222325ull;   /* FNV-1a */

	if (base == NULL || *base == '\0')
		base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(dir, sizeof dir, "%s/ciq-%u", base, (unsigned)getuid());
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return NULL;
	parts[0] = ciq_conf_get(c, CIQ_K_QUEUE);
	parts[1] = ciq_conf_get(c, CIQ_K_NAMESPACE);
	parts[2] = ciq_conf_get(c, CIQ_K_BUILD);
	parts[3] = ciq_conf_get(c, CIQ_K_WORKER);
	for (int i = 0; i < 4; i++) {
		for (const char *p = parts[i] ? parts[i] : ""; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
		h = (h ^ '\n') * 0x100000001b3ull;
	}
	path = ciq_malloc(strlen(dir) + 32);
	sprintf(path, "%s/hb-%016llx", dir, h);
	return path;
}

int
ciq_heartbeat_announce(const struct ciq_conf *c, const struct ciq_watch *hb,
    int n, const char **ids)
{
	char *path = note_path(c), *tmp;
	FILE *f;
	int ok;

	if (path == NULL)
		return -1;
	tmp = ciq_malloc(strlen(path) + 8);
	sprintf(tmp, "%s.%d", path, (int)getpid());
	if ((f = fopen(tmp, "we")) == NULL) {
		free(tmp);
		free(path);
		return -1;
	}
	fprintf(f, "%d %llu\n", (int)hb->pid, hb->start);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\n", ids[i]);
	ok = fclose(f) == 0 && rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	free(tmp);
	free(path);
	return ok ? 0 : -1;
}

/* Whether line (without its newline) is one of ids[0..n). */
static int
among(const char *line, int n, const char **ids)
{
	for (int i = 0; i < n; i++)
		if (strcmp(line, ids[i]) == 0)
			return 1;
	return 0;
}

void
ciq_heartbeat_stop(const struct ciq_conf *c, int n, const char **ids)
{
	char *path = note_path(c), *line = NULL;
	size_t cap = 0;
	ssize_t len;
	struct ciq_watch hb;
	int pid, all = 1;
	FILE *f;

	if (path == NULL)
		return;
	if ((f = fopen(path, "re")) == NULL) {
		free(path);
		return;
	}
	if (fscanf(f, "%d %llu\n", &pid, &hb.start) != 2)
		all = 0;
	while (all && n >= 0 && (len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		all = among(line, n, ids);
	}
	fclose(f);
	free(line);
	hb.pid = pid;
	/* The start time tells our heartbeat from a process that got its pid. */
	if (all && ciq_watch_alive(&hb)) {
		unsigned long long start = hb.start;

		if (ciq_watch_init(&hb, pid) == 0 && hb.start == start) {
			kill(pid, SIGTERM);
			unlink(path);
		}
	}
	free(path);
}

int
ciq_heartbeat_run(struct ciq_conf *conf, const struct ciq_watch *loop,
    long long beat_ms, int n, const char **ids)
{
	struct ciq_session session, *s = &session;
	int open = 0;
	long long next = ciq_now_ms() + beat_ms;
	const char **held = ciq_calloc((size_t)n + 1, sizeof *held);
	struct sigaction sa;
	int nheld = n, ret = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	memcpy(held, ids, (size_t)n * sizeof *ids);
	while (nheld > 0 && !stopped) {
		redisReply *r;

		/* Without /proc the loop cannot be watched: beat only. */
		if (loop->pid > 0 && !ciq_watch_alive(loop)) {
			/* The loop is gone: its tests must not wait for the timeout. */
			if ((r = call(s, &open, conf, CIQ_S_RELEASE, nheld, held)) != NULL)
				freeReplyObject(r);
			else
				ret = -1;
			break;
		}
		if (ciq_now_ms() >= next) {
			if ((r = call(s, &open, conf, CIQ_S_HEARTBEAT, nheld, held)) == NULL) {
				ret = -1;
				break;
			}
			/* Keep only the ids the server says are still ours. */
			nheld = 0;
			for (size_t i = 1; i < r->elements; i++)
				for (int j = 0; j < n; j++)
					if (strcmp(ids[j], r->element[i]->str) == 0) {
						held[nheld++] = ids[j];
						break;
					}
			freeReplyObject(r);
			next = ciq_now_ms() + beat_ms;
			continue;
		}
		ciq_sleep_ms(WATCH_MS);
	}
	free(held);
	if (open)
		ciq_session_close(s);
	return ret;
}
