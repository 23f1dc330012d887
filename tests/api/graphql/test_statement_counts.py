"""Statement budgets: how many SQL statements a dashboard request, updateGoal and testEvent cost
(each top-level field reads its site once per request, through the loader)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.api.graphql.conftest import Events, create_goal, hours_ago
from tests.api.graphql.test_batching import StatementCounter

DASHBOARD = """
query($s: ID!) {
  site(id: $s) { domain }
  goals(siteId: $s) { name }
  kpis(siteId: $s) { visitors conversions }
  goalStats(siteId: $s) { goal { name } conversions }
  timeseries(siteId: $s) { visitors }
  sessions(siteId: $s, first: 10) { totalCount edges { node { id } } }
}"""

UPDATE = """
mutation($id: ID!) { updateGoal(id: $id, input: {name: "Renamed", badge: {color: "#112233"}})
  { name priority badge { color } } }"""

TEST_EVENT = """
query($s: ID!) { testEvent(siteId: $s, event: {type: "custom", name: "Buy"})
  { goal { name } tried { goal { name priority } matched } } }"""


class Counters:
    """Counts statements on the read and the write engine (once if they are the same)."""

    def __init__(self, db):
        engines = [db.read.sync_engine]
        if db.write is not db.read:
            engines.append(db.write.sync_engine)
        self.counters = [StatementCounter(e) for e in engines]

    def __enter__(self):
        for c in self.counters:
            c.__enter__()
        return self

    def __exit__(self, *exc):
        for c in self.counters:
            c.__exit__(*exc)

    @property
    def count(self) -> int:
        return sum(c.count for c in self.counters)


async def _counts(app, admin, site):
    buy = await create_goal(admin, site.id, "Buy")
    await create_goal(admin, site.id, "Other")
    counts = {}
    for name, query, variables in (("dashboard", DASHBOARD, {"s": str(site.id)}),
                                   ("updateGoal", UPDATE, {"id": buy["id"]}),
                                   ("testEvent", TEST_EVENT, {"s": str(site.id)})):
        with Counters(app.state.db) as counter:
            await admin(query, **variables)
        counts[name] = counter.count
    return counts


# Before the loaders were used everywhere (PostgreSQL / SQLite): dashboard 21 / 33,
# updateGoal 10 / 14, testEvent 5 / 8. SQLite adds a BEGIN per connection.
BUDGETS = {
    # dashboard: the site once; the goals (+conditions) once for goals and goalStats; then
    # each field's own statistics statements. updateGoal: the goal (+conditions) once for the
    # permission and the service, then in one transaction the site lock, the name check, the
    # UPDATE ... RETURNING. testEvent: the site, the goals (+conditions). sessions' totalCount
    # reads the rollup coverage first (whole hours are summed from rollup_hourly.sessions).
    "postgresql": {"dashboard": 15, "updateGoal": 5, "testEvent": 3},
    "sqlite": {"dashboard": 21, "updateGoal": 7, "testEvent": 5},
}


async def test_statement_counts(app, admin, site):
    counts = await _counts(app, admin, site)
    budget = BUDGETS[app.state.db.write.dialect.name]
    assert all(counts[k] <= budget[k] for k in budget), (counts, budget)


READS = """
query($s: ID!) {
  kpis(siteId: $s) { visitors conversions }
  goalStats(siteId: $s) { goal { name } conversions }
  breakdown(siteId: $s, by: PAGE) { value visitors }
  sessions(siteId: $s, first: 10) { totalCount edges { node { id } } }
}"""


async def test_analytics_reads_open_no_transaction(app, admin, site, client, backend):
    """On PostgreSQL the analytics reads run outside a transaction (under READ COMMITTED each
    statement has its own snapshot either way): no BEGIN and ROLLBACK round trips around them."""
    if backend != "postgres":
        pytest.skip("a SQLite reader's transaction holds its snapshot of the file: kept")
    await create_goal(admin, site.id, "Buy")
    sender = Events(client, site)
    for i in range(6):
        await sender.send(at=hours_ago(2) + timedelta(minutes=i), visitor=f"v{i % 3}")
    reads: list = []  # the analytics reads' connections
    sent: list[str] = []  # what asyncpg sent outside prepared statements: BEGIN, ROLLBACK

    def log(record):
        sent.append(record.query.strip().rstrip(";").upper())

    def connected(connection):
        driver = connection.connection.driver_connection
        reads.append(driver)
        driver.add_query_logger(log)

    def returned(dbapi_connection, _record):
        # what a pooled connection serves after the read (the primary's work) is not its own
        if dbapi_connection.driver_connection in reads:
            dbapi_connection.driver_connection.remove_query_logger(log)

    replica = app.state.db.replica.sync_engine
    event.listen(replica, "engine_connect", connected)
    event.listen(replica.pool, "checkin", returned)
    try:
        await admin(READS, s=str(site.id))
    finally:
        event.remove(replica, "engine_connect", connected)
        event.remove(replica.pool, "checkin", returned)
    assert len(reads) >= 4, reads  # kpis, goalStats, breakdown (two), sessions
    assert sent == [], sent
