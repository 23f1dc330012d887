"""`goalpost maintain` as a process: it makes the missing monthly partitions (PostgreSQL) and
applies GOALPOST_RETENTION_DAYS."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from server.clock import now_us
from server.db import partitions


def _maintain(url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOALPOST_DATABASE_URL": url, "GOALPOST_RETENTION_DAYS": "30"}
    return subprocess.run([sys.executable, "-m", "server.cli", "maintain"], env=env,
                          capture_output=True, text=True, timeout=120)


async def test_maintain_makes_the_partitions_ahead(fresh_url, backend):
    ahead = partitions.name_of(*partitions.add_months(*partitions.month_of(now_us()),
                                                      partitions.MONTHS_AHEAD))
    if backend == "postgres":
        engine = create_async_engine(fresh_url)
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE {ahead}"))
        await engine.dispose()
    done = await asyncio.to_thread(_maintain, fresh_url)
    assert done.returncode == 0, done.stderr
    if backend == "postgres":
        assert f"partitions created: {ahead}" in done.stdout
        engine = create_async_engine(fresh_url)
        async with engine.connect() as conn:
            assert ahead in await partitions.monthly_partitions(conn)
        await engine.dispose()
    else:
        assert "partitions created: none" in done.stdout
    assert "events: 0 rows deleted" in done.stdout  # retention ran
