"""B4: the balance of 8 workers over a heavy-tailed suite, --order random
then --order timing (from the history the first build's report left)."""
import os
import random
import statistics
import subprocess
import time

from harness import (PROCS, SLEEP_SH, WORKER_SH, BenchError, Server, finish, key, tool_env,
                     write_list)

WORKERS = 8


def suite_of(seconds, workers=WORKERS, n=400, seed=7, sigma=1.1):
    """n lognormal durations, fixed seed, scaled so that total/workers is
    `seconds`. Returns [(id, duration)]."""
    rng = random.Random(seed)
    d = [rng.lognormvariate(0, sigma) for _ in range(n)]
    scale = seconds * workers / sum(d)
    d = [round(x * scale, 3) for x in d]
    return [('b4/test_%03d@%.3f' % (i, x), x) for i, x in enumerate(d)]


def run(srv, suite, build, namespace, order, seed='bench-b4', timeout=120):
    """Run the suite with ciq-worker.sh loops that each populate first.
    Returns (makespan, statuses, stderr text)."""
    listfile = write_list(srv.dir, [i for i, _ in suite], 'b4-' + build)
    cmd = ['sh', '-c', 'ciq-populate --order "$1" "$2" && exec sh "$3" sh "$4"', 'sh',
           order, listfile, WORKER_SH, SLEEP_SH]
    span, statuses, errs = PROCS.run_all(
        [(cmd, tool_env(srv.url, build, w, namespace, CIQ_SEED=seed)) for w in range(WORKERS)],
        timeout)
    return span, statuses, ''.join(errs)


def check(what, statuses, err):
    if any(statuses):
        raise BenchError('%s run: worker statuses %s: %s' % (what, statuses, err.strip()[-300:]))


def timing_row(ctx, srv, suite, bound, namespace, build, what, diagnostic=False):
    span, st, err = run(srv, suite, build, namespace, 'timing')
    if all(s in (64, 78) for s in st) and 'order' in err:
        msg = err.strip().splitlines()[0] if err.strip() else ''
        ctx.row('B4', what, 'not measured: ciq-populate --order timing rejected (exit %d: %s)'
                % (st[0], msg), '<= 1.05', 'n/a')
        return False
    check('timing', st, err)
    ratio = span / bound
    ctx.row('B4', what, '%.3f (%.2f s / %.2f s)' % (ratio, span, bound), '<= 1.05',
            ('yes' if ratio <= 1.05 else 'NO') + (' (diagnostic)' if diagnostic else ''))
    return True


def recorded_ratio(ctx, srv, suite, build, namespace):
    """The durations the server measured, against the sleeps: the history
    is only as good as they are. Returns their median ratio (1.0 when no
    test is long enough to tell)."""
    res = srv.c.call('HGETALL', key(build, 'results', namespace))
    measured = {}
    for i in range(0, len(res), 2):
        f = res[i + 1].split(b' ')
        if len(f) > 1 and f[1]:
            measured[res[i].decode()] = int(f[1])
    ratio = {i: measured[i] / 1000 / d for i, d in suite if d > 0.1 and i in measured}
    long_ = [i for i, d in suite if d > 1.0 and i in measured]
    if not long_:
        return 1.0
    r = statistics.median(ratio[i] for i in long_)
    worst = min(long_, key=lambda i: ratio[i])
    ctx.row('B4', 'duration the server recorded / time the test slept, the %d tests '
            'over 1 s (1st run)' % len(long_),
            'median %.2f (worst: %s recorded %d ms)' % (r, worst, measured[worst]),
            '~1.0', abs(r - 1) <= 0.1)
    short = [ratio[i] for i, d in suite if 0.1 < d <= 1.0 and i in measured]
    if short:
        ctx.note('B4', 'recorded / slept for the tests of 0.1 to 1 s: median %.2f'
                 % statistics.median(short))
    return r


def b4(ctx):
    seconds = float(os.environ.get('BENCH_B4_SECONDS', '30'))
    suite = suite_of(seconds)
    durs = sorted((d for _, d in suite), reverse=True)
    total, longest, median = sum(durs), durs[0], statistics.median(durs)
    bound = max(total / WORKERS, longest)
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
        span, st, err = run(srv, suite, build, namespace, 'random')
        check('random', st, err)
        ctx.row('B4', 'makespan / lower bound, 8 workers, --order random (1st run)',
                '%.3f (%.2f s / %.2f s)' % (span / bound, span, bound))

        # The report folds the build's durations into the namespace's history.
        PROCS.check('ciq-report of the random run', ['ciq-report', '--report-timeout', '60'],
                    tool_env(srv.url, build, 'reporter', namespace), 90,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        hkey = 'ciq:timing:{%s}' % namespace
        hist = srv.c.call('HLEN', hkey)
        if hist < len(suite):
            ctx.row('B4', 'durations in the namespace\'s history after ciq-report of the 1st run',
                    '%d of %d (%s)' % (hist, len(suite), hkey), '%d' % len(suite), 'NO')
        r = recorded_ratio(ctx, srv, suite, build, namespace)

        if not timing_row(ctx, srv, suite, bound, namespace, 'b4-timing-' + stamp,
                          'makespan / lower bound, 8 workers, --order timing (2nd run)'):
            return
        if abs(r - 1) > 0.1:
            # What the order itself gives with a right history: the
            # namespace's history set to the sleeps, in ms.
            ns2 = namespace + '-true'
            srv.c.call('HSET', 'ciq:timing:{%s}' % ns2,
                       *[x for i, d in suite for x in (i, str(round(d * 1000)))])
            timing_row(ctx, srv, suite, bound, ns2, 'b4-truth-' + stamp,
                       'makespan / lower bound, --order timing, the history set by the '
                       'harness to the true durations', diagnostic=True)
    finally:
        finish(srv)
