"""Counting the visitor ids hashed into sketch registers: building a sketch must hash each
visitor once, however many rows or dimensions it appears in."""

from __future__ import annotations

from server.db import hll


def count_hashes(monkeypatch) -> list[str]:
    """The list that every visitor id hashed from now on (hll.register_of) is appended to."""
    hashed: list[str] = []
    original = hll.register_of

    def counting(visitor_id):
        hashed.append(visitor_id)
        return original(visitor_id)

    monkeypatch.setattr(hll, "register_of", counting)
    return hashed
