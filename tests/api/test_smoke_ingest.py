from tests.support.store import stored_events, stored_sessions


async def test_pageview_is_stored(client, site, db):
    response = await client.post("/api/event", json={"site": site.domain,
                                                     "url": f"https://{site.domain}/a"})
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": True, "counted": True, "goal": None}
    # a 202 means stored: read it back
    [event] = await stored_events(db, site.id)
    assert (event["type"], event["url"], event["path"]) == ("pageview", f"https://{site.domain}/a",
                                                            "/a")
    [session] = await stored_sessions(db, site.id)
    assert event["session_id"] == session["id"] and session["pageviews"] == 1
