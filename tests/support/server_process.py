"""`goalpost serve` as a real process, for what only a process can show (a hard kill)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, database_url: str, *, workers: int = 1, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.workers = workers
        self.env = {**os.environ, "GOALPOST_DATABASE_URL": database_url,
                    "GOALPOST_ADMIN_TOKEN": "proc-admin", "GOALPOST_RATE_LIMIT": "0",
                    **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> "ServerProcess":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port),
             "--workers", str(self.workers), "--log-level", "warning"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers share its process group: one kill ends all
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stdout.read().decode()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("server did not become healthy")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, nothing graceful."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        stop_group(self.process)


def stop_group(process: subprocess.Popen | None) -> None:
    """SIGTERM to a process started with start_new_session and everything it started; SIGKILL
    after 10 s."""
    if process and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
