"""B6: the SPEC loop with 5 ms of round-trip time, against no delay: netem
on a veth pair into a network namespace, else a userspace delay proxy."""
import os
import signal
import statistics
import subprocess
import sys
import time

from b1_loop import spec_loop_run
from harness import (PROCS, PROXY_PY, BenchError, Resp, Server, finish, fmt_ms, free_port,
                     ms_list, per, script_calls, sh)


class Netem:
    """A network namespace behind a veth pair with netem on both ends."""

    def __init__(self):
        tag = os.getpid() % 100000
        self.ns, self.host, self.peer = 'ciqb6-%d' % tag, 'cqb%dh' % tag, 'cqb%dn' % tag
        octet = os.getpid() % 250 + 1
        self.ip_host, self.ip_ns = '10.213.%d.1' % octet, '10.213.%d.2' % octet
        inns = ['ip', 'netns', 'exec', self.ns]
        steps = [
            ['ip', 'netns', 'add', self.ns],
            ['ip', 'link', 'add', self.host, 'type', 'veth', 'peer', 'name', self.peer,
             'netns', self.ns],
            ['ip', 'addr', 'add', self.ip_host + '/30', 'dev', self.host],
            ['ip', 'link', 'set', self.host, 'up'],
            inns + ['ip', 'addr', 'add', self.ip_ns + '/30', 'dev', self.peer],
            inns + ['ip', 'link', 'set', self.peer, 'up'],
            inns + ['ip', 'link', 'set', 'lo', 'up'],
            ['tc', 'qdisc', 'add', 'dev', self.host, 'root', 'netem', 'delay', '0ms'],
            inns + ['tc', 'qdisc', 'add', 'dev', self.peer, 'root', 'netem', 'delay', '0ms'],
        ]
        for s in steps:
            r = sh(*s)
            if r.returncode != 0:
                self.close()
                raise BenchError('%s: %s' % (' '.join(s[:4]), (r.stderr or r.stdout).strip()))

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
    """bench/delayproxy.py from a free port to target_port."""

    def __init__(self, target_port, ms_each_way, dirname):
        self.port = free_port()
        self.url = 'redis://127.0.0.1:%d' % self.port
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

    def rtt_ms(self, n=50):
        return rtt_ms(('127.0.0.1', self.port), n)

    def stop(self):
        # It is our child: end it and wait for it.
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
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


def proxy_paths(ctx, srv, proxies):
    """Two proxies to srv, without delay and with 5 ms more RTT; the paths
    {delay each way: (url, PING RTT in ms)}. The proxy's timers overshoot a
    little: its delay is set so that PING takes 5 ms more than through the
    proxy without delay."""
    p0 = Proxy(srv.addr[1], 0, srv.dir)
    proxies.append(p0)
    base = p0.rtt_ms()
    d = 2.5
    for attempt in range(5):
        p = Proxy(srv.addr[1], d, srv.dir)
        rtt = p.rtt_ms(200)
        off = rtt - base - 5.0
        if abs(off) <= 0.15 or attempt == 4:
            break
        p.stop()
        d = max(d - off / 2, 0)
    proxies.append(p)
    ctx.note('B6', 'proxy delay set to %.2f ms each way for a measured added RTT of '
             '%.2f ms' % (d, rtt - base))
    return {0: (p0.url, base), 2.5: (p.url, rtt)}


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
        if netem:
            paths = {}
            for ms in (0, 2.5):
                netem.delay(ms)
                paths[ms] = (srv.url, rtt_ms(srv.addr))
        else:
            paths = proxy_paths(ctx, srv, proxies)
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
                % (fmt_ms(t0), rtt0, reps, n))
        ctx.row('B6', 'SPEC loop, no-op tests, 5 ms RTT via ' + how,
                '%s/test (PING RTT %.2f ms, +%.2f ms; median of %d runs of %d tests)'
                % (fmt_ms(t5), rtt5, rtt5 - rtt0, reps, n))
        ctx.row('B6', 'added time per test / added RTT',
                '%.2f RTTs (+%s/test for +%.2f ms RTT)'
                % ((t5 - t0) * 1000 / (rtt5 - rtt0), fmt_ms(t5 - t0), rtt5 - rtt0))
        ctx.row('B6', 'round trips per test at 5 ms RTT (evalsha+eval; connections)',
                '%.2f script calls, %.2f connections' % (script_calls(stats5) / n, conns5 / n))
        ctx.note('B6', 'ms/test per run: ~0 ms: %s; 5 ms: %s'
                 % (ms_list(times[0]), ms_list(times[2.5])))
        ctx.note('B6', 'INFO commandstats per test at 5 ms: %s' % per(stats5, n))
    finally:
        try:
            for p in proxies:
                p.stop()
        finally:
            finish(srv, netem)
