"""B3: ciq-populate of 100,000 and 1,000,000 ids: time and Redis memory."""
import os

from harness import BenchError, Server, finish, key, populate, tool_env, write_list


def b3(ctx):
    srv = Server()
    try:
        for n in (100000, 1000000):
            ids = ['spec/models/group_%03d/user_account_%07d_spec.rb' % (i % 997, i)
                   for i in range(n)]
            avg = sum(len(i) for i in ids) / n
            listfile = write_list(srv.dir, ids, 'ids-%d' % n)
            del ids
            srv.c.call('FLUSHALL')
            before = srv.used_memory()
            build = 'b3-%d' % n
            t = populate(tool_env(srv.url, build), listfile, order='random', timeout=60)
            after = srv.used_memory()
            if srv.c.call('LLEN', key(build, 'queue')) != n:
                raise BenchError('the queue does not hold %d ids' % n)
            os.unlink(listfile)
            bytes_per = (after - before) / n
            limit = 2 * avg + 64
            big = n == 1000000
            label = '1M' if big else '%dk' % (n // 1000)
            ctx.row('B3', 'ciq-populate --order random, %s ids (wall clock)' % label,
                    '%.2f s (%.0f ids/s)' % (t, n / t),
                    '<= 3 s' if big else '-', t <= 3 if big else '-')
            ctx.row('B3', 'Redis memory per id, %s ids (avg id %.1f bytes)' % (label, avg),
                    '%.1f bytes (used_memory %+.1f MB)' % (bytes_per, (after - before) / 1e6),
                    '<= 2*len+64 = %.0f' % limit, bytes_per <= limit)
        srv.c.call('FLUSHALL')
    finally:
        finish(srv)
