#!/usr/bin/python3
"""server.py - a local HTTP server for the webhook tests of ciq-report.

Usage: server.py MODE DIR [LIFETIME]

Listens on 127.0.0.1, on a port the system picks, which it writes to
DIR/port once it accepts connections. Every request it gets is counted: the
Nth one is saved as DIR/N.body (the body) and DIR/N.head (the request
line and headers), written whole before the answer is sent. MODE:

  record  answers 204 No Content
  fail    answers 500 Internal Server Error
  hang    never answers: holds the connection open

It stops by itself after LIFETIME seconds (default 60), or on SIGTERM.
Standard library only, for /usr/bin/python3.
"""
import http.server
import os
import signal
import sys
import threading

MODES = {"record": 204, "fail": 500, "hang": None}


def main(argv):
    if len(argv) not in (2, 3) or argv[0] not in MODES:
        sys.stderr.write(__doc__)
        return 64
    mode, folder = argv[0], argv[1]
    lifetime = float(argv[2]) if len(argv) == 3 else 60.0
    stop = threading.Event()
    lock = threading.Lock()
    count = [0]

    def save(name, data):
        tmp = os.path.join(folder, "." + name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(folder, name))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            with lock:
                count[0] += 1
                i = count[0]
            head = self.requestline + "\n" + str(self.headers)
            save("%d.head" % i, head.encode("utf-8", "replace"))
            save("%d.body" % i, body)
            code = MODES[mode]
            if code is None:
                stop.wait()
                return
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    save("port", b"%d\n" % server.server_address[1])
    stop.wait(lifetime)
    stop.set()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
