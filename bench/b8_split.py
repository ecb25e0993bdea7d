"""B8: a suite with a few units far longer than a worker's share, run by 8
workers once whole and once split (ciq-populate --split-command
bench/split-units.sh --split-threshold auto): makespan over the lower
bound of each run, side by side."""
import os
import random
import shlex
import time

from harness import (BENCH, PROCS, SLEEP_SH, WORKER_SH, BenchError, Server, finish, key,
                     results, tool_env, write_list)

WORKERS = 8
SHORT = 200          # short tests, 0.05 to 0.3 s
UNITS = 3            # slow units, UNIT_S each
UNIT_S = 16.0
PARTS = 40           # parts per unit: bench/split-units.sh, UNIT_S / PARTS each
SPLIT_SH = os.path.join(BENCH, 'split-units.sh')


def secs(test_id):
    return float(test_id.rsplit('@', 1)[1])


def suite_of(seed=8):
    """[(id, duration)]: the short tests, then the units."""
    rng = random.Random(seed)
    out = [('b8/test_%03d@%.3f' % (i, d), d)
           for i, d in ((i, round(rng.uniform(0.05, 0.3), 3)) for i in range(SHORT))]
    out += [('b8/unit_%d@%.3f' % (i + 1, UNIT_S), UNIT_S) for i in range(UNITS)]
    return out


def parts_of(unit_id):
    name, s = unit_id.rsplit('@', 1)
    return ['%s[%d]@%.3f' % (name, k, float(s) / PARTS) for k in range(1, PARTS + 1)]


def bound_of(durs):
    return max(sum(durs) / WORKERS, max(durs))


def run(srv, ids, build, namespace, split, timeout=120):
    """8 ciq-worker.sh loops that each populate first, --order timing (the
    history seeded by the caller). Returns (makespan, statuses, stderr)."""
    listfile = write_list(srv.dir, ids, 'b8-' + build)
    cmd = ['sh', '-c', 'ciq-populate --order timing "$1" && exec sh "$2" sh "$3"', 'sh',
           listfile, WORKER_SH, SLEEP_SH]
    extra = {'CIQ_SEED': 'bench-b8'}
    if split:
        extra.update(CIQ_SPLIT_COMMAND='sh ' + shlex.quote(SPLIT_SH),
                     CIQ_SPLIT_THRESHOLD='auto', CIQ_WORKERS=WORKERS,
                     BENCH_SPLIT_PARTS=PARTS)
    span, statuses, errs = PROCS.run_all(
        [(cmd, tool_env(srv.url, build, w, namespace, **extra)) for w in range(WORKERS)],
        timeout)
    err = ''.join(errs)
    if any(statuses):
        raise BenchError('%s run: worker statuses %s: %s'
                         % (build, statuses, err.strip()[-300:]))
    return span, err


def b8(ctx):
    suite = suite_of()
    ids = [i for i, _ in suite]
    durs = [d for _, d in suite]
    units = [i for i, d in suite if d == UNIT_S]
    split_ids = [p for i in ids for p in (parts_of(i) if i in units else [i])]
    split_durs = [secs(i) for i in split_ids]
    total = sum(durs)
    whole_bound, split_bound = bound_of(durs), bound_of(split_durs)
    stamp = time.strftime('%Y%m%d%H%M%S')
    namespace = 'bench-b8-%s-%d' % (stamp, os.getpid())
    threshold = total / WORKERS
    ctx.note('B8', '%d tests of 0.05 to 0.3 s (uniform, seed 8) and %d units of %.0f s; '
             'total %.1f s, a worker\'s share (total/8, the auto threshold) %.2f s; split, '
             'each unit gives %d parts of %.2f s (bench/split-units.sh); the namespace\'s '
             'history seeded with the true duration of every id of the list (not the '
             'parts); --order timing; namespace %s'
             % (SHORT, UNITS, UNIT_S, total, threshold, PARTS, UNIT_S / PARTS, namespace))
    srv = Server()
    try:
        srv.c.call('HSET', 'ciq:timing:{%s}' % namespace,
                   *[x for i, d in suite for x in (i, str(round(d * 1000)))])

        build = 'b8-whole-' + stamp
        whole, err = run(srv, ids, build, namespace, split=False)
        done = results(srv.c.call, build, namespace)
        if done != len(ids):
            raise BenchError('whole run: %d results for %d tests' % (done, len(ids)))
        ctx.row('B8', 'makespan / lower bound, 8 workers, %d units of %.0f s run whole '
                '(the bound: the longest unit)' % (UNITS, UNIT_S),
                '%.3f (%.2f s / %.2f s); %.2fx total/8 (%.2f s)'
                % (whole / whole_bound, whole, whole_bound, whole / threshold, threshold))

        build = 'b8-split-' + stamp
        split, err = run(srv, ids, build, namespace, split=True)
        meta = srv.c.call('HGETALL', key(build, 'meta', namespace))
        noted = {meta[i].decode()[6:]: int(meta[i + 1]) for i in range(0, len(meta), 2)
                 if meta[i].startswith(b'split:')}
        done = results(srv.c.call, build, namespace)
        whole_warn = [line for line in err.splitlines() if 'runs whole' in line]
        if noted != {u: PARTS for u in units} or done != len(split_ids):
            raise BenchError('split run: units noted split %s, %d results for %d ids%s'
                             % (noted, done, len(split_ids),
                                ': ' + whole_warn[0] if whole_warn else ''))
        ratio = split / split_bound
        ctx.row('B8', 'makespan / lower bound, 8 workers, the units split (--split-command '
                'bench/split-units.sh --split-threshold auto, CIQ_WORKERS=8)',
                '%.3f (%.2f s / %.2f s)' % (ratio, split, split_bound), '<= 1.05',
                ratio <= 1.05)
        ctx.note('B8', 'makespan whole / split: %.2fx (%.2f s / %.2f s); %d ids queued once '
                 'split, the longest %.2f s' % (whole / split, whole, split, len(split_ids),
                                                max(split_durs)))
        # Where the gap goes: the sleeps of the busiest worker (what the
        # order left unbalanced) and the rest (the tools, per test).
        slept = []
        for w in range(WORKERS):
            got = srv.c.call('LRANGE', key(build, 'order:%d' % w, namespace), 0, -1) or []
            got = [i.decode() for i in got if b'@' in i]  # not the key's marker
            slept.append((sum(secs(i) for i in got), len(got), w))
        most, n, w = max(slept)
        ctx.note('B8', 'split run: the busiest worker (%d) slept %.2f s in %d tests, %.2f s '
                 'over the bound (imbalance); the makespan\'s other %.2f s, %.1f ms per '
                 'test of that worker, are the tools and the start; tests per worker %s'
                 % (w, most, n, most - split_bound, split - most, (split - most) / n * 1000,
                    ' '.join(str(c) for _, c, _ in sorted(slept, key=lambda x: x[2]))))
    finally:
        finish(srv)
