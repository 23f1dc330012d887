"""Authentication, permissions and isolation between sites (contract §4, server/schema/permissions.py)."""

from __future__ import annotations

import uuid

from tests.api.graphql.conftest import create_goal

SITES = "{ sites { id domain } }"


async def test_no_token_is_unauthenticated(as_token):
    assert await as_token(None).code(SITES) == "UNAUTHENTICATED"


async def test_wrong_token_is_unauthenticated(as_token):
    assert await as_token("nope").code(SITES) == "UNAUTHENTICATED"
    fake = f"gp_{uuid.uuid4().hex}_secret"
    assert await as_token(fake).code(SITES) == "UNAUTHENTICATED"


async def test_admin_sees_every_site_and_creates_sites(admin, site, other_site):
    domains = {s["domain"] for s in (await admin(SITES))["sites"]}
    assert {site.domain, other_site.domain} <= domains
    name = f"n{uuid.uuid4().hex[:12]}.example"
    created = (await admin('mutation($d: String!) { createSite(domain: $d, name: "N", '
                           'timezone: "Europe/Berlin") { id domain name timezone goals { id } } }',
                           d=f"https://www.{name}/x"))["createSite"]
    assert created["domain"] == name and created["timezone"] == "Europe/Berlin"
    assert created["goals"] == []
    assert await admin.code('mutation { createSite(domain: "bad domain") { id } }') == \
        "BAD_USER_INPUT"
    assert await admin.code('mutation($d: String!) { createSite(domain: $d, timezone: "Mars/Base")'
                            ' { id } }', d=f"z{name}") == "BAD_USER_INPUT"


async def test_site_key_sees_only_its_site(as_token, site, other_site, site_key):
    api = as_token(site_key)
    assert (await api(SITES))["sites"] == [{"id": str(site.id), "domain": site.domain}]
    got = await api("query($id: ID!) { site(id: $id) { id domain } }", id=str(site.id))
    assert got["site"]["domain"] == site.domain
    for query in ("query($id: ID!) { site(id: $id) { id } }",
                  "query($id: ID!) { goals(siteId: $id) { id } }",
                  "query($id: ID!) { kpis(siteId: $id) { visitors } }",
                  "query($id: ID!) { goalStats(siteId: $id) { conversions } }",
                  "query($id: ID!) { sessions(siteId: $id) { totalCount } }",
                  "query($id: ID!) { timeseries(siteId: $id) { visitors } }",
                  'query($id: ID!) { testEvent(siteId: $id, event: {type: "pageview"}) '
                  '{ goal { id } } }',
                  "mutation($id: ID!) { createApiKey(siteId: $id) { secret } }",
                  "mutation($id: ID!) { reorderGoals(siteId: $id, goalIds: []) { id } }"):
        assert await api.code(query, id=str(other_site.id)) == "FORBIDDEN", query
        # a site that does not exist answers the same: nothing is learnt about other ids
        assert await api.code(query, id=str(uuid.uuid4())) == "FORBIDDEN", query
    errors = await api.errors(
        'mutation($s: ID!) { createGoal(input: {siteId: $s, name: "x", type: PAGEVIEW, '
        'conditions: [{field: PATH, operator: EQUALS, value: "/"}]}) { id } }',
        s=str(other_site.id))
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert await api.code('mutation { createSite(domain: "k.example") { id } }') == "FORBIDDEN"


async def test_objects_of_another_site_are_not_found(admin, as_token, site, other_site, site_key):
    foreign_goal = await create_goal(admin, other_site.id, "Foreign")
    api = as_token(site_key)
    for query, id_ in (
            ('mutation($id: ID!) { updateGoal(id: $id, input: {name: "x"}) { id } }', foreign_goal["id"]),
            ("mutation($id: ID!) { deleteGoal(id: $id) }", foreign_goal["id"]),
            ("mutation($id: ID!) { deleteGoal(id: $id) }", str(uuid.uuid4()))):
        assert await api.code(query, id=id_) == "NOT_FOUND"
    # nothing happened to them
    goals = (await admin("query($s: ID!) { goals(siteId: $s) { id name } }", s=str(other_site.id)))
    assert goals["goals"] == [{"id": foreign_goal["id"], "name": "Foreign"}]
    # reorder with another site's goal: a foreign list
    assert await api.code("mutation($s: ID!, $g: [ID!]!) { reorderGoals(siteId: $s, goalIds: $g)"
                          " { id } }", s=str(site.id), g=[foreign_goal["id"]]) == "BAD_USER_INPUT"


KEYS = "query($s: ID!) { site(id: $s) { apiKeys { id revokedAt } } }"


async def test_site_key_manages_goals_but_not_keys(admin, as_token, site, other_site, site_key):
    """Contract §4: only the admin creates and revokes keys, so a leaked key can't mint a
    successor that outlives its revocation, nor revoke the owner's keys."""
    api = as_token(site_key)
    goal = await create_goal(api, site.id, "Signup")
    assert goal["priority"] == 1
    before = (await admin(KEYS, s=str(site.id)))["site"]["apiKeys"]
    assert await api.code('mutation($s: ID!) { createApiKey(siteId: $s, label: "ci") '
                          '{ secret } }', s=str(site.id)) == "FORBIDDEN"
    for key in before:
        assert await api.code("mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
                              id=key["id"]) == "FORBIDDEN"
    foreign = (await admin("mutation($s: ID!) { createApiKey(siteId: $s) { apiKey { id } } }",
                           s=str(other_site.id)))["createApiKey"]["apiKey"]["id"]
    assert await api.code("mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
                          id=foreign) == "FORBIDDEN"
    assert (await admin(KEYS, s=str(site.id)))["site"]["apiKeys"] == before
    assert (await api(SITES))["sites"][0]["id"] == str(site.id)


async def test_revoked_key_is_refused_at_once(admin, as_token, site, site_key):
    api = as_token(site_key)
    assert (await api(SITES))["sites"]
    listed = await admin("mutation($s: ID!) { createApiKey(siteId: $s) { secret apiKey { id } } }",
                         s=str(site.id))
    victim = as_token(listed["createApiKey"]["secret"])
    assert (await victim(SITES))["sites"]
    revoked = (await admin("mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }",
                           id=listed["createApiKey"]["apiKey"]["id"]))["revokeApiKey"]
    assert revoked["revokedAt"] is not None
    assert await victim.code(SITES) == "UNAUTHENTICATED"
    assert (await api(SITES))["sites"]  # the other key of the site still works


async def test_admin_with_unknown_or_malformed_ids(admin):
    missing = str(uuid.uuid4())
    assert (await admin("query($id: ID!) { site(id: $id) { id } }", id=missing))["site"] is None
    assert await admin.code("query($id: ID!) { kpis(siteId: $id) { visitors } }", id=missing) == \
        "NOT_FOUND"
    assert await admin.code("query($id: ID!) { goals(siteId: $id) { id } }", id=missing) == \
        "NOT_FOUND"
    assert await admin.code("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", id=missing) == \
        "NOT_FOUND"
    assert await admin.code("mutation($id: ID!) { createApiKey(siteId: $id) { secret } }",
                            id=missing) == "NOT_FOUND"
    for bad in ("nope", "123", ""):
        assert await admin.code("query($id: ID!) { kpis(siteId: $id) { visitors } }", id=bad) == \
            "BAD_USER_INPUT"
        assert await admin.code("mutation($id: ID!) { deleteGoal(id: $id) }", id=bad) == \
            "BAD_USER_INPUT"


async def test_site_api_keys_are_listed_without_secrets_to_the_admin_only(admin, as_token, site,
                                                                         other_site, site_key):
    made = await admin('mutation($s: ID!) { createApiKey(siteId: $s, label: "wp") '
                       '{ secret apiKey { id } } }', s=str(site.id))
    await admin("mutation($s: ID!) { createApiKey(siteId: $s) { secret } }", s=str(other_site.id))
    await admin("mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
                id=made["createApiKey"]["apiKey"]["id"])
    query = "query($s: ID!) { site(id: $s) { apiKeys { id label revokedAt site { id } } } }"
    keys = (await admin(query, s=str(site.id)))["site"]["apiKeys"]
    assert len(keys) == 2  # the fixture's key and "wp"; none of the other site's
    assert {k["site"]["id"] for k in keys} == {str(site.id)}
    wp = next(k for k in keys if k["label"] == "wp")
    assert wp["id"] == made["createApiKey"]["apiKey"]["id"] and wp["revokedAt"] is not None
    assert made["createApiKey"]["secret"] not in str(keys)
    # contract §4: a site key never sees keys, not even its own site's
    assert await as_token(site_key).code(query, s=str(site.id)) == "FORBIDDEN"
    assert await as_token(site_key).code(query, s=str(other_site.id)) == "FORBIDDEN"
