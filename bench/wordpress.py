"""Benchmark of what the WordPress plugin adds to a form submission: python bench/wordpress.py

A real WordPress (tests/support/wordpress.py: Debian's package, MariaDB, `php -S`, the plugin from
its zip, the Contact Form 7 stand-in) and a real `goalpost serve` on a temporary SQLite file. The
same no-JavaScript CF7 POST is timed, interleaved round by round, with the plugin

* unconfigured (no key: nothing is sent): the baseline;
* sending to Goalpost (under `php -S` there is no fastcgi_finish_request, so the event is sent
  before the response ends: the slowest case the plugin allows for a working server);
* pointed at a port where nobody listens (the event is queued);

and reports the median milliseconds of each and their ratios to the baseline.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server_process import ServerProcess, free_port  # noqa: E402
from tests.support.wordpress import MariaDB, install_wordpress  # noqa: E402

ROUNDS = 30
UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Safari/537.36")


def cli(url: str, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], check=True, text=True,
                          capture_output=True,
                          env={**os.environ, "GOALPOST_DATABASE_URL": url}).stdout.strip()


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gp-bench-wp-"))
    db_url = f"sqlite+aiosqlite:///{tmp}/gp.db"
    cli(db_url, "migrate")
    cli(db_url, "create-site", "bench.example")
    key = cli(db_url, "create-key", "bench.example").splitlines()[-1]
    mariadb = MariaDB(tmp).start()
    server = ServerProcess(db_url).start()
    wp = install_wordpress(tmp, mariadb)
    configs = {
        "unconfigured": {},
        "sending": {"url": server.url, "site": "bench.example", "api_key": key},
        "goalpost down": {"url": f"http://127.0.0.1:{free_port()}", "site": "bench.example",
                          "api_key": key},
    }
    times: dict[str, list[float]] = {name: [] for name in configs}
    try:
        with httpx.Client(base_url=wp.url, headers={"user-agent": UA}, timeout=30) as c:
            c.get("/gp-cf7/")  # warm PHP's opcache
            for _ in range(ROUNDS):
                for name, settings in configs.items():
                    wp.configure(**settings)
                    start = time.perf_counter()
                    answer = c.post("/gp-cf7/", data={"_wpcf7": "5", "your-name": "x",
                                                      "_wpcf7_container_post": "4"})
                    times[name].append((time.perf_counter() - start) * 1000)
                    assert "Thank you for your message" in answer.text
    finally:
        wp.stop()
        server.stop()
        mariadb.stop()
    base = statistics.median(times["unconfigured"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:14s} median {median:7.1f} ms   ratio to unconfigured {median / base:5.2f}")


if __name__ == "__main__":
    main()
