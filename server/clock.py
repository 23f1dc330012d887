"""Time as integer microseconds since the epoch (UTC): what the database stores."""

from __future__ import annotations

import time
from datetime import datetime, timezone

US = 1_000_000  # microseconds per second
HOUR_US = 3600 * US
DAY_US = 24 * HOUR_US


def now_us() -> int:
    return time.time_ns() // 1000


def to_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / US, tz=timezone.utc).replace(microsecond=us % US)


def from_datetime(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds
