"""timeseries(goalId:): one goal's events per bucket, the goals panel's sparklines."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.api.graphql.conftest import Events, create_goal

SERIES = """query($s: ID!, $g: ID) { timeseries(siteId: $s, interval: DAY, goalId: $g,
  range: {from: "2026-02-01T00:00:00Z", to: "2026-02-04T00:00:00Z"}) { visitors conversions } }"""


async def test_timeseries_of_one_goal(admin, site, events: Events):
    signup = await create_goal(admin, site.id, "Signup")
    await create_goal(admin, site.id, "Newsletter", countsAsConversion=False)
    day = lambda d, h=12: datetime(2026, 2, d, h, tzinfo=timezone.utc)  # noqa: E731
    await events.send(at=day(1), visitor="a", name="Signup")
    await events.send(at=day(1, 13), visitor="a", name="Signup")
    await events.send(at=day(1), visitor="b", name="Newsletter")
    await events.send(at=day(3), visitor="c", name="Signup")
    await events.send(at=day(3), visitor="d")

    def pairs(data):
        return [(b["visitors"], b["conversions"]) for b in data["timeseries"]]

    assert pairs(await admin(SERIES, s=str(site.id), g=signup["id"])) == [(1, 2), (0, 0), (1, 1)]
    assert pairs(await admin(SERIES, s=str(site.id))) == [(2, 2), (0, 0), (2, 1)]
