#!/usr/bin/env python3
"""unembed.py HEADER SCRIPT - the reverse of lua/embed.sh, for the tests and
the benchmarks that call a script by hand: write the script that HEADER
embeds to the file SCRIPT, byte for byte, and print its key names, one a
line, as its "-- KEYS:" lines give them ("order:" is per worker)."""
import re
import sys

h = open(sys.argv[1]).read()
body = re.search(r'ciq_lua_\w+\[\] = \{(.*?)\};', h, re.S).group(1)
src = bytes(int(x, 16) for x in re.findall(r'0x([0-9a-f]{2})', body))
open(sys.argv[2], 'wb').write(src.rstrip(b'\0'))
print('\n'.join(re.findall(r'"([^"]*)"', re.search(r'_keys\[\] = \{(.*?)NULL', h).group(1))))
