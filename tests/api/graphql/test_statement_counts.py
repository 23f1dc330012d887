"""Statement budgets: how many SQL statements a dashboard request, updateGoal and testEvent cost
(each top-level field reads its site once per request, through the loader)."""

from __future__ import annotations

from tests.api.graphql.conftest import create_goal
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
