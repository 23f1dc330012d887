"""Test databases: one migrated SQLite file and one migrated PostgreSQL database per run.

PostgreSQL is found at GOALPOST_TEST_POSTGRES_URL (default: the local server, database `test`,
used only to create a fresh database for the run). With GOALPOST_TEST_POSTGRES=1 a missing
PostgreSQL fails the run instead of skipping its half.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg

from server.db.migrate import upgrade

ADMIN_URL = os.environ.get(
    "GOALPOST_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
POSTGRES_REQUIRED = os.environ.get("GOALPOST_TEST_POSTGRES", "") not in ("", "0", "false")


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def create_postgres_database() -> str:
    """A fresh, migrated database; returns its SQLAlchemy URL."""
    name = f"goalpost_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_plain(ADMIN_URL), timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_database(ADMIN_URL, name)
    await asyncio.to_thread(upgrade, url)
    return url


async def drop_postgres_database(url: str) -> None:
    name = url.rpartition("/")[2]
    conn = await asyncpg.connect(_plain(ADMIN_URL), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def postgres_available() -> bool:
    try:
        conn = await asyncpg.connect(_plain(ADMIN_URL), timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def create_sqlite_database(directory) -> str:
    url = f"sqlite+aiosqlite:///{directory}/goalpost-test.db"
    await asyncio.to_thread(upgrade, url)
    return url
