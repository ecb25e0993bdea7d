"""B1: the SPEC loop over no-op tests against the process floor; round trips."""
import os
import statistics
import subprocess
import time

from harness import (BENCH, LOOP_SH, PROCS, TRUE, Monitor, Server, expect_results,
                     finish, fmt_ms, log, ms_list, per, populate, run_loop, script_calls, tool,
                     tool_env, write_list)


def spec_loop_run(srv, build, n, url=None, timeout=300, monitor=None, **extra):
    """Populate n no-op tests and run the SPEC loop over them, reaching the
    server at url (default: its own); (seconds, commandstats, connections,
    MONITOR counts) of the loop alone, heartbeats included. Also used by B6."""
    env = tool_env(url or srv.url, build, **extra)
    ids = ['spec/unit/case_%05d_spec.rb' % i for i in range(n)]
    populate(env, write_list(srv.dir, ids, build), order='given')
    srv.reset_stats()
    if monitor:
        monitor.start()
    t = PROCS.check('the SPEC loop', ['sh', LOOP_SH, str(n + 1), TRUE], env, timeout)
    # The heartbeats ciq-pop left: their calls belong to the loop too.
    if PROCS.drain(5):
        log('heartbeats still running 5 s after the loop')
    sent = monitor.take()[0] if monitor else None
    stats = srv.c.cmdstats()
    srv.last_usec = srv.script_usec()
    conns = int(srv.c.info('stats')['total_connections_received'])
    expect_results(srv.c.call, build, n)
    return t, stats, conns, sent


def floor_run(n):
    """The loop with /bin/true in place of each tool: seconds per test."""
    env = tool_env('unix:///nonexistent', 'floor', POP=TRUE, ACK=TRUE, REQUEUE=TRUE)
    return run_loop(env, n, 120, 'the floor loop') / n


def b1(ctx):
    n = int(os.environ.get('BENCH_B1_TESTS', '600'))
    reps = 5
    srv = Server()
    try:
        loops, floors = [], []
        for rep in range(reps):
            floors.append(floor_run(n))
            t, stats, conns, _ = spec_loop_run(srv, 'b1-%d' % rep, n)
            loops.append(t / n)
        loop, floor = statistics.median(loops), statistics.median(floors)
        ratio = loop / floor
        ctx.row('B1', 'SPEC loop over no-op tests / same loop with /bin/true per tool',
                '%.2fx (loop %s/test, floor %s/test; %d tests, median of %d)'
                % (ratio, fmt_ms(loop), fmt_ms(floor), n, reps),
                '<= 1.5x', ratio <= 1.5)
        ctx.note('B1', 'loop ms/test per run: %s; floor: %s; fastest loop / fastest floor: '
                 '%.2fx' % (ms_list(loops), ms_list(floors), min(loops) / min(floors)))
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
        calls = script_calls(stats)
        extra = {k: v for k, v in sent.items() if k not in ('evalsha pop', 'evalsha ack')}
        # One pop per test, plus the one that finds the queue exhausted.
        ok = (not extra and sent.get('evalsha pop', 0) <= nm + 1
              and sent.get('evalsha ack', 0) == nm)
        ctx.row('B1', 'Redis round trips per test (client commands, MONITOR)',
                '%.2f: %s' % (sum(sent.values()) / nm, per(sent, nm)), '2 (1 pop + 1 ack)', ok)
        ctx.row('B1', 'script calls per test (INFO commandstats evalsha+eval)',
                '%.2f (of %.2f commands/test counted in all)'
                % (calls / n, sum(stats.values()) / n), '2', calls / n <= 2.02)
        ctx.note('B1', 'MONITOR run: %d tests; the first call of each script after a server '
                 'start is an EVAL (NOSCRIPT), the last pop finds the queue exhausted' % nm)
        ctx.note('B1', 'INFO commandstats per test in the MONITOR run: %s' % per(stats2, nm))

        # Diagnostics for the reading of the ratio: the same loop without
        # the heartbeat, and the start of one tool against /bin/true.
        t, _, conns, _ = spec_loop_run(srv, 'b1-noheartbeat', n, CIQ_HEARTBEAT=0)
        ctx.note('B1', 'diagnostic: the same loop with CIQ_HEARTBEAT=0: %s/test (%.2fx the '
                 'floor), %.2f connections/test' % (fmt_ms(t / n), t / n / floor, conns / n))
        starts = []
        for name, args in (('/bin/true', [TRUE]),
                           ('ciq-pop --version', [tool('ciq-pop'), '--version'])):
            t0 = time.monotonic()
            for _ in range(200):
                subprocess.run(args, stdout=subprocess.DEVNULL)
            starts.append('%s %s' % (name, fmt_ms((time.monotonic() - t0) / 200)))
        ctx.note('B1', 'diagnostic: fork+exec+exit of %s' % ', '.join(starts))

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
            env = tool_env(srv.url, 'b1-ping', POP=ping, ACK=ping, REQUEUE=ping)
            for _ in range(3):
                trues.append(floor_run(n))
                pings.append(run_loop(env, n, 120, 'the loop with bench/ping.c') / n)
            pf, tf = statistics.median(pings), statistics.median(trues)
            ctx.note('B1', 'diagnostic: the same loop with bench/ping.c (connect, PING, exit) '
                     'for each tool: %s/test, %.2fx the floor (%s/test); the ciq loop is %.2fx '
                     'that' % (fmt_ms(pf), pf / tf, fmt_ms(tf), loop / pf))
    finally:
        finish(srv)
