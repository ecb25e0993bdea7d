/*
 * runner.c - one run of the user's test runner (runner.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "runner.h"

/* An unlinked file holding in[0..len), at offset 0; -1 with err set. */
static int
input_file(const char *in, size_t len, char err[CIQ_ERRLEN])
{
	int fd = memfd_create("ciq-runner-input", MFD_CLOEXEC);

	if (fd == -1) {
		const char *dir = getenv("TMPDIR");
		char path[4096];

		if (dir == NULL || *dir == '\0')
			dir = "/tmp";
		snprintf(path, sizeof path, "%s/ciq-runner.XXXXXX", dir);
		if ((fd = mkostemp(path, O_CLOEXEC)) == -1) {
			snprintf(err, CIQ_ERRLEN, "cannot make a file for the runner's input in '%s': %s",
			    dir, strerror(errno));
			return -1;
		}
		unlink(path);
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(fd, in + done, len - done);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			snprintf(err, CIQ_ERRLEN, "cannot write the runner's input: %s", strerror(errno));
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) == -1) {
		snprintf(err, CIQ_ERRLEN, "cannot rewind the runner's input: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The child: its own group, the caller's mask, the descriptors; exec.
 * On failure, execvp's errno goes up the pipe. */
static _Noreturn void
child(char *const argv[], const sigset_t *mask, pid_t parent, int in, int out, int report)
{
	int e;

	setpgid(0, 0);
	/* If this process dies without killing the group (SIGKILL), the
	 * runner at least does not outlive it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	sigprocmask(SIG_SETMASK, mask, NULL);
	/* Out of the way first: either may be 0, 1 or 2 when this process
	 * was started with those closed. */
	in = fcntl(in, F_DUPFD_CLOEXEC, 10);
	out = in == -1 ? -1 : fcntl(out, F_DUPFD_CLOEXEC, 10);
	if (out == -1 || dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(out, 2) == -1) {
		e = errno;
	} else {
		execvp(argv[0], argv);
		e = errno;
	}
	while (write(report, &e, sizeof e) == -1 && errno == EINTR)
		;
	_exit(127);
}

/* Reap pid, resuming on EINTR; its wait status. */
static int
reap(pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return st;
}

/* Wait for pid to exit (left unreaped), a signal of set (returned), or the
 * deadline (0 for either of those). 1 when it exited. */
static int
await(pid_t pid, const sigset_t *set, long long deadline, int *sig)
{
	*sig = 0;
	for (;;) {
		siginfo_t si;
		struct timespec ts;
		long long left;
		int s;

		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			return 1;
		if ((left = deadline - ciq_now_ms()) <= 0)
			return 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		s = sigtimedwait(set, NULL, &ts);
		if (s == SIGINT || s == SIGTERM || s == SIGHUP) {
			*sig = s;
			return 0;
		}
		/* SIGCHLD, the time limit, EINTR: look again. */
	}
}

/* An interrupting signal that arrived after the wait, or 0. */
static int
pending_interrupt(void)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };
	int s;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	s = sigtimedwait(&set, NULL, &zero);
	return s > 0 ? s : 0;
}

int
ciq_runner_run(char *const argv[], const char *in, size_t len, int out,
    long long timeout_ms, struct ciq_run *r, char err[CIQ_ERRLEN])
{
	struct sigaction dfl, old_chld;
	sigset_t set, old_mask;
	int in_fd, null_fd = -1, pipefd[2], code, n, sig, exited, st, rc = -1;
	long long start;
	pid_t pid, self = getpid();

	memset(r, 0, sizeof *r);
	if ((in_fd = input_file(in, len, err)) == -1)
		return -1;
	if (out == -1 && (out = null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		snprintf(err, CIQ_ERRLEN, "cannot open /dev/null: %s", strerror(errno));
		close(in_fd);
		return -1;
	}
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		snprintf(err, CIQ_ERRLEN, "cannot make a pipe: %s", strerror(errno));
		close(in_fd);
		if (null_fd != -1)
			close(null_fd);
		return -1;
	}

	/* SIGCHLD at its default, so the child can be waited for even when
	 * this process inherited it ignored; then the signals waited for. */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old_chld);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old_mask);

	start = ciq_now_ms();
	if ((pid = fork()) == -1) {
		snprintf(err, CIQ_ERRLEN, "cannot start the runner: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(argv, &old_mask, self, in_fd, out, pipefd[1]);
	/* Both sides set the group, so it exists before either goes on. */
	setpgid(pid, pid);
	close(pipefd[1]);
	pipefd[1] = -1;
	while ((n = (int)read(pipefd[0], &code, sizeof code)) == -1 && errno == EINTR)
		;
	if (n == (int)sizeof code) {
		reap(pid);
		r->end = CIQ_RUN_NOEXEC;
		r->status = code;
		r->ms = ciq_now_ms() - start;
		rc = 0;
		goto out;
	}

	exited = await(pid, &set, start + timeout_ms, &sig);
	/* The leader is alive or a zombie, so its pid still names the group. */
	kill(-pid, SIGKILL);
	st = reap(pid);
	r->ms = ciq_now_ms() - start;
	if (sig == 0)
		sig = pending_interrupt();
	if (sig != 0) {
		r->end = CIQ_RUN_INTERRUPTED;
		r->status = sig;
	} else if (!exited) {
		r->end = CIQ_RUN_TIMEDOUT;
	} else if (WIFSIGNALED(st)) {
		r->end = CIQ_RUN_SIGNALED;
		r->status = WTERMSIG(st);
	} else {
		r->end = CIQ_RUN_EXITED;
		r->status = WEXITSTATUS(st);
	}
	rc = 0;
out:
	/* A SIGCHLD left pending is dropped, not delivered to the caller. */
	{
		sigset_t chld;
		struct timespec zero = { 0, 0 };

		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		while (sigtimedwait(&chld, NULL, &zero) > 0)
			;
	}
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGCHLD, &old_chld, NULL);
	close(pipefd[0]);
	if (pipefd[1] != -1)
		close(pipefd[1]);
	close(in_fd);
	if (null_fd != -1)
		close(null_fd);
	return rc;
}
