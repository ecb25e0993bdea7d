/*
 * heartbeat.c - refresh reservations, watch the worker loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Run script sc for the ids; the reply, or NULL. */
static redisReply *
call(struct ciq_session *s, enum ciq_script sc, int n, const char **ids)
{
	char msg[CIQ_ERRLEN];
	int rc;

	return ciq_session_run(s, sc, n, ids, NULL, &rc, msg);
}

int
ciq_heartbeat_run(struct ciq_session *s, const struct ciq_watch *loop,
    long long beat_ms, int n, const char **ids)
{
	long long next = ciq_now_ms() + beat_ms;
	const char **held = ciq_calloc((size_t)n + 1, sizeof *held);
	int nheld = n, ret = 0;

	memcpy(held, ids, (size_t)n * sizeof *ids);
	while (nheld > 0) {
		redisReply *r;

		if (!ciq_watch_alive(loop)) {
			/* The loop is gone: its tests must not wait for the timeout. */
			if ((r = call(s, CIQ_S_RELEASE, nheld, held)) != NULL)
				freeReplyObject(r);
			else
				ret = -1;
			break;
		}
		if (ciq_now_ms() >= next) {
			if ((r = call(s, CIQ_S_HEARTBEAT, nheld, held)) == NULL) {
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
	return ret;
}
