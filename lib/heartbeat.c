/*
 * heartbeat.c - the loop's log, and the process that beats for it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "exit.h"
#include "heartbeat.h"
#include "session.h"
#include "transport.h"

/* How often the loop and the log are looked at. */
#define WATCH_MS 100
/* Read bytes of the log are given back to the file system in chunks of
 * at least this much, once nothing read is held any more. */
#define PUNCH_MIN 16384

/*
 * The directory of the logs, made if need be. It must be ours and closed
 * to others: a directory someone else made under /tmp is not used.
 * NULL when there is no such directory, with errno set and, when err is
 * not NULL, a message in it naming the directory.
 */
static char *
log_dir(int make, char *err)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	uid_t uid = getuid();
	struct stat st;
	char *dir;
	int r;

	if (base == NULL || *base == '\0')
		base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	dir = ciq_malloc(strlen(base) + 32);
	sprintf(dir, "%s/ciq-%u", base, (unsigned)uid);
	if ((r = lstat(dir, &st)) == -1 && errno == ENOENT && make) {
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			goto fail;
		r = lstat(dir, &st);
	}
	if (r == -1)
		goto fail;
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0) {
		const char *why = !S_ISDIR(st.st_mode) ? "is not a directory" :
		    st.st_uid != uid ? "belongs to another user" : "is open to others";

		if (err != NULL)
			snprintf(err, CIQ_ERRLEN, "the log directory '%.160s' %s (mode %03o; it must be "
			    "a directory of this user with mode 700)", dir, why, (unsigned)(st.st_mode & 0777));
		free(dir);
		errno = EPERM;
		return NULL;
	}
	return dir;
fail:
	if (err != NULL)
		snprintf(err, CIQ_ERRLEN, "the log directory '%.160s': %s", dir, strerror(errno));
	free(dir);
	return NULL;
}

/* The log of this worker's loop with pid loop, in a new string; NULL
 * (errno set, and a message in err when not NULL) when its directory is
 * unusable. */
static char *
log_path(const struct ciq_conf *c, pid_t loop, int make, char *err)
{
	const char *parts[4];
	unsigned long long h = 0xcbf29ce484222325ull;   /* FNV-1a */
	char *dir = log_dir(make, err), *path;

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

/*
 * Remove the logs that killed loops left behind: those whose loop is gone
 * and whose lock nobody holds (their heartbeat was killed too, or they
 * could not tell it). The lock is taken first, so no heartbeat has the
 * log while it goes, and a live loop's log is never touched.
 */
static void
sweep(void)
{
	char *dir = log_dir(0, NULL), *path, *end;
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
ciq_heartbeat_hold(const struct ciq_conf *c, pid_t loop, int n, const char **ids,
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
ciq_heartbeat_done(const struct ciq_conf *c, int n, const char **ids)
{
	char *path = log_path(c, getppid(), 0, NULL);
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

/* The heartbeat's state. The held ids are a search tree of strings. */
struct beat {
	struct ciq_conf *conf;
	struct ciq_session session;
	int open;                 /* session is connected */
	int fd;                   /* the log, locked */
	off_t off;                /* read up to here */
	off_t punched;            /* given back below here */
	char *buf;                /* a line not yet whole */
	size_t have, cap;
	void *held;
	size_t nheld;
};

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
hold(struct beat *b, const char *id)
{
	char *copy = ciq_strdup(id);
	void *node = tsearch(copy, &b->held, cmp_id);

	if (node == NULL)
		ciq_oom(strlen(id));
	if (*(char **)node == copy)
		b->nheld++;
	else
		free(copy);
}

static void
let_go(struct beat *b, const char *id)
{
	void *node = tfind(id, &b->held, cmp_id);

	if (node != NULL) {
		char *stored = *(char **)node;

		tdelete(id, &b->held, cmp_id);
		free(stored);
		b->nheld--;
	}
}

static void
let_go_all(struct beat *b)
{
	tdestroy(b->held, free);
	b->held = NULL;
	b->nheld = 0;
}

/* twalk() passes no context: the list it fills is a file-level one, the
 * process being the heartbeat alone. */
static const char **walked;
static int nwalked;

static void
walk_one(const void *node, VISIT which, int depth)
{
	(void)depth;
	if (which == postorder || which == leaf)
		walked[nwalked++] = *(char *const *)node;
}

/* The held ids, in a new array (the strings stay the tree's). */
static const char **
held_ids(struct beat *b)
{
	walked = ciq_calloc(b->nheld + 1, sizeof *walked);
	nwalked = 0;
	twalk(b->held, walk_one);
	return walked;
}

/* Apply one line of the log. Lines that are neither are skipped: the
 * tail of a line cut by a punched hole, or an id with a newline. */
static void
apply(struct beat *b, const char *line)
{
	if (line[0] == '+' && line[1] != '\0')
		hold(b, line + 1);
	else if (line[0] == '-' && line[1] != '\0')
		let_go(b, line + 1);
	else if (line[0] == '-')
		let_go_all(b);
}

/* Apply every whole line appended since the last call. */
static void
consume(struct beat *b)
{
	for (;;) {
		char *p, *nl;
		ssize_t r;

		if (b->have == b->cap) {
			b->cap *= 2;
			b->buf = ciq_realloc(b->buf, b->cap);
		}
		r = pread(b->fd, b->buf + b->have, b->cap - b->have, b->off + (off_t)b->have);
		if (r <= 0)
			return;
		b->have += (size_t)r;
		p = b->buf;
		while ((nl = memchr(p, '\n', b->have - (size_t)(p - b->buf))) != NULL) {
			*nl = '\0';
			apply(b, p);
			p = nl + 1;
		}
		b->off += p - b->buf;
		b->have -= (size_t)(p - b->buf);
		memmove(b->buf, p, b->have);
	}
}

/*
 * Once nothing read is held, the read part of the log is of no more use:
 * its blocks go back to the file system (a hole reads as zeros, and the
 * offsets of what is appended later stay as they are).
 */
static void
punch(struct beat *b)
{
	off_t upto = b->off & ~(off_t)4095;

	if (b->nheld > 0 || upto - b->punched < PUNCH_MIN)
		return;
	/* Where the file system cannot, the log just grows. */
	(void)fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, b->punched,
	    upto - b->punched);
	b->punched = upto;
}

/* Run script sc for the held ids, connecting first if need be. NULL on
 * failure: the connection is closed, to be opened again next time. */
static redisReply *
call(struct beat *b, enum ciq_script sc, int *rc)
{
	char msg[CIQ_ERRLEN];
	const char **ids;
	redisReply *r;

	if (!b->open) {
		if ((*rc = ciq_session_open(&b->session, b->conf, CIQ_NEED_WORKER, msg)) != 0) {
			ciq_session_close(&b->session);
			return NULL;
		}
		b->open = 1;
	}
	ids = held_ids(b);
	r = ciq_session_run(&b->session, sc, (int)b->nheld, ids, NULL, rc, msg);
	free(ids);
	if (r == NULL && *rc != CIQ_EX_VANISHED) {
		ciq_session_close(&b->session);
		b->open = 0;
	}
	return r;
}

/* Refresh the held tests; keep holding only those the server says are
 * still this worker's (the others were acked elsewhere, or reclaimed). */
static void
beat(struct beat *b)
{
	redisReply *r;
	int rc;

	if ((r = call(b, CIQ_S_HEARTBEAT, &rc)) == NULL) {
		/* The build is gone: nothing is held. Else try again next beat. */
		if (rc == CIQ_EX_VANISHED)
			let_go_all(b);
		return;
	}
	let_go_all(b);
	for (size_t i = 1; i < r->elements; i++)
		hold(b, r->element[i]->str);
	freeReplyObject(r);
}

static volatile sig_atomic_t stopped;

static void
on_term(int sig)
{
	(void)sig;
	stopped = 1;
}

/* Sleep ms, or less when a signal comes. */
static void
nap(long long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	if (ms > 0)
		nanosleep(&ts, NULL);
}

int
ciq_heartbeat_run(struct ciq_conf *conf, const struct ciq_watch *loop,
    long long beat_ms, int lock)
{
	struct beat b = { .conf = conf, .fd = lock, .cap = 4096 };
	long long due = 0;
	struct sigaction sa;
	char *path;
	int ret = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	b.buf = ciq_malloc(b.cap);
	sweep();
	/* A heartbeat after one that died reads from the first bytes kept. */
	if ((b.off = lseek(lock, 0, SEEK_DATA)) == -1)
		b.off = 0;
	b.punched = b.off;
	for (;;) {
		long long now, wait;
		int alive = ciq_watch_alive(loop);

		consume(&b);
		if (!alive || stopped) {
			/* The loop is gone: its tests must not wait for the timeout. */
			if (b.nheld > 0) {
				redisReply *r;
				int rc;

				if ((r = call(&b, CIQ_S_RELEASE, &rc)) != NULL)
					freeReplyObject(r);
				else if (rc != CIQ_EX_VANISHED)
					ret = -1;
			}
			break;
		}
		now = ciq_now_ms();
		if (b.nheld == 0) {
			due = 0;
			punch(&b);
			if (b.open) {
				ciq_session_close(&b.session);
				b.open = 0;
			}
		} else if (due == 0) {
			due = now + beat_ms;
		} else if (now >= due) {
			beat(&b);
			due = ciq_now_ms() + beat_ms;
			continue;
		}
		wait = due > 0 && due - now < WATCH_MS ? due - now : WATCH_MS;
		nap(wait);
	}
	let_go_all(&b);
	if (b.open)
		ciq_session_close(&b.session);
	/* Removed while the lock is held: no pop of this loop can come now. */
	if ((path = log_path(conf, loop->pid, 0, NULL)) != NULL) {
		unlink(path);
		free(path);
	}
	free(b.buf);
	close(lock);
	return ret;
}
