"""Ingestion as a pipeline of small named steps (after Plausible's ingestion/event.ex).

Each step takes the event and returns it; a step that sets `event.dropped` ends the run and the
event is answered 202 without being stored; an ApiError ends it with that error. Storage is the
last step. Before it, only `put_visitor` may write: the first event of a UTC day creates that
day's salt (shared by every process) and starts the daily housekeeping (visitors.py); nothing of
the event itself is written.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from typing import Awaitable, Callable

from server.auth.bearer import MalformedAuthorization, bearer_token
from server.auth.keys import AdminTokens, authenticate_key
from server.clock import DAY_US, HOUR_US, now_us
from server.db.engine import Database
from server.errors import InvalidInput, NotFound, RateLimited, Unauthorized
from server.goals.matching import render_prop_value
from server.goals.model import EventFacts
from server.ingest.bots import MAX_USER_AGENT, is_bot
from server.ingest.event import Event
from server.ingest.forms import form_facts
from server.ingest.goal_cache import GoalCache
from server.ingest.facts import MAX_HOST, click_facts, path_of
from server.ingest.parse import (
    may_hold_unstorable_text, parse_json, parse_timestamp, put_fields, refuse_unstorable_text,
)
from server.ingest.ratelimit import RateLimiter
from server.ingest.visitors import SaltStore, visitor_hash
from server.ingest.writer import Stored, Writer
from server.sites.service import get_by_domain, canonical_domain


CARRY_OVER_US = 6 * HOUR_US


class SiteLookup:
    """domain -> site id. Found ids are kept for a minute (by canonical domain: the spellings a
    sender may vary are not each kept), so a deleted site, or a domain deleted and registered
    again, is seen by every process within it; unknown domains are asked again every time, so a
    site created by another process is found at once."""

    KEEP_SECONDS = 60.0

    def __init__(self, db: Database):
        self._db = db
        self._ids: dict[str, tuple[uuid.UUID, float]] = {}

    async def find(self, domain: str) -> uuid.UUID | None:
        """domain: canonical."""
        if len(domain) > MAX_HOST:
            return None  # no site has such a domain
        found = self._ids.get(domain)
        now = time.monotonic()
        if found is not None and found[1] > now:
            return found[0]
        site = await get_by_domain(self._db, domain=domain)
        if site is None:
            self._ids.pop(domain, None)
            return None
        self._ids[domain] = (site.id, now + self.KEEP_SECONDS)
        return site.id


@dataclass
class Context:
    db: Database
    sites: SiteLookup
    admin: AdminTokens
    salts: SaltStore
    goals: GoalCache
    writer: Writer
    limiter: RateLimiter
    max_props_bytes: int


Step = Callable[[Context, Event], Awaitable[Event] | Event]


# --- the steps, in order -------------------------------------------------------------------

def limit_rate(ctx: Context, event: Event) -> Event:
    # a request with a key is limited only if the key turns out wrong (see authenticate)
    if ctx.limiter.enabled and event.request.authorization is None:
        _check_rate(ctx, event)
    return event


def parse(ctx: Context, event: Event) -> Event:
    event.raw = parse_json(event.body)
    if may_hold_unstorable_text(event.body):
        refuse_unstorable_text(event.raw)
    event.body = b""
    return event


def validate(ctx: Context, event: Event) -> Event:
    return put_fields(event, event.raw, max_props_bytes=ctx.max_props_bytes, text_checked=True)


async def put_site(ctx: Context, event: Event) -> Event:
    domain = event.raw.get("site")
    if not isinstance(domain, str) or not domain.strip():
        raise InvalidInput("site must be the site's domain", field="site")
    event.site_domain = _canonical_domain(domain)
    event.site_id = await ctx.sites.find(event.site_domain)
    if event.site_id is None:
        raise NotFound(f"unknown site {domain!r}", field="site", code="unknown_site")
    return event


async def authenticate(ctx: Context, event: Event) -> Event:
    try:
        token = bearer_token(event.request.authorization)
    except MalformedAuthorization:
        _reject_key(ctx, event, "Authorization must be 'Bearer <site API key>'")
    if token is None:
        return event
    if await ctx.admin.is_admin(token):
        event.trusted = True
        return event
    key = await authenticate_key(ctx.db, token)
    if key is None or key.site_id != event.site_id:
        _reject_key(ctx, event, "the API key is wrong, revoked or for another site")
    event.trusted = True
    return event


def put_client(ctx: Context, event: Event) -> Event:
    raw = event.raw
    event.ip = event.request.client_ip
    event.user_agent = event.request.user_agent
    event.occurred_at = now_us()
    server_only = [k for k in ("ip", "user_agent", "timestamp") if raw.get(k) is not None]
    if server_only and not event.trusted:
        raise InvalidInput(f"{server_only[0]} may only be set with a site API key",
                           field=server_only[0])
    if raw.get("ip") is not None:
        if not isinstance(raw["ip"], str) or len(raw["ip"]) > 64:
            raise InvalidInput("ip must be an IP address string", field="ip")
        event.ip = raw["ip"]
    if raw.get("user_agent") is not None:
        if not isinstance(raw["user_agent"], str) or len(raw["user_agent"]) > MAX_USER_AGENT:
            raise InvalidInput(f"user_agent must be a string of at most {MAX_USER_AGENT} "
                               "characters", field="user_agent")
        event.user_agent = raw["user_agent"]
    if raw.get("timestamp") is not None:
        event.occurred_at = parse_timestamp(raw["timestamp"])
    return event


def drop_bot(ctx: Context, event: Event) -> Event:
    # server-side events with a valid key are trusted: the sender filtered them already
    if not event.trusted and is_bot(event.user_agent):
        event.dropped = "bot"
    return event


def put_facts(ctx: Context, event: Event) -> Event:
    """What goals match: the page path, the click's and the form's facts, props as text."""
    event.path = path_of(event.url)
    raw = event.raw
    if event.type == "click":
        click = raw["click"]
        event.click_url, event.click_domain, event.click_text, event.asin = click_facts(
            click.get("url"), click.get("text"))
    elif event.type == "form":
        form = form_facts(raw["form"], event.path)
        event.form_name, event.form_id = form.form_name, form.form_id
        event.form_plugin, event.form_page_url = form.plugin, form.page_url
    props = {k: render_prop_value(v) for k, v in event.props.items()} if event.props else {}
    event.facts = EventFacts(
        type=event.type, path=event.path, click_url=event.click_url,
        click_domain=event.click_domain, click_text=event.click_text, asin=event.asin,
        form_name=event.form_name, form_id=event.form_id, plugin=event.form_plugin,
        page_url=event.form_page_url, name=event.name, props=props,
    )
    return event


async def put_visitor(ctx: Context, event: Event) -> Event:
    if event.anonymous_id is not None:
        event.visitor_id = event.anonymous_id
    else:
        day, into_day = divmod(event.occurred_at, DAY_US)
        salt = await ctx.salts.salt_for(day)
        event.visitor_id = visitor_hash(salt, event.site_id, event.ip, event.user_agent)
        if into_day <= CARRY_OVER_US:
            # a session that began yesterday may still be going: the writer continues it
            # under yesterday's hash (sessions running more than six hours past midnight
            # without a 30-minute pause are split there)
            before = await ctx.salts.salt_for(day - 1)
            event.previous_visitor_id = visitor_hash(before, event.site_id, event.ip,
                                                     event.user_agent)
    return event


async def match_goal(ctx: Context, event: Event) -> Event:
    event.goals_version, matcher = await ctx.goals.current(event.site_id)
    event.goal = matcher.first_match(event.facts)
    return event


STEPS: tuple[Step, ...] = (
    limit_rate, parse, validate, put_site, authenticate, put_client, drop_bot, put_facts,
    put_visitor, match_goal,
)


async def ingest(ctx: Context, event: Event) -> Stored:
    for step in STEPS:
        result = step(ctx, event)
        if not isinstance(result, Event):
            result = await result
        if event.dropped:
            return Stored(None, counted=False)
    return await ctx.writer.submit(event)


# --- helpers ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _cached_canonical_domain(domain: str) -> str:
    return canonical_domain(domain)


def _canonical_domain(domain: str) -> str:
    # a site's few spellings come with every event; an unbounded one is not kept
    if len(domain) > 2 * MAX_HOST:
        return canonical_domain(domain)
    return _cached_canonical_domain(domain)


def _check_rate(ctx: Context, event: Event) -> None:
    wait = ctx.limiter.check(event.request.client_ip)
    if wait:
        raise RateLimited("too many events from this address", field=None,
                          retry_after=ctx.limiter.retry_after(wait))


def _reject_key(ctx: Context, event: Event, message: str) -> None:
    if ctx.limiter.enabled:
        _check_rate(ctx, event)
    raise Unauthorized(message, field="authorization")
