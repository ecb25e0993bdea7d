#!/usr/bin/python3
"""delayproxy.py LISTEN_PORT TARGET_PORT DELAY_MS PIDFILE

A TCP proxy on 127.0.0.1:LISTEN_PORT in front of 127.0.0.1:TARGET_PORT
that holds every chunk DELAY_MS milliseconds in each direction, so that a
request and its reply take 2 * DELAY_MS more than without it. It is the
fallback of B6 when the kernel has no netem.

Chunks keep their order and are not slowed down by one another: each is
due DELAY_MS after it was read, whatever is queued before it. A TCP
connection costs one round trip on a real network before the client can
send anything; here connect() returns at once, so the first chunk a client
sends on a connection waits one more round trip (2 * DELAY_MS) to make up
for it.

Writes its pid to PIDFILE once it listens; stops on SIGTERM.
Standard library only.
"""
import asyncio
import os
import selectors
import signal
import sys


async def pump(reader, writer, delay, first_extra):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                try:
                    writer.write_eof()
                except (OSError, RuntimeError):
                    pass
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.ensure_future(send())
    extra = first_extra
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay + extra, data))
            extra = 0
            if not data:
                break
        await sender
    except (ConnectionError, OSError, asyncio.CancelledError):
        sender.cancel()
    finally:
        try:
            writer.close()
        except RuntimeError:
            pass


async def main():
    listen, target, delay_ms, pidfile = (int(sys.argv[1]), int(sys.argv[2]),
                                         float(sys.argv[3]), sys.argv[4])
    delay = delay_ms / 1000.0

    async def serve(creader, cwriter):
        try:
            sreader, swriter = await asyncio.open_connection('127.0.0.1', target)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(pump(creader, swriter, delay, 2 * delay),
                             pump(sreader, cwriter, delay, 0),
                             return_exceptions=True)

    server = await asyncio.start_server(serve, '127.0.0.1', listen, backlog=1024)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    with open(pidfile + '.tmp', 'w') as f:
        f.write('%d\n' % os.getpid())
    os.rename(pidfile + '.tmp', pidfile)
    await stop.wait()
    server.close()
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == '__main__':
    # select() takes its timeout in microseconds; epoll, asyncio's default,
    # in whole milliseconds, which would round every delay up.
    loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
