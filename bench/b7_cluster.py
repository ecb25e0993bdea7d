"""B7: one build's throughput on a Redis Cluster against a single server."""
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile

from harness import (LOOP_SH, PROCS, TRUE, BenchError, Resp, Server, expect_results, finish,
                     free_port, key, read_pid, redis_server, stop_pid, tool_env, wait_until,
                     write_list)


def cluster_ports(n):
    """n consecutive ports, each and its cluster bus port (+10000) free,
    below the kernel's ephemeral range."""
    rng = random.Random()
    for _ in range(50):
        base = rng.randrange(20000, 22700 - n)
        if all(port_free(p) for p in list(range(base, base + n)) +
               list(range(base + 10000, base + 10000 + n))):
            return list(range(base, base + n))
    raise BenchError('no free ports for a cluster')


def port_free(port):
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


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
                redis_server(self.dir, '-%d' % p,
                             ['--bind', '127.0.0.1', '--port', str(p),
                              '--cluster-enabled', 'yes', '--cluster-node-timeout', '1000',
                              '--cluster-config-file',
                              os.path.join(self.dir, 'nodes-%d.conf' % p)])
            for p in self.ports:
                pidfile = os.path.join(self.dir, 'pid-%d' % p)
                wait_until(lambda: read_pid(pidfile) and self.call(p, 'PING') == 'PONG',
                           'node %d did not answer' % p, 20)
                self.pids.append(read_pid(pidfile))
                PROCS.servers.add(self.pids[-1])
            r = subprocess.run(['redis-cli', '--cluster', 'create']
                               + ['127.0.0.1:%d' % p for p in self.ports]
                               + ['--cluster-replicas', str(replicas), '--cluster-yes'],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise BenchError('redis-cli --cluster create: %s' % r.stdout[-300:])
            for p in self.ports:
                wait_until(lambda: b'cluster_state:ok' in self.call(p, 'CLUSTER', 'INFO'),
                           'node %d: cluster_state not ok' % p, 20)
        except Exception:
            self.stop()
            raise

    @staticmethod
    def call(port, *args):
        return Resp.once(('127.0.0.1', port), *args)

    def owner(self, key_):
        """The port of the master serving key_'s slot."""
        slot = self.call(self.ports[0], 'CLUSTER', 'KEYSLOT', key_)
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


def build_rate(url, build, n, workers, listdir, timeout=300):
    """One build of n no-op tests with `workers` loops (each populates
    first, as a CI job does), over url, heartbeat off. Returns tests per
    second from the start of the first process to the end of the last."""
    listfile = write_list(listdir, ['b7/test_%05d' % i for i in range(n)], build)
    cmd = ['sh', '-c', 'ciq-populate --order random "$1" && exec sh "$2" "$3" "$4"', 'sh',
           listfile, LOOP_SH, str(n + 1), TRUE]
    span, statuses, errs = PROCS.run_all(
        [(cmd, tool_env(url, build, w, CIQ_HEARTBEAT=0)) for w in range(workers)], timeout)
    for rc, err in zip(statuses, errs):
        if rc != 0:
            raise BenchError('a B7 worker exited %d: %s' % (rc, err.strip()[-300:]))
    return n / span


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
            single.append(build_rate(srv.url, build, n, workers, srv.dir))
            expect_results(srv.c.call, build, n, 'single server: ')
            # The URL names a master that does not serve the build's slot:
            # every tool pays a MOVED and a second connection.
            build = 'b7-far-%d' % rep
            owner = cluster.owner(key(build, 'queue'))
            other = [p for p in cluster.masters() if p != owner][0]
            far.append(build_rate('redis://127.0.0.1:%d' % other, build, n, workers, srv.dir))
            expect_results(lambda *a: Cluster.call(owner, *a), build, n, 'cluster: ')
            # The URL names the owner: no redirect.
            build = 'b7-near-%d' % rep
            owner = cluster.owner(key(build, 'queue'))
            near.append(build_rate('redis://127.0.0.1:%d' % owner, build, n, workers, srv.dir))
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
