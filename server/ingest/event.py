"""The event as it travels through the ingestion pipeline."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from server.goals.model import EventFacts, Goal


@dataclass(slots=True)
class RequestInfo:
    client_ip: str
    user_agent: str
    authorization: str | None = None


@dataclass(slots=True)
class Event:
    request: RequestInfo
    body: bytes = b""
    raw: dict[str, Any] = field(default_factory=dict)
    # who
    site_id: uuid.UUID | None = None
    site_domain: str | None = None  # canonical (sites.service.canonical_domain)
    trusted: bool = False  # sent with this site's API key
    ip: str = ""
    user_agent: str = ""
    anonymous_id: str | None = None
    user_id: str | None = None
    visitor_id: str | None = None
    previous_visitor_id: str | None = None  # under yesterday's salt, early in a UTC day
    # what
    type: str = "pageview"
    name: str | None = None
    url: str | None = None
    path: str | None = None
    referrer: str | None = None
    event_key: str | None = None
    occurred_at: int = 0
    props: dict[str, Any] | None = None
    props_json: str | None = None
    revenue_micros: int | None = None
    revenue_currency: str | None = None
    click_url: str | None = None
    click_domain: str | None = None
    click_text: str | None = None
    asin: str | None = None
    form_name: str | None = None
    form_id: str | None = None
    form_plugin: str | None = None
    form_page_url: str | None = None
    # storage
    id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    # matching
    facts: EventFacts | None = None
    goal: Goal | None = None
    goals_version: int = -1
    # a reason not to store it (a bot, the ignore list, ...): the rest of the pipeline is skipped
    dropped: str | None = None
