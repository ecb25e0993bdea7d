"""harness.py - what the ciq benchmarks share (bench/b*.py).

The processes the harness starts, the tools' environment, a small RESP
client, a private redis-server, MONITOR, and the rows and notes of the
table. Standard library only.
"""
import ctypes
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, 'bench')
# The binaries under test; bench.py points it at a snapshot of them.
BIN = os.environ.get('CIQ_BIN') or os.path.join(ROOT, 'bin')
# The tools' temporary files (the loops' output files, the heartbeats'
# notes) go to a directory of this run, removed at its end.
WORKDIR = None
WORKER_SH = os.path.join(ROOT, 'ci-templates', 'ciq-worker.sh')
LOOP_SH = os.path.join(BENCH, 'loop.sh')
LOOP_DRIVER = os.path.join(BENCH, 'loop-driver.sh')
BATCH_SH = os.path.join(BENCH, 'batch.sh')
SLEEP_SH = os.path.join(BENCH, 'sleep-test.sh')
PROXY_PY = os.path.join(BENCH, 'delayproxy.py')
TRUE = shutil.which('true', path='/bin:/usr/bin') or '/bin/true'

# Commands the harness itself sends while it measures: never counted.
HARNESS_CMDS = {'info', 'config|resetstat', 'monitor', 'ping'}
SCRIPT_CMDS = ('evalsha', 'eval')

# Variables that would point the tools at another queue or a CI provider.
SCRUB = ('REDIS_URL', 'BUILDKITE', 'CIRCLECI', 'TRAVIS', 'HEROKU_TEST_RUN_ID',
         'SEMAPHORE', 'GITHUB_ACTIONS', 'GITLAB_CI', 'BITBUCKET_BUILD_NUMBER',
         'TF_BUILD', 'JENKINS_URL', 'CI_NODE_INDEX', 'CI')


class BenchError(Exception):
    pass


def log(msg):
    sys.stderr.write('bench: %s\n' % msg)
    sys.stderr.flush()


def sh(*args):
    return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True)


def wait_until(ok, what, timeout):
    """Call ok() every 50 ms until it is true; BenchError(what) after timeout."""
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


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


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

    def check(self, what, args, env, timeout, **kw):
        """Run args, which must exit 0; elapsed seconds."""
        t, rc = self.run(args, env, timeout, **kw)
        if rc != 0:
            raise BenchError('%s exited %d' % (what, rc))
        return t

    def run_all(self, jobs, timeout):
        """Start every (args, env) of jobs at once, their stderr piped, and
        wait for all, within timeout in all. Returns (seconds from the first
        start to the last end, statuses, the stderr text of each)."""
        t0 = time.monotonic()
        procs = [self.spawn(args, env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for args, env in jobs]
        deadline = t0 + timeout
        statuses, errs, end = [], [], t0
        for p in procs:
            try:
                statuses.append(self.wait(p, max(deadline - time.monotonic(), 0.1)))
            finally:
                errs.append(p.stderr.read().decode(errors='replace'))
                p.stderr.close()
            end = max(end, time.monotonic())
        return end - t0, statuses, errs

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


def tool(name):
    """The path of a tool under test."""
    return os.path.join(BIN, name)


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


def write_list(dirname, ids, name='list'):
    path = os.path.join(dirname, name)
    with open(path, 'w') as f:
        f.write('\n'.join(ids))
        f.write('\n')
    return path


def populate(env, listfile, order='given', timeout=60):
    return PROCS.check('ciq-populate', ['ciq-populate', '--order', order, listfile], env,
                       timeout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def run_loop(env, count, timeout, what):
    """bench/loop.sh over at most count tests, /bin/true for each; seconds."""
    return PROCS.check(what, ['sh', LOOP_SH, str(count), TRUE], env, timeout)


def key(build, name, namespace=None):
    return 'ciq:{%s%s}:%s' % (namespace + ':' if namespace else '', build, name)


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

    @staticmethod
    def once(addr, *args):
        """One command on a connection of its own."""
        c = Resp(addr, timeout=2)
        try:
            return c.call(*args)
        finally:
            c.close()

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


def results(call, build, namespace=None):
    """How many tests of build have a result: the fields of its results
    hash but the marker, named "" (lua/prelude.lua)."""
    k = key(build, 'results', namespace)
    return call('HLEN', k) - call('HEXISTS', k, '')


def expect_results(call, build, n, where=''):
    done = results(call, build)
    if done != n:
        raise BenchError('%s%d results for %d tests' % (where, done, n))


def script_calls(stats):
    """The script calls (EVALSHA and EVAL) of a {command: count}."""
    return sum(v for k, v in stats.items() if k in SCRIPT_CMDS)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def redis_server(dirname, tag, args, prefix=()):
    """Start a daemonized redis-server with its pidfile (pidTAG) and log
    (logTAG) in dirname; returns the pidfile."""
    pidfile = os.path.join(dirname, 'pid' + tag)
    r = sh(*(list(prefix) + ['redis-server'] + args +
             ['--save', '', '--appendonly', 'no', '--daemonize', 'yes',
              '--pidfile', pidfile, '--logfile', os.path.join(dirname, 'log' + tag),
              '--dir', dirname]))
    if r.returncode != 0:
        raise BenchError('redis-server did not start: %s' % (r.stderr or r.stdout).strip())
    return pidfile


class Server:
    """A private redis-server: on a unix socket in a short temp dir, or on
    TCP (host, port), optionally inside a network namespace."""

    def __init__(self, tcp=None, netns=None):
        self.dir = tempfile.mkdtemp(prefix='ciqb.', dir='/tmp')
        self.pidfile = os.path.join(self.dir, 'pid')
        self.pid = self.c = None
        if tcp:
            host, port = tcp
            args = ['--port', str(port), '--bind', host, '--protected-mode', 'no']
            self.addr, self.url = (host, port), 'redis://%s:%d' % (host, port)
        else:
            sock = os.path.join(self.dir, 'sock')
            args = ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700']
            self.addr, self.url = sock, 'unix://' + sock
        try:
            redis_server(self.dir, '', args, ['ip', 'netns', 'exec', netns] if netns else ())
            wait_until(self.up, 'redis-server did not answer within 10 s', 10)
        except BenchError:
            self.stop()
            raise
        self.c = Resp(self.addr)

    def up(self):
        self.pid = read_pid(self.pidfile)
        if self.pid:
            PROCS.servers.add(self.pid)
        return self.pid and Resp.once(self.addr, 'PING') == 'PONG'

    def stop(self):
        if self.c:
            self.c.close()
            self.c = None
        pid = self.pid or read_pid(self.pidfile)
        if pid:
            stop_pid(pid)
            PROCS.servers.discard(pid)
        shutil.rmtree(self.dir, ignore_errors=True)

    def used_memory(self):
        return int(self.c.info('memory')['used_memory'])

    def reset_stats(self):
        self.c.call('CONFIG', 'RESETSTAT')

    def script_usec(self):
        """Server time in the scripts since the last reset, in us."""
        return script_calls(self.c.cmdstats('usec'))


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
    hdrs = os.path.join(ROOT, 'build', 'lua')
    for h in sorted(os.listdir(hdrs)) if os.path.isdir(hdrs) else []:
        try:
            with open(os.path.join(hdrs, h)) as f:
                m = re.search(r'ciq_lua_(\w+)_sha\[\] = "([0-9a-f]{40})"', f.read())
            if m:
                out[m.group(2)] = m.group(1)
        except OSError:
            pass
    if not out:
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
                s = [x for x in re.findall(rb'-- (\w+)\.lua: ', line) if x != b'prelude']
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
# The table: rows (id, what, figure, target, met?, command) and notes.

def per(calls, n):
    return ', '.join('%s %.2f' % (k, v / n) for k, v in
                     sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])))


def fmt_ms(s):
    return '%.2f ms' % (s * 1000)


def ms_list(seconds):
    return ', '.join('%.2f' % (x * 1000) for x in seconds)


def yes(ok):
    return 'yes' if ok else 'NO'


class Ctx:
    def __init__(self):
        self.rows, self.notes = [], []

    def row(self, bid, what, figure, target='-', met='-', cmd=None):
        """met: True or False for a target (yes or NO), else as given."""
        if isinstance(met, bool):
            met = yes(met)
        self.rows.append((bid, what, figure, target, met, cmd or 'bench/run.sh ' + bid))

    def note(self, bid, text):
        self.notes.append((bid, text))


# --------------------------------------------------------------------------
# Keys and memory (B9, B10).

def build_keys(call, build, namespace=None):
    """Every key of a build. (Braces are no pattern characters for KEYS.)"""
    return call('KEYS', key(build, '*', namespace))


def drop_build(call, build, namespace=None):
    """Delete every key of a build."""
    keys = build_keys(call, build, namespace)
    if keys:
        call('DEL', *keys)


def key_kind(name):
    """The kind of a build's key: its name after the build's prefix, up to
    the next colon ("w" for w:WORKER, "order" for order:WORKER)."""
    if isinstance(name, bytes):
        name = name.decode(errors='replace')
    return name.split('}:', 1)[-1].split(':', 1)[0]


def memory_by_kind(call, keys):
    """{kind: bytes}: MEMORY USAGE of each key (every element counted:
    SAMPLES 0), added up by kind."""
    out = {}
    for k in keys:
        kind = key_kind(k)
        out[kind] = out.get(kind, 0) + (call('MEMORY', 'USAGE', k, 'SAMPLES', '0') or 0)
    return out


def capture(what, args, env, timeout, ok=(0,)):
    """Run args; its standard output, as text. BenchError when it exits
    with a status not in ok, with the end of its standard error."""
    p = PROCS.spawn(args, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        PROCS.killgroup(p)
        p.communicate()
        raise BenchError('%s still running after %.0f s: killed' % (what, timeout))
    finally:
        PROCS.live.pop(p.pid, None)
    if p.returncode not in ok:
        raise BenchError('%s exited %d: %s' % (what, p.returncode,
                                                err.decode(errors='replace').strip()[-300:]))
    return out.decode(errors='replace')
