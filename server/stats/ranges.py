"""Time ranges of the read API: half-open [start, end) in microseconds since the epoch (UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, or_

from server.clock import DAY_US, from_datetime, now_us
from server.errors import InvalidInput

DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class Range:
    start: int  # inclusive
    end: int  # exclusive


def resolve_range(start: datetime | None = None, end: datetime | None = None, *,
                  now: int | None = None) -> Range:
    """The range asked for, or the last 30 days up to now when none is given.

    A naive datetime is UTC. `from` after `to` is refused; `from == to` is a valid empty range.
    """
    if start is None and end is None:
        end_us = now_us() if now is None else now
        return Range(end_us - DEFAULT_DAYS * DAY_US, end_us)
    if start is None or end is None:
        raise InvalidInput("a range needs both from and to", field="range")
    s, e = from_datetime(start), from_datetime(end)
    if s > e:
        raise InvalidInput("range.from must not be after range.to", field="range.from")
    return Range(s, e)


def in_ranges(column, ranges: list[tuple[int, int]]):
    """column in any of these half-open ranges (none: false)."""
    parts = [(column >= a) & (column < b) for a, b in ranges]
    if not parts:
        return false()
    return parts[0] if len(parts) == 1 else or_(*parts)
