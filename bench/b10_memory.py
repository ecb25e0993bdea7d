"""B10: the server's memory per test: queued, in flight, passed, failed
with output, requeued, and the namespace's timing history; by kind of
key; and what Redis's encoding thresholds change."""
import os
import random

from harness import (BenchError, Server, build_keys, capture, drop_build, finish, key,
                     memory_by_kind, populate, script_calls, tool, tool_env, write_list)

WORKERS = 8
N = 10000          # tests of the builds that run
CAPPED = 1000      # tests of the build whose outputs are over the cap
BATCH = 100        # ids per ciq-pop -n and per ciq-ack
CAP = 65536        # the output cap of ciq-ack(1)
# Ids of 20, 40 and 80 bytes, for the queue by id length.
FORMATS = ('test/unit/t%06d.py',
           'spec/models/user_%06d_spec.rb[1:2:3:4]',
           'tests/integration/billing/test_invoices_%06d.py::TestInvoices::test_total_due')
SIZES = (1000, 10000, 100000)
DEFAULTS = {'hash-max-listpack-entries': '512', 'list-compress-depth': '0'}

# The builds that run have ids like a Rails suite's examples, of two
# made-up words: less alike than numbered ids, which a compressed list
# would shrink to nothing.
SYLLABLES = ('ac', 'count', 'us', 'er', 'or', 'der', 'in', 'voice', 'pay', 'ment', 'ship',
             'ping', 'tax', 'rate', 'cart', 'item', 'auth', 'to', 'ken', 'mail', 'job', 're',
             'port', 'plan', 'team', 'log', 'ev', 'ent', 'search', 'dex', 'user', 'price')
DIRS = ('models', 'controllers', 'services', 'requests', 'jobs', 'mailers', 'policies',
        'lib', 'helpers', 'features', 'system', 'serializers')


def suite_ids(n, seed=10):
    """n distinct ids "spec/DIR/WORD_WORD_spec.rb[1:K:J]", about 43 bytes,
    1 to 28 examples a file; the same for the same n and seed."""
    rng = random.Random(seed)

    def word():
        return ''.join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))
    ids, files = [], set()
    while len(ids) < n:
        f = 'spec/%s/%s_%s_spec.rb' % (rng.choice(DIRS), word(), word())
        if f in files:
            continue
        files.add(f)
        for k in range(1, rng.randint(2, 6)):
            for j in range(1, rng.randint(2, 8)):
                ids.append('%s[1:%d:%d]' % (f, k, j))
    return ids[:n]


def avg_len(ids):
    return sum(len(i) for i in ids) / len(ids)


def per_kind(kinds, n, top=None):
    """"kind X.X" per test, largest first."""
    items = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return ', '.join('%s %.1f' % (k, v / n) for k, v in items)


class Lab:
    """One private server and the builds B10 makes on it, each in a
    namespace of its own."""

    def __init__(self, srv):
        self.srv, self.call, self.k = srv, srv.c.call, 0

    def env(self, build, ns, worker='w0'):
        # No heartbeat: nothing of a tool outlives it, and none is needed:
        # no test is held longer than --timeout.
        return tool_env(self.srv.url, build, worker, ns, CIQ_HEARTBEAT=0)

    def mem(self):
        return self.srv.used_memory()

    def new_build(self, ids, order='random', warm=True):
        """A build of ids in a new namespace. When warm, two first builds
        of the same list in the namespace note the ids in its list of
        seen ids (ciq:timing:{NS}:seen, no build's key: measured apart)
        and are deleted, so that the populate measured makes the build's
        keys alone. (The second finishes the incremental rehash of that
        hash, which would else free its old table during the measure.)
        Returns (build, ns, used_memory before, after)."""
        self.k += 1
        ns = build = 'b10-%d' % self.k
        listfile = write_list(self.srv.dir, ids, 'list-%d' % self.k)
        try:
            for _ in range(2 if warm else 0):
                populate(self.env('warm', ns), listfile, order=order)
                drop_build(self.call, 'warm', ns)
            before = self.mem()
            populate(self.env(build, ns), listfile, order=order)
            return build, ns, before, self.mem()
        finally:
            os.unlink(listfile)

    def drop(self, build, ns):
        """The build's keys and its namespace's history."""
        drop_build(self.call, build, ns)
        self.call('DEL', 'ciq:timing:{%s}' % ns, 'ciq:timing:{%s}:seen' % ns)

    def pop(self, build, ns, worker, n):
        """ciq-pop -n n as worker; the ids."""
        out = capture('ciq-pop', [tool('ciq-pop'), '-n', str(n)], self.env(build, ns, worker), 60)
        return out.split('\n')[:-1]

    def record(self, build, ns, worker, name, flags, ids):
        """NAME FLAGS -- IDS (ciq-ack or ciq-requeue) as worker."""
        capture(name, [tool(name)] + flags + ['--'] + ids, self.env(build, ns, worker), 60)

    def run(self, build, ns, n, workers, flags=()):
        """Run the n tests of the build: the workers in turn pop BATCH
        tests and ack them (with flags), so that at most BATCH tests are
        held at once, as in a build of that many workers."""
        done, i = 0, 0
        while done < n:
            w = workers[i % len(workers)]
            i += 1
            ids = self.pop(build, ns, w, min(BATCH, n - done))
            self.record(build, ns, w, 'ciq-ack', list(flags), ids)
            done += len(ids)

    def kinds(self, build, ns):
        return memory_by_kind(self.call, build_keys(self.call, build, ns))

    def usage(self, name):
        return self.call('MEMORY', 'USAGE', name, 'SAMPLES', '0') or 0

    def encoding(self, name):
        return (self.call('OBJECT', 'ENCODING', name) or b'-').decode()

    def script_usec(self):
        return script_calls(self.srv.c.cmdstats('usec'))

    def warm_up(self, dirname):
        """A build of 2 tests that runs every script the builds below
        run (populate, pop, requeue, ack, report), so that the memory of
        the scripts, loaded once per server, is no build's. Also every
        command the harness sends."""
        out = output_file(dirname, 10, 'out-warm')
        build, ns, _, _ = self.new_build(['t1', 't2'], warm=False)
        self.pop(build, ns, 'wa', 2)
        self.record(build, ns, 'wa', 'ciq-requeue',
                    ['--max-requeues', '1', '--requeue-tolerance', '1', '--output', out], ['t1'])
        self.record(build, ns, 'wa', 'ciq-ack', ['--failed', '--output', out], ['t2'])
        self.record(build, ns, 'wb', 'ciq-ack', [], self.pop(build, ns, 'wb', 1))
        capture('ciq-report', [tool('ciq-report')], self.env(build, ns), 60, ok=(0, 1))
        # Redis keeps a latency histogram per command (latency-tracking,
        # about 40 KB each), made at the command's first call: the
        # harness's own commands make theirs here too.
        results = key(build, 'results', ns)
        self.kinds(build, ns)
        self.encoding(results)
        self.call('HSTRLEN', results, 't1')
        self.call('HLEN', results)
        self.drop(build, ns)
        os.unlink(out)


def output_file(dirname, size, name, kind='log'):
    """A test's output of size bytes: kind 'log' is a runner's log
    (log_text), 'prose' English text (the licenses every Debian system
    has: deflate's hardest text here), 'random' random bytes, which
    nothing compresses."""
    path = os.path.join(dirname, name)
    if kind == 'log':
        data = log_text(size)
    elif kind == 'prose':
        data = prose_text(size)
    else:
        data = random.Random(size).randbytes(size)
    with open(path, 'wb') as f:
        f.write(data)
    return path


def log_text(size, seed=16):
    """size bytes of a failing spec's log, the same for the same size: a
    run of examples, each with timestamps, SQL with bound values, object
    ids, a failure with expected and got values and a backtrace of made-up
    files; no two lines alike, as in a real log."""
    rng = random.Random(seed)

    def word():
        return ''.join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))
    lines, n, t = [], 0, 0
    while n < size:
        t += rng.randint(1, 900)
        model = word().capitalize()
        spec = 'spec/%s/%s_%s_spec.rb' % (rng.choice(DIRS), word(), word())
        block = ['2026-12-05T02:%02d:%02d.%03dZ INFO  %s[1:%d:%d] started (seed %d)'
                 % (t // 60000 % 60, t // 1000 % 60, t % 1000, spec, rng.randint(1, 9),
                    rng.randint(1, 9), rng.randint(1, 65535))]
        for _ in range(rng.randint(1, 6)):
            block.append('  %s Load (%.1fms)  SELECT "%ss".* FROM "%ss" WHERE "%ss"."id" = $1 '
                         'LIMIT $2  [["id", %d], ["LIMIT", 1]]'
                         % (model, rng.random() * 3, model.lower(), model.lower(),
                            model.lower(), rng.randint(1, 10 ** 6)))
        if rng.random() < 0.3:
            want = rng.randint(1, 10 ** 5)
            block += ['  Failure/Error: expect(%s.%s).to eq(%d)' % (model.lower(), word(), want),
                      '    expected: %d' % want,
                      '         got: %d' % (want + rng.randint(-500, 500)),
                      '    #<%s:0x%016x id: %d, %s: "%s">'
                      % (model, rng.getrandbits(48), rng.randint(1, 10 ** 6), word(), word())]
            for _ in range(rng.randint(3, 9)):
                block.append("  # ./app/%s/%s.rb:%d:in `%s_%s'"
                             % (rng.choice(DIRS), word(), rng.randint(1, 900), word(), word()))
        text = ('\n'.join(block) + '\n').encode()
        lines.append(text)
        n += len(text)
    return b''.join(lines)[:size]


def prose_text(size):
    """size bytes of the licenses of /usr/share/common-licenses, in turn."""
    d = '/usr/share/common-licenses'
    parts = []
    for name in ('GPL-3', 'Apache-2.0', 'GFDL-1.3', 'LGPL-2.1', 'MPL-2.0', 'Artistic'):
        with open(os.path.join(d, name), 'rb') as f:
            parts.append(f.read())
    data = b''.join(parts)
    return (data * (size // len(data) + 1))[:size]


def queued(ctx, lab):
    """Bytes per queued test, by list size and id length."""
    for fmt in FORMATS:
        cells = []
        for n in SIZES:
            build, ns, before, after = lab.new_build([fmt % i for i in range(n)])
            q = lab.usage(key(build, 'queue', ns))
            cells.append('%dk: %.1f (queue key %.1f)' % (n // 1000, (after - before) / n, q / n))
            lab.drop(build, ns)
        ctx.row('B10', 'memory per queued test, ids of %d bytes (used_memory after populate, '
                'minus before, / tests; MEMORY USAGE of the queue / tests)' % len(fmt % 0),
                'bytes: ' + '; '.join(cells))


def fixed(ctx, lab):
    """A build's own keys: one test, one worker."""
    build, ns, before, after = lab.new_build(['t1'])
    lab.run(build, ns, 1, ['w0'])
    done = lab.mem()
    ctx.row('B10', 'a build\'s fixed cost: its keys with 1 test and 1 worker (used_memory)',
            '%d bytes after populate, %d once the test passed (%d keys)'
            % (after - before, done - before, len(build_keys(lab.call, build, ns))))
    lab.drop(build, ns)


def passed(lab, ids):
    """A build of ids run by 8 workers, all passed, then reported.
    Returns its figures, per test."""
    n = len(ids)
    build, ns, m0, m1 = lab.new_build(ids)
    # No CONFIG RESETSTAT: it frees every command's latency histogram,
    # which the next call of each command makes again (see warm_up).
    usec = lab.script_usec()
    lab.run(build, ns, n, ['w%d' % w for w in range(WORKERS)])
    m3 = lab.mem()
    usec = lab.script_usec() - usec
    kinds = lab.kinds(build, ns)
    history = 'ciq:timing:{%s}' % ns
    seen = lab.usage(history + ':seen')
    capture('ciq-report', [tool('ciq-report')], lab.env(build, ns), 120)
    m4 = lab.mem()
    timed = lab.call('HLEN', history)
    # The history per id it holds (see history_note).
    got = {'timing': lab.usage(history) / max(timed, 1), 'queued': (m1 - m0) / n,
           'passed': (m3 - m0) / n, 'report': (m4 - m3) / n, 'timed': timed,
           'seen': seen / n, 'n': n, 'kinds': kinds, 'usec': usec / n,
           'enc': {'results': lab.encoding(key(build, 'results', ns)),
                   'order:WORKER': lab.encoding(key(build, 'order:w0', ns)),
                   'history': lab.encoding(history)}}
    lab.drop(build, ns)
    return got


def failed(ctx, lab, ids, size, what, kind='log'):
    """A build of ids that all fail, each with an output of size bytes of
    kind (output_file; ciq-ack --failed --output). Returns the bytes per
    test by kind of key, and the bytes stored per output."""
    n = len(ids)
    out = output_file(lab.srv.dir, size, 'out-%s-%d' % (kind, size), kind)
    build, ns, m0, _ = lab.new_build(ids)
    lab.run(build, ns, n, ['w%d' % w for w in range(WORKERS)], ['--failed', '--output', out])
    m3 = lab.mem()
    kinds = lab.kinds(build, ns)
    stored = lab.call('HSTRLEN', key(build, 'output', ns), ids[0])
    lab.drop(build, ns)
    os.unlink(out)
    ctx.row('B10', 'memory per finished test: failed, %s (used_memory after the acks, minus '
            'before populate, / tests)' % what,
            '%.0f bytes (the output key %.0f; %d bytes stored per output; %d tests)'
            % ((m3 - m0) / n, kinds.get('output', 0) / n, stored, n))
    return kinds, stored


def junit_units(ctx, lab, ids):
    """A build of units that all fail, each with the same JUnit report of
    300 testcases, 30 of them failed with a backtrace (ciq-ack --failed
    --junit): the cases key."""
    n = len(ids)
    rng = random.Random(7)
    path = os.path.join(lab.srv.dir, 'junit.xml')
    with open(path, 'w') as f:
        f.write('<testsuite name="rspec" tests="300">\n')
        for i in range(300):
            cls = 'spec.models.%s_spec' % rng.choice(SYLLABLES)
            f.write('<testcase classname="%s" name="example %d" file="./spec/models/x_spec.rb" '
                    'time="%.4f">' % (cls, i, rng.random()))
            if i % 10 == 0:
                body = log_text(1000, seed=i).decode()
                f.write('<failure message="expected %d" type="RSpec::Expectations">%s</failure>'
                        % (rng.randint(1, 9999), body.replace('&', '&amp;').replace('<', '&lt;')))
            f.write('</testcase>\n')
        f.write('</testsuite>\n')
    build, ns, m0, _ = lab.new_build(ids)
    for w_ids in (ids[i:i + BATCH] for i in range(0, n, BATCH)):
        got = lab.pop(build, ns, 'w0', len(w_ids))
        for t in got:
            lab.record(build, ns, 'w0', 'ciq-ack', ['--failed', '--junit', path], [t])
    m3 = lab.mem()
    kinds = lab.kinds(build, ns)
    stored = lab.call('HSTRLEN', key(build, 'cases', ns), ids[0])
    lab.drop(build, ns)
    size = os.path.getsize(path)
    os.unlink(path)
    ctx.row('B10', 'memory per finished unit: failed with a JUnit report of 300 testcases, 30 '
            'failed with 1,000 bytes of text each (%d bytes of XML; ciq-ack --failed --junit)'
            % size,
            '%.0f bytes (the cases key %.0f; %d bytes stored per unit; %d units)'
            % ((m3 - m0) / n, kinds.get('cases', 0) / n, stored, n))


def value_cost(lab, size):
    """The bytes that one hash field of a value of size bytes takes: the
    MEMORY USAGE of a scratch hash of 64 such fields, over 64 (a
    hashtable, as every output hash of a build over 512 tests or with a
    value over 64 bytes is)."""
    scratch = 'b10-scratch'
    lab.call('DEL', scratch)
    for i in range(64):
        lab.call('HSET', scratch, 'spec/models/user_%06d_spec.rb[1:2:3:4]' % i, b'x' * size)
    got = lab.usage(scratch) / 64
    lab.call('DEL', scratch)
    return got


def requeued(ctx, lab, ids):
    """A build of ids, each requeued once with 1 KiB of output by one
    worker, then passed by another (so flaky): BATCH at a time."""
    n = len(ids)
    out = output_file(lab.srv.dir, 1024, 'out-req')
    build, ns, m0, _ = lab.new_build(ids)
    done = 0
    while done < n:
        got = lab.pop(build, ns, 'wa', min(BATCH, n - done))
        lab.record(build, ns, 'wa', 'ciq-requeue',
                   ['--max-requeues', '1', '--requeue-tolerance', '1', '--output', out], got)
        # The requeued tests are at the head of the queue: the other
        # worker takes them.
        again = lab.pop(build, ns, 'wb', len(got))
        if sorted(again) != sorted(got):
            raise BenchError('B10: the requeued tests did not come back first')
        lab.record(build, ns, 'wb', 'ciq-ack', [], again)
        done += len(got)
    m3 = lab.mem()
    kinds = lab.kinds(build, ns)
    lab.drop(build, ns)
    os.unlink(out)
    ctx.row('B10', 'memory per finished test: requeued once with 1 KiB of output '
            '(ciq-requeue --output), then passed on another worker (so flaky)',
            '%.0f bytes (used_memory after the acks, minus before populate, / tests; %d tests)'
            % ((m3 - m0) / n, n))
    ctx.note('B10', 'requeued, then passed, bytes per test by key kind: ' + per_kind(kinds, n, 9))


def with_setting(lab, name, value, fn, *args):
    lab.call('CONFIG', 'SET', name, value)
    try:
        return fn(*args)
    finally:
        lab.call('CONFIG', 'SET', name, DEFAULTS[name])


def history_note(r):
    """A history that lacks ids after the report: say so."""
    if r['timed'] == r['n']:
        return ''
    return ('; NB: the history holds only %d of the %d ids after ciq-report (its durations '
            'per id held)' % (r['timed'], r['n']))


def settings(ctx, lab, ids, base):
    """The encoding thresholds: the passed build with its hashes kept as
    listpacks, then with the queue compressed."""
    n = len(ids)
    lp = with_setting(lab, 'hash-max-listpack-entries', str(2 * n), passed, lab, ids)
    ctx.row('B10', 'setting: hash-max-listpack-entries %d (default 512), the same build of %d '
            'passed tests' % (2 * n, n),
            'passed %.0f bytes/test (default %.0f: %.2fx); history %.0f + %.0f bytes/id '
            '(default %.0f + %.0f); server time in the scripts %.1f us/test (default %.1f: '
            '%.1fx)%s'
            % (lp['passed'], base['passed'], lp['passed'] / base['passed'], lp['timing'],
               lp['seen'], base['timing'], base['seen'], lp['usec'], base['usec'],
               lp['usec'] / base['usec'], history_note(lp)))
    ctx.note('B10', 'with hash-max-listpack-entries %d: encodings %s; bytes per test by key '
             'kind: %s' % (2 * n, ', '.join('%s %s' % kv for kv in sorted(lp['enc'].items())),
                           per_kind(lp['kinds'], n, 6)))

    cz = with_setting(lab, 'list-compress-depth', '1', passed, lab, ids)
    big = suite_ids(10 * n)
    cells = []
    for depth in ('0', '1'):
        build, ns, before, after = with_setting(lab, 'list-compress-depth', depth,
                                                lab.new_build, big)
        cells.append('%.1f' % ((after - before) / len(big)))
        lab.drop(build, ns)
    ctx.row('B10', 'setting: list-compress-depth 1 (default 0), the same build of %d tests '
            '(--order random)' % n,
            'queued %.1f bytes/test (default %.1f: %.2fx; %dk tests: %s bytes against %s); '
            'passed %.0f bytes/test (default %.0f: %.2fx: the order lists are compressed '
            'too); server time in the scripts %.1f us/test (default %.1f: %.2fx)'
            % (cz['queued'], base['queued'], cz['queued'] / base['queued'], len(big) // 1000,
               cells[1], cells[0], cz['passed'], base['passed'], cz['passed'] / base['passed'],
               cz['usec'], base['usec'], cz['usec'] / base['usec']))


def b10(ctx):
    srv = Server()
    try:
        lab = Lab(srv)
        for name, value in DEFAULTS.items():
            got = srv.c.call('CONFIG', 'GET', name)
            if got[1].decode() != value:
                ctx.note('B10', 'this server\'s %s is %s, not %s' % (name, got[1].decode(), value))
            srv.c.call('CONFIG', 'SET', name, value)
        lab.warm_up(srv.dir)
        queued(ctx, lab)
        fixed(ctx, lab)
        ids = suite_ids(N)
        base = passed(lab, ids)
        ctx.row('B10', 'memory per test of a build of %d tests, 8 workers, ids of %.0f bytes on '
                'average: queued; passed (used_memory minus before populate, / tests)'
                % (N, avg_len(ids)),
                '%.0f; %.0f bytes' % (base['queued'], base['passed']))
        ctx.row('B10', 'the namespace\'s timing history per test id, after ciq-report (MEMORY '
                'USAGE of ciq:timing:{NS} and of its list of seen ids, / ids)',
                '%.0f bytes (durations %.0f + seen %.0f); used_memory grew %.0f bytes/test '
                'during the report%s' % (base['timing'] + base['seen'], base['timing'],
                                         base['seen'], base['report'], history_note(base)))
        ctx.note('B10', 'passed build, bytes per test by key kind (MEMORY USAGE, SAMPLES 0): %s; '
                 'encodings: %s' % (per_kind(base['kinds'], N),
                                    ', '.join('%s %s' % kv for kv in sorted(base['enc'].items()))))
        k1, _ = failed(ctx, lab, ids, 1024, 'each with 1 KiB of a log')
        ctx.note('B10', 'failed with 1 KiB of a log, bytes per test by key kind: '
                 + per_kind(k1, N, 6))
        stored = []
        for kind, what in (('log', 'a log'), ('prose', 'English prose (licenses)'),
                           ('random', 'random bytes')):
            k2, got = failed(ctx, lab, ids[:CAPPED], 100 * 1024,
                             'each with 100 KiB of %s (over the %d-byte cap)' % (what, CAP),
                             kind)
            ctx.note('B10', 'failed with 100 KiB of %s, bytes per test by key kind: %s'
                     % (what, per_kind(k2, CAPPED, 4)))
            stored.append(got)
        junit_units(ctx, lab, ids[:CAPPED])
        # What the cap costs in the allocator: an output of exactly the
        # cap, against one a few bytes shorter (Redis adds a header of 5
        # or 9 bytes and a NUL; jemalloc rounds up to its size classes).
        costs = [(size, value_cost(lab, size))
                 for size in sorted(set(stored + [CAP, CAP - 6, CAP - 1024]), reverse=True)]
        ctx.row('B10', 'one stored output as a hash field (MEMORY USAGE of a hash of 64 such '
                'fields / 64), by its size',
                '; '.join('%d bytes: %.0f' % c for c in costs))
        requeued(ctx, lab, ids)
        settings(ctx, lab, ids, base)
        ctx.note('B10', 'the workers take turns: each pops %d tests (ciq-pop -n) and acks '
                 'them in one ciq-ack (or requeues them), so at most %d are held at once; '
                 'heartbeat off. Only the replies key (each worker\'s last reply) depends on the '
                 'batch: once per worker, not per test' % (BATCH, BATCH))
    finally:
        finish(srv)
