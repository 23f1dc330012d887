"""Sessions and their events."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from server.clock import to_datetime
from server.money import to_decimal
from server.schema.common import Money, PageInfo
from server.schema.goals import Goal, load_goal
from server.stats.sessions import EventRow, SessionRow


@strawberry.type
class Event:
    id: strawberry.ID
    type: str
    name: str | None
    path: str | None
    occurred_at: dt.datetime
    row: strawberry.Private[EventRow]

    @classmethod
    def of(cls, row: EventRow) -> "Event":
        return cls(id=strawberry.ID(str(row.id)), type=row.type, name=row.name, path=row.path,
                   occurred_at=to_datetime(row.occurred_at), row=row)

    @strawberry.field(description="The goal the event matched when it arrived, if it still "
                                  "exists.")
    async def goal(self, info: strawberry.Info) -> Goal | None:
        return await load_goal(info, self.row.goal_id)

    @strawberry.field
    def revenue(self) -> Money | None:
        if self.row.revenue_micros is None:
            return None
        return Money(amount=to_decimal(self.row.revenue_micros),
                     currency=self.row.revenue_currency)

    @strawberry.field
    def props(self) -> JSON | None:
        return self.row.props


@strawberry.type
class Session:
    id: strawberry.ID
    visitor_id: str
    started_at: dt.datetime
    last_seen_at: dt.datetime
    entry_path: str | None
    referrer: str | None
    has_converted: bool
    source: str | None = strawberry.field(description=(
        "The referrer's name (e.g. Google, Hacker News), else its host; 'Direct / None' without "
        "a referrer or from the site itself. Attribution fields are fixed by the session's "
        "first event; null for sessions stored before Goalpost recorded them."))
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    browser: str | None
    os: str | None
    device: str | None = strawberry.field(description="desktop, mobile or tablet.")
    row: strawberry.Private[SessionRow]

    @classmethod
    def of(cls, row: SessionRow) -> "Session":
        return cls(id=strawberry.ID(str(row.id)), visitor_id=row.visitor_id,
                   started_at=to_datetime(row.started_at),
                   last_seen_at=to_datetime(row.last_seen_at), entry_path=row.entry_path,
                   referrer=row.referrer, has_converted=row.has_converted,
                   source=row.source, utm_source=row.utm_source, utm_medium=row.utm_medium,
                   utm_campaign=row.utm_campaign, utm_term=row.utm_term,
                   utm_content=row.utm_content, browser=row.browser, os=row.os,
                   device=row.device, row=row)

    @strawberry.field(description="The session's events in time order.")
    async def events(self, info: strawberry.Info) -> list[Event]:
        rows = await info.context.loaders.events_of_session.load((self.row.site_id, self.row.id))
        return [Event.of(r) for r in rows]


@strawberry.type
class SessionEdge:
    cursor: str
    node: Session


@strawberry.type
class SessionConnection:
    edges: list[SessionEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Sessions matching the range and filter, "
                                                    "on every page.")


@strawberry.input
class SessionFilter:
    converted: bool | None = strawberry.field(
        default=strawberry.UNSET, description="true: sessions with a conversion; false: without.")
    goal_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Sessions with an event that recorded this goal.")
