"""Erasure: a whole site, or one visitor of a site, removed from every table.

* `delete_site`: every row of every site-owned table (any table of server/db/models.py with a
  `site_id` column, so a table added later is covered without a change here), then the site.
* `erase_visitor`: by `anonymous_id` (the visitor id it became) or by `user_id` (every visitor
  id that sent an event with that user_id). Their events, their sessions, their session state
  (visitors rows) and the idempotency keys of their events are deleted, and the hourly rollups'
  exact counters (events, pageviews, conversions, revenue, sessions started) are decremented by
  what was deleted. The HyperLogLog visitor sketches are not: a register cannot be decremented,
  so an hour's distinct-visitor estimate may still count the erased visitor as one anonymous
  unit (a sketch holds 6-bit register values, no id or hash that leads back to a person). The
  dimension rollups of the hours and days they touched are built again from what is left,
  sketches included (server/stats/dimension_rollups.py).

Each runs in one transaction; the visitor's row lock (taken first) makes a concurrent batch of
the same visitor wait, so nothing of it is stored half-erased. Both are logged (who, what,
when, how many rows), never with the identifier that was erased.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, or_, select

from server.clock import hour_of, now_us, to_datetime
from server.db.engine import Database
from server.db.models import event_keys, events, metadata, sessions, sites, visitors
from server.errors import InvalidInput, NotFound
from server.ingest import rollups
from server.stats import dimension_rollups

log = logging.getLogger("goalpost.audit")


@dataclass(frozen=True, slots=True)
class VisitorErasure:
    events: int
    sessions: int


def site_owned_tables():
    """Every table with a site_id column, children before the tables they reference."""
    return [t for t in reversed(metadata.sorted_tables) if "site_id" in t.c]


async def delete_site(db: Database, *, site_id: uuid.UUID, by: str) -> dict[str, int]:
    removed: dict[str, int] = {}
    async with db.write.begin() as conn:
        # the site row first: ingestion's foreign keys wait on it, then find the site gone
        if (await conn.execute(select(sites.c.id).where(sites.c.id == site_id)
                               .with_for_update())).first() is None:
            raise NotFound("no such site", field="id")
        for table in site_owned_tables():
            removed[table.name] = (await conn.execute(
                delete(table).where(table.c.site_id == site_id))).rowcount
        await conn.execute(delete(sites).where(sites.c.id == site_id))
    log.info("%s deleted site %s at %s: %s", by, site_id, to_datetime(now_us()).isoformat(),
             ", ".join(f"{n} {t}" for t, n in removed.items() if n))
    return removed


async def erase_visitor(db: Database, *, site_id: uuid.UUID, by: str,
                        user_id: str | None = None, anonymous_id: str | None = None
                        ) -> VisitorErasure:
    if (user_id is None) == (anonymous_id is None):
        raise InvalidInput("give exactly one of userId and anonymousId",
                           field="userId" if user_id is not None else "anonymousId")
    for name, value in (("userId", user_id), ("anonymousId", anonymous_id)):
        if value is not None and not value:
            raise InvalidInput(f"{name} must not be empty", field=name)
    e = events.c
    async with db.write.begin() as conn:
        if anonymous_id is not None:
            visitor_ids = [anonymous_id]
        else:
            visitor_ids = sorted((await conn.execute(
                select(e.visitor_id).distinct().where(e.site_id == site_id,
                                                      e.user_id == user_id))).scalars())
        # the visitors' rows first, in key order as the writer takes them
        await conn.execute(select(visitors.c.visitor_id).where(
            visitors.c.site_id == site_id, visitors.c.visitor_id.in_(visitor_ids))
            .order_by(visitors.c.visitor_id).with_for_update())
        theirs = e.visitor_id.in_(visitor_ids)
        if user_id is not None:
            theirs = or_(theirs, e.user_id == user_id)
        erased = (await conn.execute(
            select(e.id, e.session_id, e.occurred_at, e.type, e.goal_id, e.is_conversion,
                   e.revenue_micros, e.revenue_currency)
            .where(e.site_id == site_id, theirs))).all()
        session_ids = {r.session_id for r in erased}
        s = sessions.c
        their_sessions = (await conn.execute(
            select(s.id, s.started_at).where(
                s.site_id == site_id,
                or_(s.visitor_id.in_(visitor_ids), s.id.in_(sorted(session_ids)))))).all()
        await rollups.subtract(
            conn,
            [(site_id, r.occurred_at, r.type, r.goal_id, r.is_conversion, r.revenue_micros,
              r.revenue_currency) for r in erased],
            [(site_id, r.started_at) for r in their_sessions])
        # their spans' dimension rows are built again without them (sketches too)
        await dimension_rollups.forget_spans(
            conn, site_id, [hour_of(r.occurred_at) for r in erased]
            + [hour_of(r.started_at) for r in their_sessions])
        await conn.execute(delete(events).where(e.site_id == site_id, theirs))
        await conn.execute(delete(sessions).where(
            s.site_id == site_id, s.id.in_(sorted(r.id for r in their_sessions))))
        await conn.execute(delete(visitors).where(
            visitors.c.site_id == site_id, visitors.c.visitor_id.in_(visitor_ids)))
        event_ids = sorted(r.id for r in erased)
        for start in range(0, len(event_ids), 1000):
            await conn.execute(delete(event_keys).where(
                event_keys.c.site_id == site_id,
                event_keys.c.event_id.in_(event_ids[start:start + 1000])))
    result = VisitorErasure(events=len(erased), sessions=len(their_sessions))
    log.info("%s erased a visitor of site %s by %s at %s: %d events, %d sessions", by, site_id,
             "userId" if user_id is not None else "anonymousId",
             to_datetime(now_us()).isoformat(), result.events, result.sessions)
    return result
