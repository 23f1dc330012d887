"""An open-loop HTTP load generator for POST /api/event: requests are sent at a fixed arrival
rate whatever the server's answers, and each latency is counted from the moment its request
was due (so a stalled server shows in the tail instead of slowing the sender down, as in a
closed loop). Run by bench/ingest.py in its own process:

    python bench/openloop.py PORT RATE SECONDS CONNECTIONS SITE  ->  JSON on stdout
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import time

import uvloop  # uvicorn[standard]'s, as the server runs on

UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Safari/537.36")
PATHS = ["/", "/pricing", "/blog/a", "/blog/b", "/docs/start", "/contact", "/shop/item-1"]


def body(counter: int, site: str) -> str:
    """The same mix as bench/ingest.lua (wrk's closed loop)."""
    visitor = f"v{counter % 5000}"
    path = PATHS[counter % len(PATHS)]
    kind = counter % 10
    if kind < 6:
        return (f'{{"site":"{site}","url":"https://{site}{path}?x={counter}",'
                f'"referrer":"https://www.google.com/","anonymous_id":"{visitor}"}}')
    if kind < 8:
        return (f'{{"site":"{site}","type":"click","url":"https://{site}{path}","click":'
                f'{{"url":"https://www.amazon.de/dp/B08N5WRWN{counter % 10}","text":"Buy now"}},'
                f'"anonymous_id":"{visitor}"}}')
    if kind < 9:
        return (f'{{"site":"{site}","type":"form","url":"https://{site}/contact","form":'
                f'{{"plugin":"cf7","contactFormId":{counter % 3},"unitTag":"wpcf7-f4-p5-o1",'
                f'"containerPostId":5,"status":"mail_sent"}},"anonymous_id":"{visitor}"}}')
    return (f'{{"site":"{site}","name":"Purchase","props":{{"plan":"pro","seats":{counter % 5}}},'
            f'"revenue":{{"amount":"{counter % 100}.99","currency":"EUR"}},'
            f'"anonymous_id":"{visitor}"}}')


def request(counter: int, site: str) -> bytes:
    data = body(counter, site).encode()
    return (f"POST /api/event HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\n"
            f"User-Agent: {UA}\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


class _Connection(asyncio.Protocol):
    """One keep-alive connection that takes the next due request whenever it is free and reads
    each answer straight from the socket: asyncio's streams cost this process about a third of
    a core at 2,600 requests/s, taken from the server it measures on a 2-core machine."""

    def __init__(self, site: str, due: collections.deque, results: "_Results"):
        self.site = site
        self.due = due  # (counter, when due), shared by every connection
        self.results = results
        self.transport = None
        self.buffer = b""
        self.current = None  # (counter, when due) of the request in flight

    def connection_made(self, transport):
        self.transport = transport

    def take(self) -> None:
        """Send the next due request, if this connection is free and one is due."""
        if self.current is None and self.due and not self.transport.is_closing():
            self.current = self.due.popleft()
            self.transport.write(request(self.current[0], self.site))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if self.current is None or end < 0:
            return
        head = self.buffer[:end]
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if len(self.buffer) < end + 4 + length:
            return
        self.buffer = self.buffer[end + 4 + length:]
        self.results.add(self.current[1], int(head.split(b" ", 2)[1]))
        self.current = None
        self.take()

    def connection_lost(self, exc) -> None:
        if self.current is not None:
            self.results.errors += 1
            self.current = None


class _Results:
    def __init__(self):
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors = 0

    def add(self, at: float, status: int) -> None:
        self.latencies.append((time.perf_counter() - at) * 1000)
        self.statuses[status] = self.statuses.get(status, 0) + 1


async def run(port: int, rate: float, seconds: float, connections: int, site: str) -> dict:
    loop = asyncio.get_running_loop()
    results = _Results()
    due: collections.deque = collections.deque()
    total = int(rate * seconds)
    pool = []
    for _ in range(connections):
        _, conn = await loop.create_connection(lambda: _Connection(site, due, results),
                                               "127.0.0.1", port)
        pool.append(conn)
    start = time.perf_counter() + 0.2
    sent = 0
    while sent < total:
        # every request due by now joins the queue, and the free connections take them; the
        # latency of each is counted from when it was due, so waiting for a free connection
        # counts too
        due_until = min(total, int((time.perf_counter() - start) * rate) + 1)
        while sent < due_until:
            due.append((sent, start + sent / rate))
            sent += 1
        for conn in pool:
            if not due:
                break
            conn.take()
        # the loop's timers count whole milliseconds: a shorter sleep would spin
        await asyncio.sleep(max(0.001, start + sent / rate - time.perf_counter()))
    deadline = time.perf_counter() + 30
    while (due or any(c.current is not None for c in pool)) and time.perf_counter() < deadline:
        for conn in pool:
            conn.take()
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    results.errors += len(due)
    for c in pool:
        c.transport.close()
    latencies = sorted(results.latencies)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    if not latencies:
        latencies.append(float("inf"))
    return {"sent": total, "rate": rate, "achieved": len(results.latencies) / elapsed,
            "errors": results.errors, "p50": pct(50), "p99": pct(99), "max": latencies[-1],
            "statuses": results.statuses}


if __name__ == "__main__":
    port, rate, seconds, connections, site = sys.argv[1:6]
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        print(json.dumps(runner.run(run(int(port), float(rate), float(seconds), int(connections),
                                        site))))
