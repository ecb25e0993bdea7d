"""B5: 200 idle workers while one long test runs: the load they put on the
server, and how soon one of them takes the long test when it is requeued."""
import os
import selectors
import subprocess
import time

from harness import PROCS, BenchError, Monitor, Server, finish, per, populate, tool_env, write_list

IDLE, SETTLE, WINDOW = 200, 6.0, 10.0
TEST = 'b5/long-test'


def first_line(sel, t0, timeout):
    """Wait for the first idle ciq-pop to print; (its index, seconds since
    t0), or (None, None) after timeout."""
    while time.monotonic() < t0 + timeout:
        for k, _ in sel.select(timeout=0.05):
            data = k.fileobj.read()
            if data is None:
                continue
            if data:
                if data.strip() != TEST.encode():
                    raise BenchError('an idle pop printed %r' % data)
                return k.data, time.monotonic() - t0
            sel.unregister(k.fileobj)
    return None, None


def b5(ctx):
    srv = Server()
    pops = []
    try:
        build = 'b5'
        env = tool_env(srv.url, build, 'long')
        populate(env, write_list(srv.dir, [TEST]), order='given')
        # The long test's worker: ciq-pop leaves its heartbeat, watching us.
        p = PROCS.spawn(['ciq-pop'], env, stdout=subprocess.PIPE)
        out, _ = p.communicate(timeout=30)
        PROCS.live.pop(p.pid, None)
        if p.returncode != 0 or out.strip() != TEST.encode():
            raise BenchError('the long test was not popped (exit %d)' % p.returncode)
        sel = selectors.DefaultSelector()
        for i in range(IDLE):
            q = PROCS.spawn(['ciq-pop'], tool_env(srv.url, build, 'idle-%03d' % i),
                            stdout=subprocess.PIPE)
            os.set_blocking(q.stdout.fileno(), False)
            sel.register(q.stdout, selectors.EVENT_READ, i)
            pops.append(q)
        time.sleep(SETTLE)  # past the growing waits: steady state
        if any(q.poll() is not None for q in pops):
            raise BenchError('an idle ciq-pop ended early')
        m = Monitor(srv.addr)
        try:
            srv.reset_stats()
            m.start()
            t0 = time.monotonic()
            time.sleep(WINDOW)
            stats = srv.c.cmdstats()
            elapsed = time.monotonic() - t0
            sent, melapsed = m.take()
        finally:
            m.close()
        total = sum(stats.values()) / elapsed
        client = sum(sent.values()) / melapsed
        ctx.row('B5', '%d idle ciq-pop + 1 running test: round trips/s (client commands)'
                % IDLE, '%.1f/s (%s)' % (client, per(sent, melapsed)), '<= 300/s',
                client <= 300)
        ctx.row('B5', 'same window: every command in INFO commandstats, scripts\' own included',
                '%.0f/s' % total, '<= 300/s', total <= 300)
        ctx.note('B5', 'INFO commandstats per second over %.1f s: %s'
                 % (elapsed, per(stats, elapsed)))
        npops = sum(v for k, v in sent.items() if k.endswith(' pop'))
        if npops:
            ctx.note('B5', 'each idle worker asked every %.2f s on average; %.1f commands '
                     'counted in INFO commandstats per idle pop'
                     % (IDLE * melapsed / npops, sum(stats.values()) * melapsed / elapsed / npops))

        # Requeue the long test from its worker; the first idle pop to
        # print it ends the measure.
        t0 = time.monotonic()
        r = PROCS.spawn(['ciq-requeue', '--max-requeues', '1', '--requeue-tolerance', '1',
                         '--', TEST], env, stderr=subprocess.PIPE)
        winner, latency = first_line(sel, t0, 15)
        rrc = PROCS.wait(r, 30)
        if rrc != 0:
            raise BenchError('ciq-requeue exited %d: %s' % (rrc, r.stderr.read().decode().strip()))
        if winner is None:
            ctx.row('B5', 'requeued long test picked up by an idle worker',
                    'not within 15 s', '<= 2.5 s', 'NO')
        else:
            ctx.row('B5', 'requeued long test picked up by an idle worker (from ciq-requeue '
                    'start to its id on an idle ciq-pop\'s stdout)',
                    '%.3f s' % latency, '<= 2.5 s', latency <= 2.5)
            # End the build: the winner acks, the others see it exhausted.
            PROCS.check('ciq-ack of the requeued test', ['ciq-ack', '--', TEST],
                        tool_env(srv.url, build, 'idle-%03d' % winner), 30)
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
