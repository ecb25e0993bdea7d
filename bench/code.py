#!/usr/bin/env python3
"""code.py - the shape of ciq's C code, for before/after comparisons.

Prints: lines of C (non-blank, in lib/ and cmd/), the number of modules,
the ten longest functions, and the include graph's cycles between
modules (a module is NAME.c with NAME.h; a cycle is a strongly connected
set of more than one module). Reads the tree it is run from; changes
nothing.

    python3 bench/code.py [ROOT]
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
dirs = ['lib', 'cmd']
files = sorted(os.path.join(d, f) for d in dirs for f in os.listdir(os.path.join(root, d))
               if f.endswith(('.c', '.h')))


def read(path):
    with open(os.path.join(root, path), encoding='utf-8', errors='replace') as f:
        return f.read().split('\n')


lines = sum(1 for p in files for line in read(p) if line.strip())
modules = sorted({os.path.splitext(p)[0] for p in files})
print('lines of C (non-blank, lib/ and cmd/): %d in %d files, %d modules' % (lines, len(files), len(modules)))

# Functions: a line "name(" at column 0 after a type line, to the next "}" at column 0.
funcs = []
for p in files:
    if not p.endswith('.c'):
        continue
    text = read(p)
    for i, line in enumerate(text):
        m = re.match(r'^([a-z_][a-z0-9_]*)\(', line)
        if not m or i == 0 or not text[i - 1].strip() or text[i - 1].startswith((' ', '\t', '#', '/', '*')):
            continue
        for j in range(i + 1, len(text)):
            if text[j] == '}':
                funcs.append((j - i + 2, '%s:%d %s' % (p, i + 1, m.group(1))))
                break
funcs.sort(reverse=True)
print('ten longest functions (lines, type line included):')
for n, name in funcs[:10]:
    print('  %4d  %s' % (n, name))

# Include graph between modules.
edges = {m: set() for m in modules}
for p in files:
    src = os.path.splitext(p)[0]
    for line in read(p):
        m = re.match(r'#include "([a-z0-9_]+)\.h"', line)
        if not m:
            continue
        for d in dirs:
            dst = os.path.join(d, m.group(1))
            if dst in edges and dst != src:
                edges[src].add(dst)
                break

# Tarjan's strongly connected components.
index, low, stack, on, sccs = {}, {}, [], set(), []


def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))


sys.setrecursionlimit(10000)
for v in modules:
    if v not in index:
        visit(v)
print('include cycles between modules: %d' % len(sccs))
for c in sccs:
    print('  ' + ' <-> '.join(c))
