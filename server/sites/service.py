"""Sites: create, look up, list. Services own their transactions."""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.clock import now_us
from server.db.engine import Database
from server.db.models import sites
from server.errors import InvalidInput, NotFound
from server.ids import new_id

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True, slots=True)
class Site:
    id: uuid.UUID
    domain: str
    name: str | None
    timezone: str
    goals_version: int
    created_at: int


def _row(row) -> Site:
    return Site(row.id, row.domain, row.name, row.timezone, row.goals_version, row.created_at)


def canonical_domain(raw: str) -> str:
    """`https://WWW.Example.com/` and `example.com` name the same site: lower-case, no scheme,
    no path, no port; a leading www. is kept only if that is all there is."""
    domain = raw.strip().lower()
    domain = re.sub(r"^[a-z][a-z0-9+.-]*://", "", domain)
    domain = domain.split("/", 1)[0].split("?", 1)[0].rstrip(".")
    if domain.startswith("[") or domain.count(":") == 1:
        domain = domain.rsplit(":", 1)[0] if not domain.startswith("[") else domain
    if domain.startswith("www.") and "." in domain[4:]:
        domain = domain[4:]
    return domain


def validate_domain(raw: str) -> str:
    domain = canonical_domain(raw)
    labels = domain.split(".")
    if not domain or len(domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise InvalidInput(f"{raw!r} is not a domain name", field="domain")
    return domain


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(raw: str) -> str:
    # looked up in the list of zones, not opened as a file: "America" is a directory, and a
    # long name fails in the file system, neither of them a time zone
    if raw not in _time_zones():
        raise InvalidInput(f"unknown time zone {raw[:80]!r} (use an IANA name like "
                           "Europe/Berlin)", field="timezone")
    return raw


def validate_name(raw: str | None) -> str | None:
    """A display name: trimmed; blank is no name."""
    name = raw.strip() if raw is not None else None
    if name and len(name) > 200:
        raise InvalidInput("name is longer than 200 characters", field="name")
    return name or None


async def create(db: Database, *, domain: str, name: str | None = None,
                 timezone: str = "UTC") -> Site:
    domain = validate_domain(domain)
    timezone = validate_timezone(timezone or "UTC")
    name = validate_name(name)
    values = dict(id=new_id(), domain=domain, name=name, timezone=timezone, goals_version=0,
                  created_at=now_us())
    try:
        async with db.write.begin() as conn:
            await conn.execute(sites.insert().values(**values))
    except IntegrityError:
        raise InvalidInput(f"a site with domain {domain!r} exists already", field="domain") from None
    return Site(**values)


async def update(db: Database, *, site_id: uuid.UUID, name: str | None = None,
                 timezone: str | None = None, clear_name: bool = False) -> Site:
    """Renames a site or moves it to another time zone; what is not given stays.
    `clear_name` removes the name (an explicit null or blank)."""
    values: dict = {}
    if clear_name:
        values["name"] = None
    elif name is not None:
        values["name"] = validate_name(name)
    if timezone is not None:
        values["timezone"] = validate_timezone(timezone)
    async with db.write.begin() as conn:
        if values:
            result = await conn.execute(sites.update().where(sites.c.id == site_id)
                                        .values(**values).returning(*sites.c))
        else:
            result = await conn.execute(select(sites).where(sites.c.id == site_id))
        row = result.first()
    if row is None:
        raise NotFound("no such site", field="id")
    return _row(row)


async def get_by_domain(db: Database, *, domain: str) -> Site | None:
    async with db.read.connect() as conn:
        row = (await conn.execute(select(sites).where(sites.c.domain == domain))).first()
    return _row(row) if row else None


async def list_sites(db: Database, *, ids: list[uuid.UUID] | None = None) -> list[Site]:
    query = select(sites).order_by(sites.c.domain)
    if ids is not None:
        query = query.where(sites.c.id.in_(ids))
    async with db.read.connect() as conn:
        return [_row(r) for r in await conn.execute(query)]
