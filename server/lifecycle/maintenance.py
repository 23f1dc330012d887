"""Upkeep run by every server at start, then once a day by the process that makes the day's
visitor salt (server/ingest/visitors.py), and by `goalpost maintain` (e.g. from cron):

1. events partitions for this month and the next ones (PostgreSQL; server/db/partitions.py);
2. the visitor-sketch parts that batches added merged into their hour's sketch (PostgreSQL;
   every server also does this every GOALPOST_SKETCH_MERGE_SECONDS: `merge_sketch_parts_every`);
   then the hourly visitor sketches of each ended day merged into a daily one (PostgreSQL;
   server/ingest/rollups.py), so a month's distinct visitors merge 30 sketches, not 720;
3. the dimension rollups of every passed hour built, and of every passed day merged
   (server/stats/dimension_rollups.py; every server also builds the last two days' every
   GOALPOST_DIMENSION_BUILD_SECONDS: `build_dimensions_every`), before retention may take the
   events they are built from;
4. the housekeeping of ingestion (server/ingest/housekeeping.py: idle visitor rows, old
   idempotency keys);
5. retention (server/lifecycle/retention.py), when GOALPOST_RETENTION_DAYS or
   GOALPOST_ROLLUP_RETENTION_DAYS is set.

Safe to run in several processes at once: partition changes and rollup rebuilds take one
advisory lock, a site's dimension rollups another, deletes are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from server.clock import now_us
from server.db import partitions
from server.db.engine import Database
from server.ingest import rollups
from server.ingest.housekeeping import forget_old_rows
from server.lifecycle import retention
from server.stats import dimension_rollups

log = logging.getLogger("goalpost.maintenance")


@dataclass
class Report:
    partitions_created: list[str] = field(default_factory=list)
    sketch_parts_merged: int = 0
    days_compacted: int = 0
    dimensions: dimension_rollups.Maintained = field(default_factory=dimension_rollups.Maintained)
    pruned: retention.Pruned = field(default_factory=retention.Pruned)


class Maintenance:
    def __init__(self, db: Database, *, retention_days: int = 0, rollup_retention_days: int = 0,
                 dimensions: bool = True):
        """dimensions: build the dimension rollups in `run` (retention builds those of the hours
        it is about to take the events of whatever this says)."""
        self._db = db
        self._dimensions = dimensions
        self._retention_days = retention_days
        self._rollup_retention_days = rollup_retention_days
        self._tasks: set[asyncio.Task] = set()  # runs, which end
        self._loops: set[asyncio.Task] = set()  # until stop()

    async def run(self, now: int | None = None) -> Report:
        now = now_us() if now is None else now
        report = Report()
        if not self._db.is_sqlite:
            async with self._db.write.begin() as conn:
                report.partitions_created = await partitions.ensure(conn, now)
            report.sketch_parts_merged = await self.merge_sketch_parts()
            async with self._db.write.begin() as conn:
                report.days_compacted = await rollups.compact_days(conn, now)
        if self._dimensions:
            report.dimensions = await dimension_rollups.maintain(self._db, now)
        await forget_old_rows(self._db)
        report.pruned = await retention.apply(
            self._db, now_us=now, days=self._retention_days,
            rollup_days=self._rollup_retention_days)
        return report

    async def merge_sketch_parts(self, batch: int = 20_000) -> int:
        """Merge every visitor-sketch part there is now, `batch` parts per transaction."""
        total = 0
        while True:
            async with self._db.write.begin() as conn:
                merged = await rollups.merge_sketch_parts(conn, batch)
            total += merged
            if merged < batch:
                return total

    def merge_sketch_parts_every(self, seconds: float) -> None:
        """In the background until stop(): PostgreSQL's sketch parts merged every `seconds`,
        so that a read merges few of them (parts left by a stopped server are merged by any
        other, or at the next start)."""
        if not self._db.is_sqlite:
            self._every(seconds, self.merge_sketch_parts, "merging visitor-sketch parts")

    def build_dimensions_every(self, seconds: float) -> None:
        """In the background until stop(): the dimension rollups of the last two days' passed
        hours built, and their passed days merged, every `seconds`, so that a read finds them
        (older hours that moved are the daily run's, or the read's)."""
        async def build() -> None:
            await dimension_rollups.maintain(self._db, now_us(), days=2)
        self._every(seconds, build, "building dimension rollups")

    def _every(self, seconds: float, work, what: str) -> None:
        if seconds <= 0:
            return

        async def loop() -> None:
            while True:
                try:
                    await work()
                except Exception:  # the database may be away: the next round tries again
                    log.warning("%s failed", what, exc_info=True)
                await asyncio.sleep(seconds)

        self._loops.add(asyncio.create_task(loop(), name=f"goalpost-{what}"))

    def run_in_background(self) -> None:
        task = asyncio.create_task(self._run_logged(), name="goalpost-maintenance")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_logged(self) -> None:
        try:
            report = await self.run()
        except Exception:  # housekeeping: the next start or day tries again
            log.warning("maintenance failed", exc_info=True)
            return
        if report.partitions_created or report.pruned.partitions_dropped or report.pruned.rows:
            log.info("maintenance: partitions created %s, dropped %s, rows deleted %s",
                     report.partitions_created, report.pruned.partitions_dropped,
                     report.pruned.rows)

    async def finished(self) -> None:
        """Wait for the runs in the background to end."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._loops]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
