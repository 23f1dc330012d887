"""Cookieless visitor ids: a hash of site, IP and user agent under a salt that changes every UTC
day. Salts live in the database so every process and every restart agrees on them; a day's salt
is deleted two days later, after which its hashes cannot be recomputed. The process that makes a
day's salt also runs the daily housekeeping (housekeeping.py)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid

from sqlalchemy import delete, select

from server.clock import DAY_US, now_us
from server.db.engine import Database
from server.db.models import salts
from server.db.upsert import insert_ignore
from server.ingest.housekeeping import KEEP_DAYS, forget_old_rows


class SaltStore:
    def __init__(self, db: Database):
        self._db = db
        self._cache: dict[int, bytes] = {}
        self._tasks: set[asyncio.Task] = set()

    async def salt_for(self, day: int) -> bytes:
        salt = self._cache.get(day)
        if salt is None:
            salt = await self._load_or_create(day)
            self._cache = {d: s for d, s in self._cache.items() if d >= day - KEEP_DAYS}
            self._cache[day] = salt
        return salt

    async def _load_or_create(self, day: int) -> bytes:
        async with self._db.write.begin() as conn:
            created = (await conn.execute(
                insert_ignore(conn, salts, [{"day": day, "salt": secrets.token_bytes(32)}])
                .returning(salts.c.day)
            )).first()
            salt = (await conn.execute(select(salts.c.salt).where(salts.c.day == day))).scalar_one()
            await conn.execute(delete(salts).where(salts.c.day < day - KEEP_DAYS))
        if created and day * DAY_US > now_us() - DAY_US:
            task = asyncio.create_task(forget_old_rows(self._db))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return salt


def visitor_hash(salt: bytes, site_id: uuid.UUID, ip: str, user_agent: str) -> str:
    digest = hashlib.blake2b(digest_size=16, key=salt)
    digest.update(site_id.bytes)
    digest.update(ip.encode())
    digest.update(b"\0")
    digest.update(user_agent.encode())
    return digest.hexdigest()
