/*
 * hblog.c - the log through which the tools tell a loop's heartbeat what
 * the loop holds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "alloc.h"
#include "hblog.h"
#include "privdir.h"
#include "proc.h"

/* The log of this worker's loop with pid loop, in a new string; NULL
 * (errno set, and a message in err when not NULL) when its directory is
 * unusable. */
static char *
log_path(const struct ciq_conf *c, pid_t loop, int make, char *err)
{
	const char *parts[4];
	unsigned long long h = 0xcbf29ce484222325ull;   /* FNV-1a */
	char *dir = ciq_privdir(make, "log directory", err), *path;

	if (dir == NULL)
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
	path = ciq_malloc(strlen(dir) + 48);
	sprintf(path, "%s/hb-%016llx-%d", dir, h, (int)loop);
	free(dir);
	return path;
}

void
ciq_hblog_sweep(void)
{
	char *dir = ciq_privdir(0, "log directory", NULL), *path, *end;
	struct dirent *e;
	const char *dash;
	DIR *d;
	long pid;
	int fd;

	if (dir == NULL)
		return;
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "hb-", 3) != 0 || (dash = strrchr(e->d_name, '-')) == NULL)
			continue;
		errno = 0;
		pid = strtol(dash + 1, &end, 10);
		if (*end != '\0' || errno != 0 || pid <= 0 || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		path = ciq_malloc(strlen(dir) + strlen(e->d_name) + 2);
		sprintf(path, "%s/%s", dir, e->d_name);
		if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) != -1) {
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				unlink(path);
			close(fd);
		}
		free(path);
	}
	closedir(d);
	free(dir);
}

/*
 * Whether id may go in the log as a line of its own: an empty one would
 * read as "every test" ("-" alone), and one with a newline as two lines.
 * No test has either (ciq-populate reads one id a line and refuses empty
 * ones): such an id is never written.
 */
static int
loggable(const char *id)
{
	return *id != '\0' && strchr(id, '\n') == NULL;
}

/* Append one line per id, mark then the id (a lone mark when n < 0), in
 * one write: appends from several processes never interleave. Ids that
 * are not loggable are left out. */
static int
append(int fd, char mark, int n, const char **ids)
{
	size_t len = n < 0 ? 2 : 0, at = 0;
	char *buf;
	ssize_t w;

	for (int i = 0; i < n; i++)
		if (loggable(ids[i]))
			len += strlen(ids[i]) + 2;
	if (len == 0)
		return 0;
	buf = ciq_malloc(len);
	if (n < 0) {
		buf[at++] = mark;
		buf[at++] = '\n';
	}
	for (int i = 0; i < n; i++) {
		size_t l = strlen(ids[i]);

		if (!loggable(ids[i]))
			continue;

		buf[at++] = mark;
		memcpy(buf + at, ids[i], l);
		at += l;
		buf[at++] = '\n';
	}
	w = write(fd, buf, len);
	free(buf);
	return w == (ssize_t)len ? 0 : -1;
}

int
ciq_hblog_hold(const struct ciq_conf *c, pid_t loop, int n, const char **ids,
    int *lock, char err[CIQ_ERRLEN])
{
	char *path = log_path(c, loop, 1, err);
	int fd, saved;

	if (path == NULL)
		return -1;
	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		saved = errno;
		snprintf(err, CIQ_ERRLEN, "cannot open the log '%.160s': %s", path, strerror(saved));
		free(path);
		errno = saved;
		return -1;
	}
	/* The ids first: a heartbeat started now reads them from the log. */
	if (append(fd, '+', n, ids) == -1) {
		saved = errno;
		snprintf(err, CIQ_ERRLEN, "cannot write the log '%.160s': %s", path, strerror(saved));
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		free(path);
		*lock = fd;
		return 0;
	}
	saved = errno;
	if (saved == EWOULDBLOCK) {
		free(path);
		close(fd);
		return 1;
	}
	snprintf(err, CIQ_ERRLEN, "cannot lock the log '%.160s': %s", path, strerror(saved));
fail:
	free(path);
	close(fd);
	errno = saved;
	return -1;
}

void
ciq_hblog_done(const struct ciq_conf *c, int n, const char **ids)
{
	/* The loop, found as ciq-pop finds it (proc.h): in t=$(ciq-ack
	 * --next ...) the parent may be a subshell of the loop. */
	pid_t loop = ciq_proc_loop();
	char *path = log_path(c, loop > 0 ? loop : getppid(), 0, NULL);
	int fd;

	if (path == NULL)
		return;
	/* No log, no heartbeat: nothing to tell. */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		append(fd, '-', n, ids);
		close(fd);
	}
	free(path);
}

void
ciq_hblog_remove(const struct ciq_conf *c, pid_t loop)
{
	char *path = log_path(c, loop, 0, NULL);

	if (path != NULL)
		unlink(path);
	free(path);
}

enum ciq_hblog_line
ciq_hblog_parse(const char *line, const char **id)
{
	*id = line + 1;
	if (line[0] == '+' && line[1] != '\0')
		return CIQ_HBLOG_HOLD;
	if (line[0] == '-' && line[1] != '\0')
		return CIQ_HBLOG_DONE;
	if (line[0] == '-')
		return CIQ_HBLOG_DONE_ALL;
	return CIQ_HBLOG_SKIP;
}
