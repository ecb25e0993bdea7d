"""B2: one worker, batches of 100 (ciq-pop -n 100, one ciq-ack per batch)."""
import statistics

from harness import (BATCH_SH, PROCS, SCRIPT_CMDS, Server, expect_results, finish, fmt_ms, per, populate,
                     tool_env, write_list)


def b2(ctx):
    n, size, reps = 50000, 100, 3
    batches = n / size
    srv = Server()
    try:
        listfile = write_list(srv.dir, ['spec/unit/case_%06d_spec.rb' % i for i in range(n)])
        times = []
        for rep in range(reps):
            build = 'b2-%d' % rep
            env = tool_env(srv.url, build)
            populate(env, listfile, order='given')
            srv.reset_stats()
            t = PROCS.check('the batch loop', ['sh', BATCH_SH, str(size)], env, 120)
            PROCS.drain(5)
            calls = {k: v for k, v in srv.c.cmdstats().items() if k in SCRIPT_CMDS}
            usec = srv.script_usec()
            expect_results(srv.c.call, build, n)
            times.append(t)
        t = statistics.median(times)
        rate = n / t
        ctx.row('B2', 'one worker, ciq-pop -n %d + one ciq-ack per batch, unix socket' % size,
                '%.0f tests/s (%d tests in %.2f s, %s/batch; median of %d)'
                % (rate, n, t, fmt_ms(t / batches), reps),
                '>= 20000 tests/s', rate >= 20000)
        ctx.note('B2', 'tests/s per run: %s; script calls per batch: %s; server time in the '
                 'scripts: %s/batch' % (', '.join('%.0f' % (n / x) for x in times),
                                        per(calls, batches), fmt_ms(usec / 1e6 / batches)))
    finally:
        finish(srv)
