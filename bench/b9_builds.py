"""B9: many builds at once on one server: throughput, the server's CPU per
test, its memory per queued test, and how long ciq-pop takes as the
worker sees it."""
import math
import os
import subprocess
import time

from harness import (LOOP_DRIVER, LOOP_SH, PROCS, TRUE, BenchError, Server, drop_build, finish, free_port, key,
                     log, populate, script_calls, tool, tool_env, write_list)

WORKERS = 8          # workers per build
LEVELS = (1, 5, 20)  # builds at once
# Tests queued per level in all, split over its builds: more than the
# machine runs in the warm-up and the window, so no queue runs dry.
QUEUED = 120000
WARMUP = 4.0         # seconds from the start of the workers to the window
ID = 'spec/models/user_%06d_spec.rb[1:2:3]'
IDLEN = len(ID % 0)
GRACE = 2.0          # seconds from the window's end to the end of the queues

# ciq-pop's wall time as its worker sees it. A shell has no clock of its
# own (date(1) would add two processes per test and time them too), so
# the loop runs ciq-pop through this wrapper: the time from just before
# posix_spawn() to just after waitpid() returns, so the start of the
# process, its connection, its script call and its exit. The wrapper
# shares its standard output with ciq-pop, so ciq-pop still finds the
# loop (its grandparent then) for the heartbeat. The test, /bin/true,
# runs through it too: the time any process takes to start and end under
# the same load, next to ciq-pop's. Built with cc, as B1 builds
# bench/ping.c. One line per call, appended to $B9_TIMES: "NAME START_NS
# DURATION_NS STATUS", CLOCK_MONOTONIC, which is Python's
# time.monotonic() clock too.
TIMED_C = r'''
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	char line[160];
	const char *name;
	const char *path = getenv("B9_TIMES");
	pid_t pid;
	int st, rc, fd, n;

	if (argc < 2 || !path)
		return 64;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (posix_spawnp(&pid, argv[1], NULL, NULL, argv + 1, environ) != 0)
		return 127;
	while (waitpid(pid, &st, 0) < 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &b);
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	name = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
	n = snprintf(line, sizeof line, "%.64s %lld %lld %d\n", name, ns(&a), ns(&b) - ns(&a), rc);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd >= 0) {
		if (write(fd, line, n) != n)
			rc = 70;
		close(fd);
	}
	return rc;
}
'''


def build_timed(dirname):
    src, exe = os.path.join(dirname, 'timed.c'), os.path.join(dirname, 'timed')
    with open(src, 'w') as f:
        f.write(TIMED_C)
    cc = subprocess.run(['cc', '-O2', '-o', exe, src], capture_output=True, text=True)
    if cc.returncode != 0:
        raise BenchError('the ciq-pop timer did not build: %s' % cc.stderr.strip()[-300:])
    return exe


def cpu_seconds(pid):
    """(utime, stime) of pid, in seconds (/proc/PID/stat, fields 14 and 15)."""
    with open('/proc/%d/stat' % pid, 'rb') as f:
        rest = f.read().rsplit(b')', 1)[1].split()
    tck = os.sysconf('SC_CLK_TCK')
    return int(rest[11]) / tck, int(rest[12]) / tck


def wakeups(pid):
    """The times the server's main thread slept and was woken: its
    voluntary context switches (/proc/PID/status)."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('voluntary_ctxt_switches:'):
                return int(line.split()[1])
    return 0


def machine_busy():
    """(busy, all) jiffies of every CPU, from /proc/stat."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return sum(v) - idle, sum(v)


def percentile(sorted_xs, p):
    """The nearest-rank percentile p (0..100) of a sorted list."""
    if not sorted_xs:
        return float('nan')
    return sorted_xs[max(0, math.ceil(p / 100 * len(sorted_xs)) - 1)]


def done(c, builds, ns):
    """The tests of the builds that have a result (see harness.results),
    in one round trip: under this load each one takes a while."""
    for b in builds:
        c.send('HLEN', key(b, 'results', ns))
        c.send('HEXISTS', key(b, 'results', ns), '')
    return sum(c.read() - c.read() for _ in builds)


class Sample:
    """What the harness reads at each end of the window."""

    def __init__(self, srv, builds, ns):
        # The clocks first, back to back; then the counts, which take a
        # command per build.
        self.t = time.monotonic()
        self.utime, stime = cpu_seconds(srv.pid)
        self.cpu = self.utime + stime
        self.wakeups = wakeups(srv.pid)
        cpu = srv.c.info('cpu')
        self.rusage = float(cpu['used_cpu_user']) + float(cpu['used_cpu_sys'])
        self.busy = machine_busy()
        self.done = done(srv.c, builds, ns)
        self.usec = script_calls(srv.c.cmdstats('usec'))
        self.calls = script_calls(srv.c.cmdstats())


def level(srv, timed, nbuilds, window, workdir, how):
    """nbuilds builds of WORKERS workers each, over no-op tests, for the
    warm-up and a window of `window` seconds. Returns a dict of figures."""
    n = QUEUED // nbuilds
    ids = [ID % i for i in range(n)]
    listfile = write_list(workdir, ids, 'b9-list-%d' % nbuilds)
    ns = 'b9-%d' % nbuilds
    # Two first builds of the same list in the same namespace load the
    # scripts and note the ids in the namespace's list of seen ids (no
    # build's key: B10 measures it), so that the memory below is the
    # builds' own. (The second finishes the incremental rehash of that
    # hash, which would else free its old table during the measure.)
    # Their keys go.
    warm = 'b9-warm-%d' % nbuilds
    for _ in range(2):
        populate(tool_env(srv.url, warm, 'w0', ns), listfile, order='given', timeout=60)
        drop_build(srv.c.call, warm, ns)
    builds = ['b9-%d-%02d' % (nbuilds, b) for b in range(nbuilds)]
    before = srv.used_memory()
    for b in builds:
        populate(tool_env(srv.url, b, 'w0', ns), listfile, order='given', timeout=60)
    mem = (srv.used_memory() - before) / (n * nbuilds)

    # Every worker: bench/loop.sh with /bin/true as the test, ciq-pop
    # through the timer, default settings (heartbeat on); or, with loop,
    # one ciq-loop per worker (bench/loop-driver.sh), /bin/true through
    # the timer as the test.
    procs = []
    for b in builds:
        for w in range(WORKERS):
            times = os.path.join(workdir, 'times-%s-%d' % (b, w))
            env = tool_env(srv.url, b, 'w%d' % w, ns, B9_TIMES=times,
                           POP='%s %s' % (timed, tool('ciq-pop')),
                           LOOP_TEST='%s %s' % (timed, TRUE))
            cmd = ['sh', LOOP_SH, '1000000000', timed, TRUE]
            if how == 'loop':
                cmd = ['sh', '-c', '. "$0"', LOOP_DRIVER]
            # Standard error to a file: 160 pipes nobody reads could fill.
            with open(times + '.err', 'w') as err:
                p = PROCS.spawn(cmd, env, stdout=subprocess.DEVNULL, stderr=err)
            procs.append((p, times))
    try:
        time.sleep(WARMUP)
        a = Sample(srv, builds, ns)
        time.sleep(window)
        z = Sample(srv, builds, ns)
        left = min(srv.c.call('LLEN', key(b, 'queue', ns)) for b in builds)
        # The calls that started in the window end before the queues go.
        time.sleep(GRACE)
    finally:
        end = time.monotonic()
        # The end: every queue emptied at once, so that each worker finds
        # its build exhausted after its current test, and exits.
        for b in builds:
            srv.c.call('DEL', key(b, 'queue', ns))
        errs = []
        deadline = time.monotonic() + 60
        for p, times in procs:
            rc = PROCS.wait(p, max(deadline - time.monotonic(), 0.1))
            if rc != 0:
                with open(times + '.err', errors='replace') as f:
                    errs.append('exit %d: %s' % (rc, f.read().strip()[-200:]))
        if PROCS.drain(5):
            log('B9: heartbeats still running 5 s after the loops')
    if errs:
        raise BenchError('%d of %d B9 workers failed, first: %s' % (len(errs), len(procs), errs[0]))
    if left == 0:
        raise BenchError('a queue ran dry in the window: shorten BENCH_B9_SECONDS')

    # The calls that started in the window (and ended before the queues
    # went: else they are counted as late).
    lat = {'ciq-pop': [], 'true': []}
    statuses, late = {}, 0
    for _, times in procs:
        with open(times) as f:
            for line in f:
                name, start, dur, rc = line.split()
                start, dur = int(start) / 1e9, int(dur) / 1e9
                if not a.t <= start <= z.t:
                    continue
                if start + dur > end:
                    late += 1
                    continue
                lat[name].append(dur)
                if name == 'ciq-pop':
                    statuses[rc] = statuses.get(rc, 0) + 1
        os.unlink(times)
        os.unlink(times + '.err')
    for v in lat.values():
        v.sort()
    pops, trues = lat['ciq-pop'], lat['true']
    wall, tests = z.t - a.t, z.done - a.done
    if tests <= 0:
        raise BenchError('no test done in the window')
    cpu = z.cpu - a.cpu
    busy = (z.busy[0] - a.busy[0]) / max(z.busy[1] - a.busy[1], 1)
    for b in builds:
        drop_build(srv.c.call, b, ns)
    return {
        'builds': nbuilds, 'tests': tests, 'wall': wall, 'rate': tests / wall,
        'cpu_share': cpu / wall, 'us_per_test': cpu * 1e6 / tests,
        'rusage_us': (z.rusage - a.rusage) * 1e6 / tests,
        'script_us': (z.usec - a.usec) / tests, 'busy': busy, 'mem': mem,
        'per_call_us': (z.usec - a.usec) / max(z.calls - a.calls, 1),
        'wakeups': (z.wakeups - a.wakeups) / tests,
        'utime_share': (z.utime - a.utime) / cpu if cpu else float('nan'),
        'queued': n * nbuilds, 'pops': len(pops), 'statuses': statuses, 'late': late,
        'p50': percentile(pops, 50), 'p99': percentile(pops, 99),
        'max': pops[-1] if pops else float('nan'),
        'true50': percentile(trues, 50), 'true99': percentile(trues, 99),
    }


def b9(ctx):
    try:
        window = float(os.environ.get('BENCH_B9_SECONDS', '15'))
    except ValueError:
        window = -1
    if not 0 < window <= 600:
        raise BenchError('BENCH_B9_SECONDS: expected seconds from 1 to 600')
    # The workers: bench/loop.sh, two tools a test (tools), or one
    # ciq-loop a worker (loop), as ciq-worker.sh runs it.
    how = os.environ.get('BENCH_B9_LOOP', 'tools')
    if how not in ('tools', 'loop'):
        raise BenchError('BENCH_B9_LOOP: expected tools or loop')
    srv = Server(tcp=('127.0.0.1', free_port()))
    try:
        timed = build_timed(srv.dir)
        got = []
        for nb in LEVELS:
            log('B9: %d build(s) x %d workers, %.0f s window' % (nb, WORKERS, window))
            got.append(level(srv, timed, nb, window, srv.dir, how))
        for r in got:
            what = '%d build%s at once x %d workers%s, no-op tests, TCP' % (
                r['builds'], '' if r['builds'] == 1 else 's', WORKERS,
                ' (one ciq-loop each)' if how == 'loop' else '')
            ctx.row('B9', what + ': tests/s; the server\'s CPU (utime+stime, /proc/PID/stat)',
                    '%.0f tests/s; server %.1f%% of a core, %.0f us CPU/test (machine %.0f%% '
                    'busy); one server core sustains ~%.0f tests/s'
                    % (r['rate'], 100 * r['cpu_share'], r['us_per_test'], 100 * r['busy'],
                       1e6 / r['us_per_test']))
            ctx.row('B9', what + ': ciq-pop wall time as the worker sees it (spawn to reap); '
                    'the same for the test, /bin/true',
                    'ciq-pop p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d calls); /bin/true p50 '
                    '%.1f ms, p99 %.1f ms'
                    % (r['p50'] * 1e3, r['p99'] * 1e3, r['max'] * 1e3, r['pops'],
                       r['true50'] * 1e3, r['true99'] * 1e3))
            ctx.row('B9', what + ': server memory per queued test (used_memory, after '
                    'populating every build)',
                    '%.1f bytes (%d tests queued)' % (r['mem'], r['queued']))
        for r in got:
            ctx.note('B9', '%d build(s): %d tests in a %.1f s window; server CPU %.0f us/test '
                     'from /proc/PID/stat (%.0f%% of it user time), %.0f us/test from INFO cpu '
                     '(getrusage); the scripts\' wall time in the server (INFO commandstats '
                     'evalsha+eval usec, preemption included) %.0f us/test, %.0f us per script '
                     'call; the server slept and woke %.2f times per test (voluntary context '
                     'switches); ciq-pop exit statuses: %s; calls still running when the queues '
                     'went: %d'
                     % (r['builds'], r['tests'], r['wall'], r['us_per_test'],
                        100 * r['utime_share'], r['rusage_us'], r['script_us'], r['per_call_us'],
                        r['wakeups'],
                        ', '.join('%s: %d' % kv for kv in sorted(r['statuses'].items())),
                        r['late']))
        ctx.note('B9', 'each level: %d tests queued in all, split over its builds (ids of %d '
                 'bytes); %d workers per build, each %s with /bin/true as the test, '
                 'default settings (heartbeat on); a %.0f s warm-up, then the window; ciq-pop '
                 'and /bin/true each run under a wrapper that times posix_spawn() to waitpid()'
                 % (QUEUED, IDLEN, WORKERS, 'bench/loop-driver.sh (one ciq-loop, no ciq-pop '
                    'to time)' if how == 'loop' else 'bench/loop.sh', WARMUP))
    finally:
        finish(srv)
