"""What ingestion keeps, and for how long. The deletions run once a day, started by the process
that creates the new UTC day's salt (server/ingest/visitors.py), for every process at once."""

from __future__ import annotations

import logging

from sqlalchemy import delete

from server.clock import DAY_US, now_us
from server.db.engine import Database
from server.db.models import event_keys, visitors

log = logging.getLogger("goalpost.housekeeping")

# A day's salt is deleted this many days later; the session state of a visitor idle as long goes
# with it (its hash can't be recomputed any more).
KEEP_DAYS = 2
# An event_id is remembered this long after its event arrived: a sender that retries within it
# stores the event once; the same event_id after it is a new event.
EVENT_KEY_DAYS = 30


async def forget_old_rows(db: Database) -> None:
    now = now_us()
    try:
        async with db.write.begin() as conn:
            await conn.execute(delete(visitors).where(
                visitors.c.last_seen_at < now - KEEP_DAYS * DAY_US))
            await conn.execute(delete(event_keys).where(
                event_keys.c.created_at < now - EVENT_KEY_DAYS * DAY_US))
    except Exception:  # housekeeping: the next day tries again
        log.warning("daily housekeeping failed", exc_info=True)
