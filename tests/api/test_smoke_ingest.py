async def test_pageview_is_stored(client, site, db):
    response = await client.post("/api/event", json={"site": site.domain,
                                                     "url": f"https://{site.domain}/a"})
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": True, "counted": True, "goal": None}
