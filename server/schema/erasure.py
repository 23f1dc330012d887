"""What an erasure answers."""

from __future__ import annotations

import strawberry


@strawberry.type(description="What eraseVisitor removed. The rollups' exact counters were "
                             "decremented by it; hourly distinct-visitor sketches may keep an "
                             "anonymous trace (see docs/lifecycle.md).")
class VisitorErasure:
    events: int
    sessions: int
