#!/usr/bin/python3
"""bench.py [B1 ... B7] [--markdown FILE] - the ciq benchmarks.

Run through bench/run.sh (make bench runs them all). Every benchmark starts
its own redis-server in a temporary directory, bounds its own runtime and
stops its servers by pidfile. Every figure is a ratio or a count measured
side by side in the same run. The table goes to standard output; with
--markdown the same table, the machine and the notes are written to FILE
in Markdown, for bench/RESULTS.md.

Standard library only. Environment:

  CIQ_BIN          directory of the ciq binaries (default: bin/ here)
  BENCH_B1_TESTS   tests per B1 run (default 600)
  BENCH_B4_SECONDS target length of one B4 run (default 30)
  BENCH_B7_TESTS   tests per B7 build (default 1000)
"""
import ctypes
import datetime
import hashlib
import os
import random
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, 'bench')
BIN = os.environ.get('CIQ_BIN') or os.path.join(ROOT, 'bin')
WORKER_SH = os.path.join(ROOT, 'ci-templates', 'ciq-worker.sh')
LOOP_SH = os.path.join(BENCH, 'loop.sh')
BATCH_SH = os.path.join(BENCH, 'batch.sh')
SLEEP_SH = os.path.join(BENCH, 'sleep-test.sh')
PROXY_PY = os.path.join(BENCH, 'delayproxy.py')
TRUE = shutil.which('true', path='/bin:/usr/bin') or '/bin/true'

# Commands the harness itself sends while it measures: never counted.
HARNESS_CMDS = {'info', 'config|resetstat', 'monitor', 'ping'}

# Variables that would point the tools at another queue or a CI provider.
SCRUB = ('REDIS_URL', 'BUILDKITE', 'CIRCLECI', 'TRAVIS', 'HEROKU_TEST_RUN_ID',
         'SEMAPHORE', 'GITHUB_ACTIONS', 'GITLAB_CI', 'BITBUCKET_BUILD_NUMBER',
         'TF_BUILD', 'JENKINS_URL', 'CI_NODE_INDEX', 'CI')


class BenchError(Exception):
    pass


def log(msg):
    sys.stderr.write('bench: %s\n' % msg)
    sys.stderr.flush()


# --------------------------------------------------------------------------
# Processes. The harness makes itself a child subreaper, so that the
# heartbeat processes ciq-pop leaves behind (double-forked, in their own
# session) become its children: it can wait for them to end before it
# stops a server, and end the stragglers by pid.

def set_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        log('cannot become a subreaper: heartbeats are not waited for')


class Procs:
    """Every process the harness starts, each in its own process group."""

    def __init__(self):
        self.live = {}       # pid -> Popen not waited for yet
        self.servers = set()  # pids of daemonized servers (our children too)

    def spawn(self, args, env, **kw):
        kw.setdefault('stdin', subprocess.DEVNULL)
        p = subprocess.Popen(args, env=env, start_new_session=True, **kw)
        self.live[p.pid] = p
        return p

    def wait(self, p, timeout):
        """Wait for p at most timeout seconds; kill its group after that.
        A blocking wait, with a timer for the kill: Popen.wait(timeout)
        polls, with naps of up to 50 ms, which would blur the timings."""
        timer = threading.Timer(timeout, self.killgroup, (p,))
        timer.start()
        try:
            rc = p.wait()
        finally:
            expired = not timer.is_alive()
            timer.cancel()
        self.live.pop(p.pid, None)
        if expired:
            raise BenchError('%s still running after %.0f s: killed'
                             % (os.path.basename(str(p.args[0])), timeout))
        return rc

    def killgroup(self, p, sig=signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass

    def run(self, args, env, timeout, **kw):
        """Run args; (elapsed seconds, status)."""
        t0 = time.monotonic()
        p = self.spawn(args, env, **kw)
        rc = self.wait(p, timeout)
        return time.monotonic() - t0, rc

    def orphans(self):
        """(pid, state) of our children that we did not start: heartbeats."""
        me, out = os.getpid(), []
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            pid = int(d)
            if pid in self.live or pid in self.servers:
                continue
            try:
                with open('/proc/%d/stat' % pid, 'rb') as f:
                    s = f.read()
            except OSError:
                continue
            rest = s[s.rindex(b')') + 2:].split()
            if int(rest[1]) == me:
                out.append((pid, rest[0]))
        return out

    def drain(self, timeout):
        """Reap ended heartbeats; wait up to timeout for the others to
        end. Returns how many are still running."""
        deadline = time.monotonic() + timeout
        while True:
            running = 0
            for pid, state in self.orphans():
                if state == b'Z':
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass
                else:
                    running += 1
            if running == 0 or time.monotonic() >= deadline:
                return running
            time.sleep(0.05)

    def cleanup(self):
        """Kill what is left of this benchmark, by pid."""
        for p in list(self.live.values()):
            if p.poll() is None:
                self.killgroup(p, signal.SIGTERM)
        for p in list(self.live.values()):
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.killgroup(p)
                p.wait()
        self.live.clear()
        if self.drain(1.5):
            for pid, state in self.orphans():
                if state != b'Z':
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self.drain(2)


PROCS = Procs()


def finish(*things):
    """End a benchmark: its processes, then its servers (and namespace),
    each step even when an earlier one fails."""
    try:
        PROCS.cleanup()
    finally:
        for t in things:
            if t is not None:
                try:
                    t.stop() if hasattr(t, 'stop') else t.close()
                except Exception as e:  # keep stopping the others
                    log('cleanup: %s' % e)


# The tools' temporary files (the loops' output files, the heartbeats'
# notes) go to a directory of this run, removed at its end.
WORKDIR = None


def tool_env(url, build, worker='0', namespace=None, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('CIQ_') and k not in SCRUB and k != 'XDG_RUNTIME_DIR'}
    env['PATH'] = BIN + os.pathsep + env.get('PATH', '/usr/bin:/bin')
    if WORKDIR:
        env['TMPDIR'] = WORKDIR
    env.update(CIQ_QUEUE=url, CIQ_BUILD=build, CIQ_WORKER=str(worker))
    if namespace:
        env['CIQ_NAMESPACE'] = namespace
    env.update({k: str(v) for k, v in extra.items()})
    return env


# --------------------------------------------------------------------------
# Redis: a small RESP client, the server, MONITOR.

class RespError(Exception):
    pass


class Resp:
    def __init__(self, addr, timeout=30):
        if isinstance(addr, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(addr)
        else:
            s = socket.create_connection(addr, timeout=timeout)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.f = s, s.makefile('rb')

    def send(self, *args):
        out = [b'*%d\r\n' % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b'$%d\r\n%s\r\n' % (len(a), a))
        self.sock.sendall(b''.join(out))

    def read(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError('connection closed')
        kind, rest = line[:1], line[1:-2]
        if kind == b'+':
            return rest.decode()
        if kind == b'-':
            raise RespError(rest.decode())
        if kind == b':':
            return int(rest)
        if kind == b'$':
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if kind == b'*':
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RespError('bad reply %r' % line)

    def call(self, *args):
        self.send(*args)
        return self.read()

    def info(self, section):
        out = {}
        for line in self.call('INFO', section).decode().splitlines():
            if ':' in line and not line.startswith('#'):
                k, v = line.split(':', 1)
                out[k] = v
        return out

    def cmdstats(self, field='calls'):
        """{command: calls} (or usec), the harness's own commands left out."""
        out = {}
        for k, v in self.info('commandstats').items():
            name = k[len('cmdstat_'):]
            if name not in HARNESS_CMDS:
                out[name] = int(re.search(r'\b%s=(\d+)' % field, v).group(1))
        return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop_pid(pid, timeout=5.0):
    """SIGTERM pid, wait for it (reaping it if it is our child), SIGKILL."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


class Server:
    """A private redis-server: on a unix socket in a short temp dir, or on
    TCP (host, port), optionally inside a network namespace."""

    def __init__(self, tcp=None, netns=None):
        self.dir = tempfile.mkdtemp(prefix='ciqb.', dir='/tmp')
        self.pidfile = os.path.join(self.dir, 'pid')
        args = ['redis-server', '--save', '', '--appendonly', 'no',
                '--daemonize', 'yes', '--pidfile', self.pidfile,
                '--logfile', os.path.join(self.dir, 'log'), '--dir', self.dir]
        if tcp:
            host, port = tcp
            args += ['--port', str(port), '--bind', host, '--protected-mode', 'no']
            self.addr, self.url = (host, port), 'redis://%s:%d' % (host, port)
        else:
            sock = os.path.join(self.dir, 'sock')
            args += ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700']
            self.addr, self.url = sock, 'unix://' + sock
        if netns:
            args = ['ip', 'netns', 'exec', netns] + args
        self.pid = None
        r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0:
            self.stop()
            raise BenchError('redis-server did not start: %s' % (r.stderr or r.stdout).strip())
        deadline = time.monotonic() + 10
        while True:
            try:
                with open(self.pidfile) as f:
                    self.pid = int(f.read().strip())
                PROCS.servers.add(self.pid)
                c = Resp(self.addr, timeout=2)
                ok = c.call('PING') == 'PONG'
                c.close()
                if ok:
                    break
            except (OSError, ValueError, RespError, ConnectionError):
                pass
            if time.monotonic() >= deadline:
                self.stop()
                raise BenchError('redis-server did not answer within 10 s')
            time.sleep(0.05)
        self.c = Resp(self.addr)

    def stop(self):
        if getattr(self, 'c', None):
            self.c.close()
            self.c = None
        pid = self.pid
        if pid is None and os.path.exists(self.pidfile):
            try:
                with open(self.pidfile) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                pid = None
        if pid:
            stop_pid(pid)
            PROCS.servers.discard(pid)
        shutil.rmtree(self.dir, ignore_errors=True)

    def used_memory(self):
        return int(self.c.info('memory')['used_memory'])

    def hlen(self, key):
        """The fields of a hash of records, its marker (the field named "",
        lua/prelude.lua) left out."""
        return self.c.call('HLEN', key) - self.c.call('HEXISTS', key, '')


SHAS = None


def script_names():
    """{sha1: script name} of the scripts embedded in the tools, from the
    headers the build generated (build/lua/NAME.h), else computed from the
    sources: lua/prelude.lua followed by lua/NAME.lua (see lua/embed.sh).
    Read once, with the snapshot of the binaries."""
    global SHAS
    if SHAS is not None:
        return SHAS
    out = {}
    for h in sorted(os.listdir(os.path.join(ROOT, 'build', 'lua'))
                    if os.path.isdir(os.path.join(ROOT, 'build', 'lua')) else []):
        try:
            with open(os.path.join(ROOT, 'build', 'lua', h)) as f:
                m = re.search(r'ciq_lua_(\w+)_sha\[\] = "([0-9a-f]{40})"', f.read())
            if m:
                out[m.group(2)] = m.group(1)
        except OSError:
            pass
    if out:
        SHAS = out
        return out
    lua = os.path.join(ROOT, 'lua')
    try:
        with open(os.path.join(lua, 'prelude.lua'), 'rb') as f:
            prelude = f.read()
        for name in sorted(os.listdir(lua)):
            if name.endswith('.lua') and name != 'prelude.lua':
                with open(os.path.join(lua, name), 'rb') as f:
                    out[hashlib.sha1(prelude + f.read()).hexdigest()] = name[:-4]
    except OSError:
        pass
    SHAS = out
    return out


class Monitor:
    """MONITOR in a thread: counts the commands clients send (not those the
    scripts run, which MONITOR tags "lua"), by name, and EVALSHA/EVAL by
    script. Only counts while counting is on."""

    LINE = re.compile(rb'^\+(\d+\.\d+) \[\d+ ([^\]]*)\] "([^"]*)"(?: "([^"]*)")?')

    def __init__(self, addr):
        self.shas = script_names()
        self.c = Resp(addr, timeout=0.2)
        self.c.send('MONITOR')
        self.c.sock.settimeout(5)
        if self.c.read() != 'OK':
            raise BenchError('MONITOR refused')
        # Blocking reads: a read that timed out would leave the socket's
        # file unusable, and a quiet server is no error. close() ends them.
        self.c.sock.settimeout(None)
        self.seen, self.counting, self.stopping, self.t0 = [], False, False, 0
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stopping:
            try:
                line = self.c.f.readline()
            except (socket.timeout, TimeoutError):
                continue
            except (OSError, ValueError):
                return
            if not line:
                return
            m = self.LINE.match(line)
            if not m or not self.counting or m.group(2) == b'lua':
                continue
            name = m.group(3).decode().lower()
            if name in HARNESS_CMDS or name == 'config':
                continue
            if name == 'evalsha':
                name = 'evalsha ' + self.shas.get((m.group(4) or b'').decode(), '?')
            elif name == 'eval':
                s = re.findall(rb'-- (\w+)\.lua: ', line)
                s = [x for x in s if x != b'prelude']
                name = 'eval ' + (s[0].decode() if s else '?')
            with self.lock:
                self.seen.append((float(m.group(1)), name))

    def start(self):
        with self.lock:
            self.seen = []
        self.t0 = time.time()
        self.counting = True

    def take(self):
        """Stop counting; ({name: count}, seconds) of the commands the server
        ran between start() and now, by its clock."""
        t1 = time.time()
        time.sleep(0.3)  # the lines of commands already run
        self.counting = False
        with self.lock:
            seen = list(self.seen)
        counts = {}
        for ts, name in seen:
            if self.t0 <= ts <= t1:
                counts[name] = counts.get(name, 0) + 1
        return counts, t1 - self.t0

    def close(self):
        self.stopping = True
        try:
            self.c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.t.join(2)
        self.c.close()


# --------------------------------------------------------------------------
# Helpers for the benchmarks.

def write_list(dirname, ids, name='list'):
    path = os.path.join(dirname, name)
    with open(path, 'w') as f:
        f.write('\n'.join(ids))
        f.write('\n')
    return path


def populate(env, listfile, order='given', timeout=60):
    t, rc = PROCS.run(['ciq-populate', '--order', order, listfile], env, timeout,
                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if rc != 0:
        raise BenchError('ciq-populate exited %d' % rc)
    return t


def key(build, name, namespace=None):
    return 'ciq:{%s%s}:%s' % (namespace + ':' if namespace else '', build, name)


def per(calls, n):
    return ', '.join('%s %.2f' % (k, v / n) for k, v in
                     sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])))


def fmt_ms(s):
    return '%.2f ms' % (s * 1000)


class Ctx:
    def __init__(self):
        self.rows, self.notes = [], []

    def row(self, bid, what, figure, target='-', met='-', cmd=None):
        self.rows.append((bid, what, figure, target, met, cmd or 'bench/run.sh ' + bid))

    def note(self, bid, text):
        self.notes.append((bid, text))


def yes(ok):
    return 'yes' if ok else 'NO'


# --------------------------------------------------------------------------
# B1: the SPEC loop over no-op tests against the process floor; round trips.

def spec_loop_run(srv, build, n, url=None, timeout=300, monitor=None, **extra):
    """Populate n no-op tests and run the SPEC loop over them, reaching the
    server at url (default: its own); (seconds, commandstats, connections,
    MONITOR counts) of the loop alone, heartbeats included."""
    env = tool_env(url or srv.url, build, **extra)
    ids = ['spec/unit/case_%05d_spec.rb' % i for i in range(n)]
    populate(env, write_list(srv.dir, ids, build), order='given')
    srv.c.call('CONFIG', 'RESETSTAT')
    if monitor:
        monitor.start()
    t, rc = PROCS.run(['sh', LOOP_SH, str(n + 1), TRUE], env, timeout)
    if rc != 0:
        raise BenchError('the SPEC loop exited %d' % rc)
    # The heartbeats ciq-pop left: their calls belong to the loop too.
    if PROCS.drain(5):
        log('heartbeats still running 5 s after the loop')
    sent = monitor.take()[0] if monitor else None
    stats = srv.c.cmdstats()
    usec = srv.c.cmdstats('usec')
    srv.last_usec = sum(v for k, v in usec.items() if k in ('evalsha', 'eval'))
    conns = int(srv.c.info('stats')['total_connections_received'])
    done = srv.hlen(key(build, 'results'))
    if done != n:
        raise BenchError('%d results for %d tests' % (done, n))
    return t, stats, conns, sent


def floor_run(n, timeout=120):
    env = tool_env('unix:///nonexistent', 'floor', POP=TRUE, ACK=TRUE, REQUEUE=TRUE)
    t, rc = PROCS.run(['sh', LOOP_SH, str(n), TRUE], env, timeout)
    if rc != 0:
        raise BenchError('the floor loop exited %d' % rc)
    return t


def b1(ctx):
    n = int(os.environ.get('BENCH_B1_TESTS', '600'))
    reps = 5
    srv = Server()
    try:
        loops, floors = [], []
        for rep in range(reps):
            floors.append(floor_run(n) / n)
            t, stats, conns, _ = spec_loop_run(srv, 'b1-%d' % rep, n)
            loops.append(t / n)
        loop, floor = statistics.median(loops), statistics.median(floors)
        ratio = loop / floor
        ctx.row('B1', 'SPEC loop over no-op tests / same loop with /bin/true per tool',
                '%.2fx (loop %s/test, floor %s/test; %d tests, median of %d)'
                % (ratio, fmt_ms(loop), fmt_ms(floor), n, reps),
                '<= 1.5x', yes(ratio <= 1.5))
        ctx.note('B1', 'loop ms/test per run: %s; floor: %s; fastest loop / fastest floor: '
                 '%.2fx' % (', '.join('%.2f' % (x * 1000) for x in loops),
                            ', '.join('%.2f' % (x * 1000) for x in floors),
                            min(loops) / min(floors)))
        ctx.note('B1', 'INFO commandstats per test (last timed run, %d tests; includes the '
                 'commands the scripts run inside the server): %s' % (n, per(stats, n)))
        ctx.note('B1', 'connections per test: %.2f; server time in the scripts: %.0f us/test'
                 % (conns / n, srv.last_usec / n))

        # Round trips, by script: a separate run under MONITOR, which sees
        # each command a client sends (the scripts' own are tagged "lua").
        m = Monitor(srv.addr)
        try:
            nm = 300
            _, stats2, _, sent = spec_loop_run(srv, 'b1-monitor', nm, monitor=m)
        finally:
            m.close()
        client = sum(sent.values())
        calls = sum(v for k, v in stats.items() if k in ('evalsha', 'eval'))
        extra = {k: v for k, v in sent.items() if k not in ('evalsha pop', 'evalsha ack')}
        # One pop per test, plus the one that finds the queue exhausted.
        ok = (not extra and sent.get('evalsha pop', 0) <= nm + 1
              and sent.get('evalsha ack', 0) == nm)
        ctx.row('B1', 'Redis round trips per test (client commands, MONITOR)',
                '%.2f: %s' % (client / nm, per(sent, nm)),
                '2 (1 pop + 1 ack)', yes(ok))
        ctx.row('B1', 'script calls per test (INFO commandstats evalsha+eval)',
                '%.2f (of %.2f commands/test counted in all)'
                % (calls / n, sum(stats.values()) / n), '2', yes(calls / n <= 2.02))
        ctx.note('B1', 'MONITOR run: %d tests; the first call of each script after a server '
                 'start is an EVAL (NOSCRIPT), the last pop finds the queue exhausted'
                 % nm)
        ctx.note('B1', 'INFO commandstats per test in the MONITOR run: %s' % per(stats2, nm))

        # Diagnostics for the reading of the ratio: the same loop without
        # the heartbeat, and the start of one tool against /bin/true.
        t, _, conns, _ = spec_loop_run(srv, 'b1-noheartbeat', n, CIQ_HEARTBEAT=0)
        ctx.note('B1', 'diagnostic: the same loop with CIQ_HEARTBEAT=0: %s/test (%.2fx the '
                 'floor), %.2f connections/test' % (fmt_ms(t / n), t / n / floor, conns / n))
        starts = {}
        for name, args in (('/bin/true', [TRUE]),
                           ('ciq-pop --version', [os.path.join(BIN, 'ciq-pop'), '--version'])):
            t0 = time.monotonic()
            for _ in range(200):
                subprocess.run(args, stdout=subprocess.DEVNULL)
            starts[name] = (time.monotonic() - t0) / 200
        ctx.note('B1', 'diagnostic: fork+exec+exit of %s' % ', '.join(
            '%s %s' % (k, fmt_ms(v)) for k, v in starts.items()))

        # A second floor: the same loop with the least a tool can do that
        # talks to the server (bench/ping.c: connect, PING, exit) in place
        # of each tool, alternated with the first floor.
        ping = os.path.join(srv.dir, 'ping')
        cc = subprocess.run(['cc', '-O2', '-o', ping, os.path.join(BENCH, 'ping.c')],
                            capture_output=True, text=True)
        if cc.returncode != 0:
            ctx.note('B1', 'diagnostic: bench/ping.c did not build: %s' % cc.stderr.strip())
        elif srv.url.startswith('unix://'):
            pings, trues = [], []
            for _ in range(3):
                trues.append(floor_run(n) / n)
                env = tool_env(srv.url, 'b1-ping', POP=ping, ACK=ping, REQUEUE=ping)
                t, rc = PROCS.run(['sh', LOOP_SH, str(n), TRUE], env, 120)
                if rc != 0:
                    raise BenchError('the loop with bench/ping.c exited %d' % rc)
                pings.append(t / n)
            pf, tf = statistics.median(pings), statistics.median(trues)
            ctx.note('B1', 'diagnostic: the same loop with bench/ping.c (connect, PING, exit) '
                     'for each tool: %s/test, %.2fx the floor (%s/test); the ciq loop is %.2fx '
                     'that' % (fmt_ms(pf), pf / tf, fmt_ms(tf), loop / pf))
    finally:
        finish(srv)


# --------------------------------------------------------------------------
# B2: batches of 100.

def b2(ctx):
    n, size, reps = 50000, 100, 3
    srv = Server()
    try:
        ids = ['spec/unit/case_%06d_spec.rb' % i for i in range(n)]
        listfile = write_list(srv.dir, ids)
        times, calls, usec = [], {}, 0
        for rep in range(reps):
            build = 'b2-%d' % rep
            env = tool_env(srv.url, build)
            populate(env, listfile, order='given')
            srv.c.call('CONFIG', 'RESETSTAT')
            t, rc = PROCS.run(['sh', BATCH_SH, str(size)], env, 120)
            if rc != 0:
                raise BenchError('the batch loop exited %d' % rc)
            PROCS.drain(5)
            stats = srv.c.cmdstats()
            calls = {k: v for k, v in stats.items() if k in ('evalsha', 'eval')}
            usec = sum(v for k, v in srv.c.cmdstats('usec').items() if k in ('evalsha', 'eval'))
            done = srv.hlen(key(build, 'results'))
            if done != n:
                raise BenchError('%d results for %d tests' % (done, n))
            times.append(t)
        t = statistics.median(times)
        rate = n / t
        ctx.row('B2', 'one worker, ciq-pop -n %d + one ciq-ack per batch, unix socket' % size,
                '%.0f tests/s (%d tests in %.2f s, %s/batch; median of %d)'
                % (rate, n, t, fmt_ms(t / (n / size)), reps),
                '>= 20000 tests/s', yes(rate >= 20000))
        ctx.note('B2', 'tests/s per run: %s; script calls per batch: %s; server time in the '
                 'scripts: %s/batch' % (', '.join('%.0f' % (n / x) for x in times),
                                        per(calls, n / size), fmt_ms(usec / 1e6 / (n / size))))
    finally:
        finish(srv)


# --------------------------------------------------------------------------
# B3: populate 100,000 and 1,000,000 ids.

def b3(ctx):
    srv = Server()
    try:
        for n in (100000, 1000000):
            ids = ['spec/models/group_%03d/user_account_%07d_spec.rb' % (i % 997, i)
                   for i in range(n)]
            avg = sum(len(i) for i in ids) / n
            listfile = write_list(srv.dir, ids, 'ids-%d' % n)
            del ids
            srv.c.call('FLUSHALL')
            before = srv.used_memory()
            env = tool_env(srv.url, 'b3-%d' % n)
            t = populate(env, listfile, order='random', timeout=60)
            after = srv.used_memory()
            if srv.c.call('LLEN', key('b3-%d' % n, 'queue')) != n:
                raise BenchError('the queue does not hold %d ids' % n)
            os.unlink(listfile)
            bytes_per = (after - before) / n
            limit = 2 * avg + 64
            label = '%dk' % (n // 1000) if n < 1000000 else '1M'
            ctx.row('B3', 'ciq-populate --order random, %s ids (wall clock)' % label,
                    '%.2f s (%.0f ids/s)' % (t, n / t),
                    '<= 3 s' if n == 1000000 else '-',
                    yes(t <= 3) if n == 1000000 else '-')
            ctx.row('B3', 'Redis memory per id, %s ids (avg id %.1f bytes)' % (label, avg),
                    '%.1f bytes (used_memory %+.1f MB)' % (bytes_per, (after - before) / 1e6),
                    '<= 2*len+64 = %.0f' % limit, yes(bytes_per <= limit))
        srv.c.call('FLUSHALL')
    finally:
        finish(srv)


# --------------------------------------------------------------------------
# B4: balance of 8 workers over a heavy-tailed suite.

def b4_suite(seconds, workers=8, n=400, seed=7, sigma=1.1):
    """n lognormal durations, fixed seed, scaled so that total/workers is
    `seconds`. Returns [(id, duration)]."""
    rng = random.Random(seed)
    d = [rng.lognormvariate(0, sigma) for _ in range(n)]
    scale = seconds * workers / sum(d)
    d = [round(x * scale, 3) for x in d]
    return [('b4/test_%03d@%.3f' % (i, x), x) for i, x in enumerate(d)]


def b4_run(srv, suite, build, namespace, order, seed, workers=8, timeout=120):
    """Run the suite with `workers` ciq-worker.sh loops. Returns (makespan,
    statuses, stderr text)."""
    listfile = write_list(srv.dir, [i for i, _ in suite], 'b4-' + build)
    procs = []
    t0 = time.monotonic()
    for w in range(workers):
        env = tool_env(srv.url, build, w, namespace, CIQ_SEED=seed)
        procs.append(PROCS.spawn(
            ['sh', '-c', 'ciq-populate --order "$1" "$2" && exec sh "$3" sh "$4"', 'sh',
             order, listfile, WORKER_SH, SLEEP_SH],
            env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    deadline = t0 + timeout
    statuses, errs, end = [], [], t0
    for p in procs:
        try:
            statuses.append(PROCS.wait(p, max(deadline - time.monotonic(), 0.1)))
        finally:
            errs.append(p.stderr.read().decode(errors='replace'))
            p.stderr.close()
        end = max(end, time.monotonic())
    return end - t0, statuses, ''.join(errs)


def b4_timing_row(ctx, srv, suite, bound, namespace, build, what, diagnostic=False):
    span, st, err = b4_run(srv, suite, build, namespace, 'timing', 'bench-b4')
    if all(s in (64, 78) for s in st) and 'order' in err:
        msg = err.strip().splitlines()[0] if err.strip() else ''
        ctx.row('B4', what, 'not measured: ciq-populate --order timing rejected (exit %d: %s)'
                % (st[0], msg), '<= 1.05', 'n/a')
        return False
    if any(st):
        raise BenchError('timing run: worker statuses %s: %s' % (st, err.strip()[-300:]))
    ratio = span / bound
    ctx.row('B4', what, '%.3f (%.2f s / %.2f s)' % (ratio, span, bound), '<= 1.05',
            yes(ratio <= 1.05) + (' (diagnostic)' if diagnostic else ''))
    return True


def b4(ctx):
    seconds = float(os.environ.get('BENCH_B4_SECONDS', '30'))
    workers = 8
    suite = b4_suite(seconds, workers)
    durs = sorted((d for _, d in suite), reverse=True)
    total, longest, median = sum(durs), durs[0], statistics.median(durs)
    bound = max(total / workers, longest)
    heavy = sum(1 for d in durs if d >= 20 * median)
    stamp = time.strftime('%Y%m%d%H%M%S')
    namespace = 'bench-%s-%d' % (stamp, os.getpid())
    ctx.note('B4', 'suite: 400 tests, lognormal sigma 1.1, seed 7; total %.1f s, median '
             '%.3f s, longest %.2f s (%.0fx the median), %d tests >= 20x the median; '
             'lower bound max(total/8, longest) = %.2f s; namespace %s; heartbeat and '
             'timeout at their defaults' % (total, median, longest, longest / median, heavy,
                                             bound, namespace))
    srv = Server()
    try:
        build = 'b4-random-' + stamp
        span, st, err = b4_run(srv, suite, build, namespace, 'random', 'bench-b4')
        if any(st):
            raise BenchError('random run: worker statuses %s: %s' % (st, err.strip()[-300:]))
        ratio = span / bound
        ctx.row('B4', 'makespan / lower bound, 8 workers, --order random (1st run)',
                '%.3f (%.2f s / %.2f s)' % (ratio, span, bound), '-', '-')

        # The report folds the build's durations into the namespace's history.
        env = tool_env(srv.url, build, 'reporter', namespace)
        _, rc = PROCS.run(['ciq-report', '--report-timeout', '60'], env, 90,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if rc != 0:
            raise BenchError('ciq-report of the random run exited %d' % rc)
        hkey = 'ciq-timing:{%s}' % namespace
        h = srv.c.call('HGETALL', hkey)
        hist = {h[i].decode(): int(h[i + 1]) for i in range(0, len(h), 2)}
        if len(hist) < len(suite):
            ctx.row('B4', 'durations in the namespace\'s history after ciq-report of the 1st run',
                    '%d of %d (%s)' % (len(hist), len(suite), hkey), '%d' % len(suite), 'NO')

        # The durations the server measured, against the sleeps: the
        # history is only as good as they are.
        res = srv.c.call('HGETALL', key(build, 'results', namespace))
        measured = {}
        for i in range(0, len(res), 2):
            f = res[i + 1].split(b' ')
            if len(f) > 1 and f[1]:
                measured[res[i].decode()] = int(f[1])
        nominal = dict(suite)
        long_ = [i for i, d in suite if d > 1.0 and i in measured]
        if long_:
            r = statistics.median(measured[i] / 1000 / nominal[i] for i in long_)
            worst = min(long_, key=lambda i: measured[i] / 1000 / nominal[i])
            ctx.row('B4', 'duration the server recorded / time the test slept, the %d tests '
                    'over 1 s (1st run)' % len(long_),
                    'median %.2f (worst: %s recorded %d ms)' % (r, worst, measured[worst]),
                    '~1.0', yes(abs(r - 1) <= 0.1))
            short = [measured[i] / 1000 / nominal[i] for i, d in suite
                     if 0.1 < d <= 1.0 and i in measured]
            if short:
                ctx.note('B4', 'recorded / slept for the tests of 0.1 to 1 s: median %.2f'
                         % statistics.median(short))
        else:
            r = 1.0

        build = 'b4-timing-' + stamp
        if not b4_timing_row(ctx, srv, suite, bound, namespace, build,
                             'makespan / lower bound, 8 workers, --order timing (2nd run)'):
            return
        if abs(r - 1) > 0.1:
            # What the order itself gives with a right history: the
            # namespace's history set to the sleeps, in ms.
            ns2 = namespace + '-true'
            srv.c.call('HSET', 'ciq-timing:{%s}' % ns2,
                       *[x for i, d in suite for x in (i, str(round(d * 1000)))])
            b4_timing_row(ctx, srv, suite, bound, ns2, 'b4-truth-' + stamp,
                          'makespan / lower bound, --order timing, the history set by the '
                          'harness to the true durations', diagnostic=True)
    finally:
        finish(srv)


# --------------------------------------------------------------------------
# B5: 200 idle workers while one long test runs.

def b5(ctx):
    idle, settle, window = 200, 6.0, 10.0
    srv = Server()
    pops = []
    try:
        build = 'b5'
        env = tool_env(srv.url, build, 'long')
        populate(env, write_list(srv.dir, ['b5/long-test']), order='given')
        # The long test's worker: ciq-pop leaves its heartbeat, watching us.
        p = PROCS.spawn(['ciq-pop'], env, stdout=subprocess.PIPE)
        out, _ = p.communicate(timeout=30)
        PROCS.live.pop(p.pid, None)
        if p.returncode != 0 or out.strip() != b'b5/long-test':
            raise BenchError('the long test was not popped (exit %d)' % p.returncode)
        sel = selectors.DefaultSelector()
        for i in range(idle):
            q = PROCS.spawn(['ciq-pop'], tool_env(srv.url, build, 'idle-%03d' % i),
                            stdout=subprocess.PIPE)
            os.set_blocking(q.stdout.fileno(), False)
            sel.register(q.stdout, selectors.EVENT_READ, i)
            pops.append(q)
        time.sleep(settle)  # past the growing waits: steady state
        if any(q.poll() is not None for q in pops):
            raise BenchError('an idle ciq-pop ended early')
        m = Monitor(srv.addr)
        try:
            srv.c.call('CONFIG', 'RESETSTAT')
            m.start()
            t0 = time.monotonic()
            time.sleep(window)
            stats = srv.c.cmdstats()
            elapsed = time.monotonic() - t0
            sent, melapsed = m.take()
        finally:
            m.close()
        total = sum(stats.values()) / elapsed
        client = sum(sent.values()) / melapsed
        ctx.row('B5', '%d idle ciq-pop + 1 running test: round trips/s (client commands)'
                % idle, '%.1f/s (%s)' % (client, per(sent, melapsed)), '<= 300/s',
                yes(client <= 300))
        ctx.row('B5', 'same window: every command in INFO commandstats, scripts\' own included',
                '%.0f/s' % total, '<= 300/s', yes(total <= 300))
        ctx.note('B5', 'INFO commandstats per second over %.1f s: %s' % (elapsed, per(stats, elapsed)))
        npops = sum(v for k, v in sent.items() if k.endswith(' pop'))
        if npops:
            ctx.note('B5', 'each idle worker asked every %.2f s on average; %.1f commands '
                     'counted in INFO commandstats per idle pop'
                     % (idle * melapsed / npops, sum(stats.values()) * melapsed / elapsed / npops))

        # Requeue the long test from its worker; the first idle pop to
        # print it ends the measure.
        t0 = time.monotonic()
        r = PROCS.spawn(['ciq-requeue', '--max-requeues', '1', '--requeue-tolerance', '1',
                         '--', 'b5/long-test'], env, stderr=subprocess.PIPE)
        winner, latency = None, None
        deadline = t0 + 15
        while winner is None and time.monotonic() < deadline:
            for k, _ in sel.select(timeout=0.05):
                data = k.fileobj.read()
                if data is None:
                    continue
                if data:
                    latency = time.monotonic() - t0
                    winner = k.data
                    if data.strip() != b'b5/long-test':
                        raise BenchError('an idle pop printed %r' % data)
                    break
                sel.unregister(k.fileobj)
        rrc = PROCS.wait(r, 30)
        if rrc != 0:
            raise BenchError('ciq-requeue exited %d: %s' % (rrc, r.stderr.read().decode().strip()))
        if winner is None:
            ctx.row('B5', 'requeued long test picked up by an idle worker',
                    'not within 15 s', '<= 2.5 s', 'NO')
        else:
            ctx.row('B5', 'requeued long test picked up by an idle worker (from ciq-requeue '
                    'start to its id on an idle ciq-pop\'s stdout)',
                    '%.3f s' % latency, '<= 2.5 s', yes(latency <= 2.5))
            # End the build: the winner acks, the others see it exhausted.
            _, rc = PROCS.run(['ciq-ack', '--', 'b5/long-test'],
                              tool_env(srv.url, build, 'idle-%03d' % winner), 30)
            if rc != 0:
                raise BenchError('ciq-ack of the requeued test exited %d' % rc)
            deadline = time.monotonic() + 10
            ends = [PROCS.wait(q, max(deadline - time.monotonic(), 0.1)) for q in pops]
            if sorted(set(ends)) != [0, 1]:
                ctx.note('B5', 'idle ciq-pop statuses at the end: %s' % sorted(set(ends)))
            PROCS.drain(3)
        sel.close()
    finally:
        for q in pops:
            if q.stdout:
                q.stdout.close()
        finish(srv)


# --------------------------------------------------------------------------
# B6: the SPEC loop with 5 ms of round-trip time.

def sh(*args):
    return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True)


class Netem:
    """A network namespace behind a veth pair with netem on both ends."""

    def __init__(self):
        tag = os.getpid() % 100000
        self.ns, self.host, self.peer = 'ciqb6-%d' % tag, 'cqb%dh' % tag, 'cqb%dn' % tag
        octet = os.getpid() % 250 + 1
        self.ip_host, self.ip_ns = '10.213.%d.1' % octet, '10.213.%d.2' % octet
        self.up = False
        steps = [
            ['ip', 'netns', 'add', self.ns],
            ['ip', 'link', 'add', self.host, 'type', 'veth', 'peer', 'name', self.peer,
             'netns', self.ns],
            ['ip', 'addr', 'add', self.ip_host + '/30', 'dev', self.host],
            ['ip', 'link', 'set', self.host, 'up'],
            ['ip', 'netns', 'exec', self.ns, 'ip', 'addr', 'add', self.ip_ns + '/30',
             'dev', self.peer],
            ['ip', 'netns', 'exec', self.ns, 'ip', 'link', 'set', self.peer, 'up'],
            ['ip', 'netns', 'exec', self.ns, 'ip', 'link', 'set', 'lo', 'up'],
            ['tc', 'qdisc', 'add', 'dev', self.host, 'root', 'netem', 'delay', '0ms'],
            ['ip', 'netns', 'exec', self.ns, 'tc', 'qdisc', 'add', 'dev', self.peer,
             'root', 'netem', 'delay', '0ms'],
        ]
        for s in steps:
            r = sh(*s)
            if r.returncode != 0:
                self.close()
                raise BenchError('%s: %s' % (' '.join(s[:4]), (r.stderr or r.stdout).strip()))
        self.up = True

    def delay(self, ms_each_way):
        for pre, dev in (([], self.host), (['ip', 'netns', 'exec', self.ns], self.peer)):
            r = sh(*(pre + ['tc', 'qdisc', 'change', 'dev', dev, 'root', 'netem', 'delay',
                            '%gms' % ms_each_way]))
            if r.returncode != 0:
                raise BenchError('tc qdisc change: %s' % r.stderr.strip())

    def close(self):
        sh('ip', 'link', 'del', self.host)
        sh('ip', 'netns', 'del', self.ns)


class Proxy:
    def __init__(self, target_port, ms_each_way, dirname):
        self.port = free_port()
        self.pidfile = os.path.join(dirname, 'proxy-%d.pid' % self.port)
        self.log = open(os.path.join(dirname, 'proxy-%d.log' % self.port), 'w')
        self.p = PROCS.spawn([sys.executable, PROXY_PY, str(self.port), str(target_port),
                              str(ms_each_way), self.pidfile], os.environ.copy(),
                             stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.pidfile):
            if self.p.poll() is not None or time.monotonic() >= deadline:
                self.stop()
                raise BenchError('the delay proxy did not start')
            time.sleep(0.02)

    def stop(self):
        # By its pidfile; it is our child, so wait for it too.
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            pid = self.p.pid
        if pid == self.p.pid and self.p.poll() is None:
            os.kill(pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        PROCS.live.pop(self.p.pid, None)
        self.log.close()


def rtt_ms(addr, n=50):
    c = Resp(addr)
    c.call('PING')
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.call('PING')
        t.append(time.perf_counter() - t0)
    c.close()
    return statistics.median(t) * 1000


def b6(ctx):
    n, reps = 300, 3
    srv = netem = None
    proxies = []
    try:
        try:
            netem = Netem()
            srv = Server(tcp=(netem.ip_ns, 6379), netns=netem.ns)
            how = 'netem in a network namespace (veth, 2.5 ms each way)'
        except BenchError as e:
            ctx.note('B6', 'netem unavailable (%s): userspace delay proxy instead' % e)
            if netem:
                netem.close()
                netem = None
            srv = Server(tcp=('127.0.0.1', free_port()))
            how = ('userspace delay proxy on 127.0.0.1 (netem unavailable): ~2.5 ms each way '
                   'per chunk, +1 RTT on a connection\'s first request for the TCP handshake')
        # The two paths, each with its measured PING time: (url, rtt) by
        # the delay each way.
        paths = {}
        if netem:
            for ms in (0, 2.5):
                netem.delay(ms)
                paths[ms] = (srv.url, rtt_ms(srv.addr))
        else:
            p0 = Proxy(srv.addr[1], 0, srv.dir)
            proxies.append(p0)
            paths[0] = ('redis://127.0.0.1:%d' % p0.port, rtt_ms(('127.0.0.1', p0.port)))
            # The proxy's timers overshoot a little: its delay is set so
            # that PING takes 5 ms more than through the proxy without delay.
            d = 2.5
            for _ in range(4):
                p = Proxy(srv.addr[1], d, srv.dir)
                rtt = rtt_ms(('127.0.0.1', p.port), 200)
                off = rtt - paths[0][1] - 5.0
                if abs(off) <= 0.15:
                    break
                p.stop()
                d = max(d - off / 2, 0)
                p = None
            if p is None:
                p = Proxy(srv.addr[1], d, srv.dir)
                rtt = rtt_ms(('127.0.0.1', p.port), 200)
            proxies.append(p)
            paths[2.5] = ('redis://127.0.0.1:%d' % p.port, rtt)
            ctx.note('B6', 'proxy delay set to %.2f ms each way for a measured added RTT of '
                     '%.2f ms' % (d, rtt - paths[0][1]))
        times = {0: [], 2.5: []}
        for rep in range(reps):
            for ms in (0, 2.5):
                if netem:
                    netem.delay(ms)
                t, stats, conns, _ = spec_loop_run(srv, 'b6-%g-%d' % (ms, rep), n,
                                                   url=paths[ms][0], timeout=120)
                times[ms].append(t / n)
                if ms:
                    stats5, conns5 = stats, conns
        t0, t5 = statistics.median(times[0]), statistics.median(times[2.5])
        rtt0, rtt5 = paths[0][1], paths[2.5][1]
        ctx.row('B6', 'SPEC loop, no-op tests, ~0 ms RTT (%s)' % ('same veth, no delay'
                if netem else 'same proxy, no delay'),
                '%s/test (PING RTT %.2f ms; median of %d runs of %d tests)'
                % (fmt_ms(t0), rtt0, reps, n), '-', '-')
        ctx.row('B6', 'SPEC loop, no-op tests, 5 ms RTT via ' + how,
                '%s/test (PING RTT %.2f ms, +%.2f ms; median of %d runs of %d tests)'
                % (fmt_ms(t5), rtt5, rtt5 - rtt0, reps, n), '-', '-')
        ctx.row('B6', 'added time per test / added RTT',
                '%.2f RTTs (+%s/test for +%.2f ms RTT)'
                % ((t5 - t0) * 1000 / (rtt5 - rtt0), fmt_ms(t5 - t0), rtt5 - rtt0), '-', '-')
        calls = sum(v for k, v in stats5.items() if k in ('evalsha', 'eval'))
        ctx.row('B6', 'round trips per test at 5 ms RTT (evalsha+eval; connections)',
                '%.2f script calls, %.2f connections' % (calls / n, conns5 / n), '-', '-')
        ctx.note('B6', 'ms/test per run: ~0 ms: %s; 5 ms: %s' % (
            ', '.join('%.2f' % (x * 1000) for x in times[0]),
            ', '.join('%.2f' % (x * 1000) for x in times[2.5])))
        ctx.note('B6', 'INFO commandstats per test at 5 ms: %s' % per(stats5, n))
    finally:
        try:
            for p in proxies:
                p.stop()
        finally:
            finish(srv, netem)


# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# B7: one build's throughput on a Redis Cluster against a single server.

def cluster_ports(n):
    """n consecutive ports, each and its cluster bus port (+10000) free,
    below the kernel's ephemeral range."""
    rng = random.Random()
    for _ in range(50):
        base = rng.randrange(20000, 22700 - n)
        ok = True
        for p in list(range(base, base + n)) + list(range(base + 10000, base + 10000 + n)):
            s = socket.socket()
            try:
                s.bind(('127.0.0.1', p))
            except OSError:
                ok = False
            finally:
                s.close()
            if not ok:
                break
        if ok:
            return list(range(base, base + n))
    raise BenchError('no free ports for a cluster')


class Cluster:
    """A private Redis Cluster on 127.0.0.1: `masters` masters with
    `replicas` replicas each, in one temp dir; every node stopped by its
    pidfile."""

    def __init__(self, masters=3, replicas=1):
        self.dir = tempfile.mkdtemp(prefix='ciqbc.', dir='/tmp')
        self.pids = []
        self.ports = cluster_ports(masters * (1 + replicas))
        try:
            for p in self.ports:
                r = subprocess.run(
                    ['redis-server', '--bind', '127.0.0.1', '--port', str(p),
                     '--cluster-enabled', 'yes', '--cluster-node-timeout', '1000',
                     '--cluster-config-file', os.path.join(self.dir, 'nodes-%d.conf' % p),
                     '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
                     '--pidfile', os.path.join(self.dir, 'pid-%d' % p),
                     '--logfile', os.path.join(self.dir, 'log-%d' % p), '--dir', self.dir],
                    stdin=subprocess.DEVNULL, capture_output=True, text=True)
                if r.returncode != 0:
                    raise BenchError('redis-server did not start: %s' % (r.stderr or r.stdout).strip())
            for p in self.ports:
                self.wait(lambda: self.pid_of(p) and self.call(p, 'PING') == 'PONG',
                          'node %d did not answer' % p)
                self.pids.append(self.pid_of(p))
                PROCS.servers.add(self.pids[-1])
            r = subprocess.run(['redis-cli', '--cluster', 'create']
                               + ['127.0.0.1:%d' % p for p in self.ports]
                               + ['--cluster-replicas', str(replicas), '--cluster-yes'],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise BenchError('redis-cli --cluster create: %s' % r.stdout[-300:])
            for p in self.ports:
                self.wait(lambda: b'cluster_state:ok' in self.call(p, 'CLUSTER', 'INFO'),
                          'node %d: cluster_state not ok' % p)
        except Exception:
            self.stop()
            raise

    def pid_of(self, port):
        try:
            with open(os.path.join(self.dir, 'pid-%d' % port)) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    @staticmethod
    def call(port, *args):
        c = Resp(('127.0.0.1', port), timeout=2)
        try:
            return c.call(*args)
        finally:
            c.close()

    @staticmethod
    def wait(ok, what, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ok():
                    return
            except (OSError, RespError, ConnectionError):
                pass
            if time.monotonic() >= deadline:
                raise BenchError(what)
            time.sleep(0.05)

    def owner(self, key):
        """The port of the master serving key's slot."""
        slot = self.call(self.ports[0], 'CLUSTER', 'KEYSLOT', key)
        for lo, hi, master, *_ in self.call(self.ports[0], 'CLUSTER', 'SLOTS'):
            if lo <= slot <= hi:
                return int(master[1])
        raise BenchError('no owner for slot %d' % slot)

    def masters(self):
        return sorted({int(r[2][1]) for r in self.call(self.ports[0], 'CLUSTER', 'SLOTS')})

    def stop(self):
        for pid in self.pids:
            stop_pid(pid)
            PROCS.servers.discard(pid)
        shutil.rmtree(self.dir, ignore_errors=True)


def b7_results(call, build):
    """How many tests of build have a result: the fields of its results
    hash but the marker, named "" (lua/prelude.lua)."""
    k = key(build, 'results')
    return call('HLEN', k) - call('HEXISTS', k, '')


def b7_build(url, build, n, workers, listdir, timeout=300):
    """One build of n no-op tests with `workers` loops (each populates
    first, as a CI job does), over url. Returns seconds from the start of
    the first process to the end of the last."""
    listfile = write_list(listdir, ['b7/test_%05d' % i for i in range(n)], build)
    procs = []
    t0 = time.monotonic()
    for w in range(workers):
        env = tool_env(url, build, w, CIQ_HEARTBEAT=0)
        procs.append(PROCS.spawn(
            ['sh', '-c', 'ciq-populate --order random "$1" && exec sh "$2" "$3" "$4"', 'sh',
             listfile, LOOP_SH, str(n + 1), TRUE],
            env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    deadline = t0 + timeout
    for p in procs:
        try:
            rc = PROCS.wait(p, max(deadline - time.monotonic(), 0.1))
        finally:
            err = p.stderr.read().decode(errors='replace')
            p.stderr.close()
        if rc != 0:
            raise BenchError('a B7 worker exited %d: %s' % (rc, err.strip()[-300:]))
    return time.monotonic() - t0


def b7(ctx):
    n = int(os.environ.get('BENCH_B7_TESTS', '1000'))
    workers, reps = 4, 3
    srv = cluster = None
    try:
        srv = Server(tcp=('127.0.0.1', free_port()))
        cluster = Cluster()
        single, far, near = [], [], []
        for rep in range(reps):
            build = 'b7-single-%d' % rep
            single.append(n / b7_build(srv.url, build, n, workers, srv.dir))
            if b7_results(srv.c.call, build) != n:
                raise BenchError('single server: missing results')
            # The URL names a master that does not serve the build's slot:
            # every tool pays a MOVED and a second connection.
            build = 'b7-far-%d' % rep
            owner = cluster.owner(key(build, 'queue'))
            other = [p for p in cluster.masters() if p != owner][0]
            far.append(n / b7_build('redis://127.0.0.1:%d' % other, build, n, workers, srv.dir))
            if b7_results(lambda *a: Cluster.call(owner, *a), build) != n:
                raise BenchError('cluster: missing results')
            # The URL names the owner: no redirect.
            build = 'b7-near-%d' % rep
            owner = cluster.owner(key(build, 'queue'))
            near.append(n / b7_build('redis://127.0.0.1:%d' % owner, build, n, workers, srv.dir))
        s, f, o = (statistics.median(x) for x in (single, far, near))
        ctx.row('B7', 'one build on a Redis Cluster (3 masters + 3 replicas) / on a single '
                'server, %d workers, no-op tests, TCP; URL names a master that does not serve '
                'the build\'s slot' % workers,
                '%.2fx (cluster %.0f tests/s, single %.0f tests/s; %d tests, median of %d)'
                % (f / s, f, s, n, reps))
        ctx.row('B7', 'the same, URL names the master that serves the build\'s slot',
                '%.2fx (cluster %.0f tests/s)' % (o / s, o))
        ctx.note('B7', 'tests/s per run: single %s; cluster, other master %s; cluster, '
                 'owner %s' % tuple(', '.join('%.0f' % x for x in v) for v in (single, far, near)))
    finally:
        finish(srv, cluster)


BENCHES = {'B1': b1, 'B2': b2, 'B3': b3, 'B4': b4, 'B5': b5, 'B6': b6, 'B7': b7}


def machine(started):
    model = '?'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    redis = sh('redis-server', '--version').stdout.strip()
    head = sh('git', '-C', ROOT, 'rev-parse', '--short', 'HEAD').stdout.strip()
    dirty = sh('git', '-C', ROOT, 'status', '--porcelain', '--untracked-files=no',
               'lib', 'lua', 'cmd').stdout.strip()
    return [
        ('date', started.strftime('%Y-%m-%d %H:%M UTC')),
        ('cpus (nproc)', str(os.cpu_count())),
        ('cpu', model),
        ('kernel', os.uname().release),
        ('load average at the end', ' '.join('%.2f' % x for x in os.getloadavg())),
        ('redis', redis),
        ('ciq', '%s%s' % (head, ' + uncommitted changes in lib/ lua/ cmd/' if dirty else '')),
    ]


def table(rows):
    head = ('id', 'what', 'figure', 'target', 'met?', 'command to reproduce')
    w = [max(len(str(r[i])) for r in [head] + rows) for i in range(6)]
    w[1] = min(w[1], 60)
    w[2] = min(w[2], 60)
    out = []
    for r in [head] + rows:
        cells = [str(c) for c in r]
        # Wrap the two long columns.
        wrapped = [wrap(c, w[i]) if i in (1, 2) else [c] for i, c in enumerate(cells)]
        for k in range(max(len(x) for x in wrapped)):
            out.append('  '.join((x[k] if k < len(x) else '').ljust(w[i])
                                 for i, x in enumerate(wrapped)).rstrip())
        if r is head:
            out.append('  '.join('-' * x for x in w))
    return '\n'.join(out)


def wrap(text, width):
    lines, cur = [], ''
    for word in text.split(' '):
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = cur + ' ' + word if cur else word
    lines.append(cur)
    return lines


def markdown(info, rows, notes, elapsed):
    out = ['| | |', '|---|---|']
    out += ['| %s | %s |' % kv for kv in info]
    out += ['', '| id | what | figure | target | met? | command to reproduce |',
            '|---|---|---|---|---|---|']
    for r in rows:
        out.append('| ' + ' | '.join(str(c).replace('|', '\\|') for c in r[:5])
                   + ' | `%s` |' % r[5])
    out += ['', 'Notes:', '']
    out += ['- %s: %s' % n for n in notes]
    out += ['', 'Total time: %.0f s.' % elapsed]
    return '\n'.join(out) + '\n'


def main(argv):
    global WORKDIR, BIN
    md = None
    names = []
    i = 0
    while i < len(argv):
        if argv[i] == '--markdown' and i + 1 < len(argv):
            md = argv[i + 1]
            i += 2
            continue
        if argv[i] in ('-h', '--help'):
            print(__doc__.strip())
            return 0
        name = argv[i].upper()
        if name not in BENCHES:
            sys.stderr.write('bench: unknown benchmark %r (B1..B7)\n' % argv[i])
            return 64
        names.append(name)
        i += 1
    names = names or sorted(BENCHES)
    for tool in ('ciq-pop', 'ciq-ack', 'ciq-populate', 'ciq-requeue', 'ciq-report'):
        if not os.access(os.path.join(BIN, tool), os.X_OK):
            sys.stderr.write('bench: %s/%s is missing: run make first\n' % (BIN, tool))
            return 69
    if not shutil.which('redis-server'):
        sys.stderr.write('bench: redis-server is missing (make deps)\n')
        return 69
    set_subreaper()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    WORKDIR = tempfile.mkdtemp(prefix='ciqb-run.', dir='/tmp')
    # The binaries under test: a snapshot, so that a rebuild in the tree
    # during the run changes nothing.
    snap = os.path.join(WORKDIR, 'bin')
    os.mkdir(snap)
    for tool in sorted(os.listdir(BIN)):
        if tool.startswith('ciq-'):
            shutil.copy2(os.path.join(BIN, tool), snap)
            if sh(os.path.join(snap, tool), '--version').returncode != 0:
                shutil.rmtree(WORKDIR, ignore_errors=True)
                sys.stderr.write('bench: %s/%s does not run (a build in progress?): '
                                 'run make again\n' % (BIN, tool))
                return 69
    BIN = snap
    script_names()
    ctx = Ctx()
    started = datetime.datetime.now(datetime.timezone.utc)
    start = time.monotonic()
    failed = 0
    try:
        for name in names:
            log('%s ...' % name)
            t0 = time.monotonic()
            try:
                BENCHES[name](ctx)
            except (BenchError, RespError, OSError, subprocess.SubprocessError) as e:
                failed = 1
                ctx.row(name, 'benchmark failed', 'error: %s' % e, '-', 'NO')
            log('%s done in %.1f s' % (name, time.monotonic() - t0))
    finally:
        PROCS.cleanup()
        shutil.rmtree(WORKDIR, ignore_errors=True)
    elapsed = time.monotonic() - start
    info = machine(started)
    print('\n'.join('%s: %s' % kv for kv in info))
    print()
    print(table(ctx.rows))
    if ctx.notes:
        print()
        for n in ctx.notes:
            print('%s: %s' % n)
    print('\ntotal time: %.0f s' % elapsed)
    if md:
        with open(md, 'w') as f:
            f.write(markdown(info, ctx.rows, ctx.notes, elapsed))
    return failed


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
