"""An open-loop HTTP load generator for POST /api/event: requests are sent at a fixed arrival
rate whatever the server's answers, and each latency is counted from the moment its request
was due (so a stalled server shows in the tail instead of slowing the sender down, as in a
closed loop). Run by bench/ingest.py in its own process:

    python bench/openloop.py PORT RATE SECONDS CONNECTIONS SITE  ->  JSON on stdout
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

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


async def run(port: int, rate: float, seconds: float, connections: int, site: str) -> dict:
    due: asyncio.Queue = asyncio.Queue()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    total = int(rate * seconds)

    errors = 0

    async def connection():
        nonlocal errors
        reader = writer = None
        while True:
            item = await due.get()
            if item is None:
                if writer is not None:
                    writer.close()
                return
            counter, at = item
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request(counter, site))
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                    IndexError):
                errors += 1  # counted, and the next request opens a new connection
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            latencies.append((time.perf_counter() - at) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    start = time.perf_counter() + 0.2
    for i in range(total):
        at = start + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait((i, at))
    for _ in workers:
        due.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    if not latencies:
        latencies.append(float("inf"))
    return {"sent": total, "rate": rate, "achieved": len(latencies) / elapsed, "errors": errors,
            "p50": pct(50), "p99": pct(99), "max": latencies[-1], "statuses": statuses}


if __name__ == "__main__":
    port, rate, seconds, connections, site = sys.argv[1:6]
    print(json.dumps(asyncio.run(run(int(port), float(rate), float(seconds), int(connections),
                                     site))))
