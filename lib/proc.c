/*
 * proc.c - processes, as /proc shows them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

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

/* Whether /proc shows processes here at all. */
static int
have_proc(void)
{
	return access("/proc/self/stat", R_OK) == 0;
}

int
ciq_proc_init(struct ciq_proc *w, pid_t pid)
{
	char state;
	pid_t ppid;

	w->pid = pid;
	w->start = 0;
	if (pid <= 0)
		return -1;
	if (proc_stat(pid, &state, &ppid, &w->start) == 0)
		return 0;
	/* Without /proc the pid is all there is to go by. */
	return !have_proc() && (kill(pid, 0) == 0 || errno == EPERM) ? 0 : -1;
}

int
ciq_proc_alive(const struct ciq_proc *w)
{
	unsigned long long start = 0;
	char state = 0;
	pid_t ppid;

	if (w->pid <= 0)
		return 0;
	if (w->start == 0)
		return kill(w->pid, 0) == 0 || errno == EPERM;
	if (proc_stat(w->pid, &state, &ppid, &start) == -1)
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
ciq_proc_loop(void)
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
