"""Each process keeps the compiled goals of the sites it sees, tagged with the site's
goals_version. The writer reads the versions inside its transaction and re-matches any event
matched against an older version, so a goal change made by any process applies to every event
stored after it commits."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from server.db.engine import Database
from server.db.models import sites
from server.goals.matching import GoalMatcher
from server.goals.store import load_goals


class GoalCache:
    def __init__(self, db: Database):
        self._db = db
        self._entries: dict[uuid.UUID, tuple[int, GoalMatcher]] = {}

    async def _load(self, site_id: uuid.UUID) -> tuple[int, GoalMatcher]:
        # version and goals from one transaction: the version never claims newer goals than
        # were read (goal changes bump it first, in their own transaction)
        async with self._db.read.begin() as conn:
            version = (await conn.execute(
                select(sites.c.goals_version).where(sites.c.id == site_id))).scalar() or 0
            matcher = GoalMatcher(await load_goals(conn, site_id))
        entry = (version, matcher)
        current = self._entries.get(site_id)
        if current is None or current[0] <= version:
            self._entries[site_id] = entry
        return entry

    async def current(self, site_id: uuid.UUID) -> tuple[int, GoalMatcher]:
        entry = self._entries.get(site_id)
        return entry if entry is not None else await self._load(site_id)

    async def at_least(self, site_id: uuid.UUID, version: int) -> tuple[int, GoalMatcher]:
        """Goals no older than `version`."""
        entry = self._entries.get(site_id)
        if entry is not None and entry[0] >= version:
            return entry
        return await self._load(site_id)
