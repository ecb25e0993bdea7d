#!/usr/bin/python3
"""bench.py [B1 ... B10] [--markdown FILE] - the ciq benchmarks.

Run through bench/run.sh (make bench runs them all). Every benchmark starts
its own redis-server in a temporary directory, bounds its own runtime and
stops its servers by pidfile. Every figure is a ratio or a count measured
side by side in the same run. The table goes to standard output; with
--markdown the same table, the machine and the notes are written to FILE
in Markdown, for bench/RESULTS.md.

One file per benchmark (b1_loop.py ... b10_memory.py) around harness.py.
Standard library only. Environment:

  CIQ_BIN          directory of the ciq binaries (default: bin/ here)
  BENCH_B1_TESTS   tests per B1 run (default 600)
  BENCH_B4_SECONDS target length of one B4 run (default 30)
  BENCH_B7_TESTS   tests per B7 build (default 1000)
  BENCH_B9_SECONDS the window of each B9 level (default 15)
  BENCH_B9_LOOP    B9's workers: tools (ciq-pop and ciq-ack a test, the
                   default) or loop (one ciq-loop a worker)
"""
import datetime
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import harness
from harness import PROCS, BenchError, Ctx, RespError, log, sh
from b1_loop import b1
from b2_batch import b2
from b3_populate import b3
from b4_balance import b4
from b5_idle import b5
from b6_rtt import b6
from b7_cluster import b7
from b8_split import b8
from b9_builds import b9
from b10_memory import b10

BENCHES = {'B1': b1, 'B2': b2, 'B3': b3, 'B4': b4, 'B5': b5, 'B6': b6, 'B7': b7, 'B8': b8,
           'B9': b9, 'B10': b10}


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
    root = harness.ROOT
    head = sh('git', '-C', root, 'rev-parse', '--short', 'HEAD').stdout.strip()
    dirty = sh('git', '-C', root, 'status', '--porcelain', '--untracked-files=no',
               'lib', 'lua', 'cmd').stdout.strip()
    return [
        ('date', started.strftime('%Y-%m-%d %H:%M UTC')),
        ('cpus (nproc)', str(os.cpu_count())),
        ('cpu', model),
        ('kernel', os.uname().release),
        ('load average at the end', ' '.join('%.2f' % x for x in os.getloadavg())),
        ('redis', sh('redis-server', '--version').stdout.strip()),
        ('ciq', '%s%s' % (head, ' + uncommitted changes in lib/ lua/ cmd/' if dirty else '')),
    ]


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


def table(rows):
    """The rows as a text table, the columns what and figure wrapped at 60."""
    head = ('id', 'what', 'figure', 'target', 'met?', 'command to reproduce')
    w = [max(len(str(r[i])) for r in [head] + rows) for i in range(6)]
    w[1] = min(w[1], 60)
    w[2] = min(w[2], 60)
    out = []
    for r in [head] + rows:
        cells = [wrap(str(c), w[i]) if i in (1, 2) else [str(c)] for i, c in enumerate(r)]
        for k in range(max(len(x) for x in cells)):
            out.append('  '.join((x[k] if k < len(x) else '').ljust(w[i])
                                 for i, x in enumerate(cells)).rstrip())
        if r is head:
            out.append('  '.join('-' * x for x in w))
    return '\n'.join(out)


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


def snapshot(src, dst):
    """Copy the tools of src to dst, so that a rebuild in the tree during
    the run changes nothing; the name of a tool that does not run, or None."""
    os.mkdir(dst)
    for tool in sorted(os.listdir(src)):
        if tool.startswith('ciq-'):
            shutil.copy2(os.path.join(src, tool), dst)
            # The shell tools (ciq-run, ciq-worker.sh) have no --version.
            with open(os.path.join(dst, tool), 'rb') as f:
                script = f.read(2) == b'#!'
            if not script and sh(os.path.join(dst, tool), '--version').returncode != 0:
                return tool
    return None


def main(argv):
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
            sys.stderr.write('bench: unknown benchmark %r (B1..B10)\n' % argv[i])
            return 64
        names.append(name)
        i += 1
    names = names or sorted(BENCHES, key=lambda b: int(b[1:]))
    bindir = harness.BIN
    for tool in ('ciq-pop', 'ciq-ack', 'ciq-populate', 'ciq-requeue', 'ciq-report'):
        if not os.access(os.path.join(bindir, tool), os.X_OK):
            sys.stderr.write('bench: %s/%s is missing: run make first\n' % (bindir, tool))
            return 69
    if not shutil.which('redis-server'):
        sys.stderr.write('bench: redis-server is missing (make deps)\n')
        return 69
    harness.set_subreaper()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    harness.WORKDIR = tempfile.mkdtemp(prefix='ciqb-run.', dir='/tmp')
    harness.BIN = os.path.join(harness.WORKDIR, 'bin')
    bad = snapshot(bindir, harness.BIN)
    if bad:
        shutil.rmtree(harness.WORKDIR, ignore_errors=True)
        sys.stderr.write('bench: %s/%s does not run (a build in progress?): '
                         'run make again\n' % (bindir, bad))
        return 69
    harness.script_names()
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
        shutil.rmtree(harness.WORKDIR, ignore_errors=True)
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
