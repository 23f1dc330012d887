"""Each process keeps the compiled goals of the sites it sees, tagged with the site's
goals_version. The writer re-checks the version inside its transaction, so a goal change made
by any process applies to every event stored after it commits."""

from __future__ import annotations

import uuid

from server.db.engine import Database
from server.goals.matching import GoalMatcher
from server.goals.store import goals_versions, load_goals


class GoalCache:
    def __init__(self, db: Database):
        self._db = db
        self._entries: dict[uuid.UUID, tuple[int, GoalMatcher]] = {}

    def get(self, site_id: uuid.UUID) -> tuple[int, GoalMatcher] | None:
        return self._entries.get(site_id)

    async def load(self, conn, site_id: uuid.UUID, version: int) -> GoalMatcher:
        matcher = GoalMatcher(await load_goals(conn, site_id))
        self._entries[site_id] = (version, matcher)
        return matcher

    async def current(self, site_id: uuid.UUID) -> tuple[int, GoalMatcher]:
        entry = self._entries.get(site_id)
        if entry is not None:
            return entry
        async with self._db.read.connect() as conn:
            version = (await goals_versions(conn, [site_id])).get(site_id, 0)
            matcher = await self.load(conn, site_id, version)
        return version, matcher
