/*
 * heartbeat.c - the loop's log, and the process that beats for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "exit.h"
#include "hblog.h"
#include "heartbeat.h"
#include "session.h"

/* How often the loop and the log are looked at. */
#define WATCH_MS 100
/* Read bytes of the log are given back to the file system in chunks of
 * at least this much, once nothing read is held any more. */
#define PUNCH_MIN 16384

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

/* Apply one line of the log (hblog.h). */
static void
apply(struct beat *b, const char *line)
{
	const char *id;

	switch (ciq_hblog_parse(line, &id)) {
	case CIQ_HBLOG_HOLD:
		hold(b, id);
		break;
	case CIQ_HBLOG_DONE:
		let_go(b, id);
		break;
	case CIQ_HBLOG_DONE_ALL:
		let_go_all(b);
		break;
	case CIQ_HBLOG_SKIP:
		break;
	}
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

/*
 * Be the heartbeat of the loop, on the log whose lock descriptor this
 * process holds: read the log, beat every beat_ms while a test is held,
 * and when the loop dies or SIGTERM comes, give back the tests still
 * held, remove the log and return. First it removes the logs that loops
 * killed with their heartbeat left behind. The connection (as conf says) is
 * opened at the first beat and closed whenever nothing is held. Returns
 * 0, or -1 when the tests could not be given back (they then age out as
 * for a lost machine).
 */
static int
run(struct ciq_conf *conf, const struct ciq_proc *loop,
    long long beat_ms, int lock)
{
	struct beat b = { .conf = conf, .fd = lock, .cap = 4096 };
	long long due = 0;
	struct sigaction sa;
	int ret = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	b.buf = ciq_malloc(b.cap);
	ciq_hblog_sweep();
	/* A heartbeat after one that died reads from the first bytes kept. */
	if ((b.off = lseek(lock, 0, SEEK_DATA)) == -1)
		b.off = 0;
	b.punched = b.off;
	for (;;) {
		long long now, wait;
		int alive = ciq_proc_alive(loop);

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
	ciq_hblog_remove(conf, loop->pid);
	free(b.buf);
	close(lock);
	return ret;
}

int
ciq_heartbeat_start(struct ciq_conf *conf, const struct ciq_proc *loop, int n, const char **ids,
    char err[CIQ_ERRLEN])
{
	long long beat;
	pid_t pid;
	int lock, fd;

	switch (ciq_hblog_hold(conf, loop->pid, n, ids, &lock, err)) {
	case 1:
		return 0;
	case -1:
		return CIQ_HEARTBEAT_UNTOLD;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, CIQ_ERRLEN, "%s", strerror(errno));
		close(lock);
		return CIQ_HEARTBEAT_UNSTARTED;
	}
	if (pid > 0) {
		close(lock);
		return 0;
	}
	setsid();
	if (dup2(lock, 3) == -1)
		_exit(1);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	/* One call where the kernel has it (Linux 5.9), not a thousand. */
	if (close_range(4, ~0u, 0) == -1)
		for (int i = 4; i < 1024; i++)
			close(i);
	/* Three beats fit in a timeout, so one late beat loses nothing. */
	beat = ciq_conf_ms(conf, CIQ_K_HEARTBEAT);
	if (beat > ciq_conf_ms(conf, CIQ_K_TIMEOUT) / 3)
		beat = ciq_conf_ms(conf, CIQ_K_TIMEOUT) / 3;
	run(conf, loop, beat > 10 ? beat : 10, 3);
	/* No exit handlers: they belong to the process that forked. */
	_exit(0);
}
