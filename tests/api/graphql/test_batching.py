"""No N+1: a sessions page with events, goals and sites costs the same statements for 5 or 100."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import event

from tests.api.graphql.conftest import Events, create_goal, hours_ago

PAGE = """
query($s: ID!, $first: Int) {
  sessions(siteId: $s, first: $first) {
    totalCount
    edges { node { id events { id goal { name site { domain goals { name } } } } } }
  }
}"""


class StatementCounter:
    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args, **kwargs):
        self.count += 1


async def test_sessions_page_runs_a_bounded_number_of_statements(app, admin, site, client):
    await create_goal(admin, site.id, "Buy")
    await create_goal(admin, site.id, "Other")
    sender = Events(client, site)
    base = hours_ago(30)
    await asyncio.gather(*[
        sender.send(at=base + timedelta(minutes=i), visitor=f"v{i}", name="Buy" if i % 3 else None)
        for i in range(110)])
    counts = {}
    for size in (5, 100):
        with StatementCounter(app.state.db.read.sync_engine) as counter:
            data = await admin(PAGE, s=str(site.id), first=size)
        assert len(data["sessions"]["edges"]) == size
        counts[size] = counter.count
    assert counts[5] == counts[100], counts
    # site, page, count, events, goals (+conditions), sites, goals of sites (+conditions),
    # and on SQLite one BEGIN per connection
    assert counts[100] <= 16, counts
