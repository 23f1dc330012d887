"""updateSite: rename a site and move it to another time zone (contract §7 site settings)."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.api.graphql.conftest import Events

UPDATE = """mutation($id: ID!, $name: String, $timezone: String) {
  updateSite(id: $id, name: $name, timezone: $timezone) { id name timezone } }"""
READ = "query($id: ID!) { site(id: $id) { name timezone } }"


async def test_update_site_name_and_timezone(admin, site):
    updated = (await admin(UPDATE, id=str(site.id), name="  Shop  ",
                           timezone="America/New_York"))["updateSite"]
    assert updated == {"id": str(site.id), "name": "Shop", "timezone": "America/New_York"}
    assert (await admin(READ, id=str(site.id)))["site"] == {"name": "Shop",
                                                            "timezone": "America/New_York"}
    # an omitted argument stays; a blank name is no name
    await admin("mutation($id: ID!) { updateSite(id: $id, name: \"\") { id } }", id=str(site.id))
    assert (await admin(READ, id=str(site.id)))["site"] == {"name": None,
                                                            "timezone": "America/New_York"}


async def test_update_site_rejects_an_unknown_time_zone_and_changes_nothing(admin, site):
    errors = await admin.errors(UPDATE, id=str(site.id), name="New", timezone="Mars/Olympus")
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["field"] == "timezone"
    assert (await admin(READ, id=str(site.id)))["site"] == {"name": None, "timezone": "UTC"}


async def test_update_site_by_its_key_only(as_token, admin, site, other_site, site_key):
    mine = as_token(site_key)
    assert (await mine(UPDATE, id=str(site.id), name="Mine"))["updateSite"]["name"] == "Mine"
    assert await mine.code(UPDATE, id=str(other_site.id), name="Theirs") == "FORBIDDEN"
    assert (await admin(READ, id=str(other_site.id)))["site"]["name"] is None


async def test_time_series_days_follow_the_new_time_zone(admin, site, events: Events):
    # 23:30 UTC is the next day in Berlin: the bucket moves with the time zone
    at = datetime(2026, 1, 10, 23, 30, tzinfo=timezone.utc)
    await events.send(at=at)
    series = """query($s: ID!) { timeseries(siteId: $s, interval: DAY,
      range: {from: "2026-01-09T00:00:00Z", to: "2026-01-13T00:00:00Z"}) { start visitors } }"""
    def day_of(rows):
        return [r["start"][:10] for r in rows if r["visitors"]]
    assert day_of((await admin(series, s=str(site.id)))["timeseries"]) == ["2026-01-10"]
    await admin(UPDATE, id=str(site.id), timezone="Europe/Berlin")
    assert day_of((await admin(series, s=str(site.id)))["timeseries"]) == ["2026-01-11"]


async def test_viewer_says_who_the_token_is(admin, as_token, site, site_key):
    query = "{ viewer { admin siteId } }"
    assert (await admin(query))["viewer"] == {"admin": True, "siteId": None}
    assert (await as_token(site_key)(query))["viewer"] == {"admin": False, "siteId": str(site.id)}
    assert await as_token("nope").code(query) == "UNAUTHENTICATED"
