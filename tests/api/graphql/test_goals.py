"""Goal mutations: validation (nothing stored on refusal), gapless priorities, reorder, concurrency."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.graphql.conftest import CREATE_GOAL, create_goal

GOALS = "query($s: ID!) { goals(siteId: $s) { id name priority } }"
REORDER = ("mutation($s: ID!, $g: [ID!]!) { reorderGoals(siteId: $s, goalIds: $g) "
           "{ id name priority } }")


async def names(api, site) -> list[str]:
    goals = (await api(GOALS, s=str(site.id)))["goals"]
    assert [g["priority"] for g in goals] == list(range(1, len(goals) + 1))
    return [g["name"] for g in goals]


async def test_create_with_defaults_and_read_back(admin, site):
    goal = await create_goal(admin, site.id, "Purchase")
    assert goal == {
        "id": goal["id"], "name": "Purchase", "type": "CUSTOM_EVENT", "priority": 1,
        "matchLogic": "ALL", "countsAsConversion": True,
        "badge": {"color": "#4F46E5", "icon": None},
        "conditions": [{"field": "EVENT_NAME", "operator": "EQUALS", "value": "Purchase"}],
    }
    full = await admin("query($s: ID!) { site(id: $s) { goals { id site { id } } } }",
                       s=str(site.id))
    assert full["site"]["goals"] == [{"id": goal["id"], "site": {"id": str(site.id)}}]


async def test_create_every_type_with_options(admin, site):
    click = await create_goal(
        admin, site.id, "Amazon", "CLICK",
        [{"field": "DOMAIN", "operator": "ENDS_WITH", "value": "amazon.de"},
         {"field": "ASIN", "operator": "IS_NOT_EMPTY"}],
        matchLogic="ANY", countsAsConversion=False, badge={"color": "#abc", "icon": "cart"})
    assert click["matchLogic"] == "ANY" and click["countsAsConversion"] is False
    assert click["badge"] == {"color": "#ABC", "icon": "cart"}
    assert click["conditions"][1] == {"field": "ASIN", "operator": "IS_NOT_EMPTY", "value": None}
    await create_goal(admin, site.id, "Pricing", "PAGEVIEW",
                      [{"field": "PATH", "operator": "STARTS_WITH", "value": "/pricing"}])
    await create_goal(admin, site.id, "Contact", "FORM",
                      [{"field": "PLUGIN", "operator": "EQUALS", "value": "cf7"}])
    first = await create_goal(admin, site.id, "First", priority=1)
    assert first["priority"] == 1
    beyond = await create_goal(admin, site.id, "Beyond", priority=99)
    assert beyond["priority"] == 5
    assert await names(admin, site) == ["First", "Amazon", "Pricing", "Contact", "Beyond"]


BAD_INPUTS = [
    ("empty name", {"name": "  "}),
    ("long name", {"name": "x" * 101}),
    ("no conditions", {"conditions": []}),
    ("field of another type", {"conditions": [{"field": "PATH", "operator": "EQUALS",
                                               "value": "/"}]}),
    ("missing value", {"conditions": [{"field": "EVENT_NAME", "operator": "CONTAINS"}]}),
    ("empty value", {"conditions": [{"field": "EVENT_NAME", "operator": "EQUALS", "value": ""}]}),
    ("value on IS_EMPTY", {"conditions": [{"field": "EVENT_NAME", "operator": "IS_EMPTY",
                                           "value": "x"}]}),
    ("badge colour", {"badge": {"color": "blue"}}),
    ("badge colour 5 digits", {"badge": {"color": "#12345"}}),
    ("priority 0", {"priority": 0}),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
async def test_create_refuses_bad_input_and_stores_nothing(admin, site, case):
    _, override = case
    base = {"siteId": str(site.id), "name": "Goal", "type": "CUSTOM_EVENT",
            "conditions": [{"field": "EVENT_NAME", "operator": "EQUALS", "value": "x"}]}
    errors = await admin.errors(CREATE_GOAL, input={**base, **override})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await admin(GOALS, s=str(site.id)))["goals"] == []


async def test_bad_enum_is_bad_user_input(admin, site):
    errors = await admin.errors(CREATE_GOAL, input={
        "siteId": str(site.id), "name": "G", "type": "NOPE",
        "conditions": [{"field": "EVENT_NAME", "operator": "EQUALS", "value": "x"}]})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_names_are_unique_per_site_case_insensitively(admin, site, other_site):
    await create_goal(admin, site.id, "Signup")
    errors = await admin.errors(CREATE_GOAL, input={
        "siteId": str(site.id), "name": "SIGNUP", "type": "CUSTOM_EVENT",
        "conditions": [{"field": "EVENT_NAME", "operator": "EQUALS", "value": "x"}]})
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "name"}
    await create_goal(admin, other_site.id, "signup")  # another site may
    assert await names(admin, site) == ["Signup"]


async def test_update_goal(admin, site):
    goal = await create_goal(admin, site.id, "A")
    other = await create_goal(admin, site.id, "B")
    update = ("mutation($id: ID!, $input: UpdateGoalInput!) { updateGoal(id: $id, input: $input)"
              " { name matchLogic countsAsConversion priority badge { color icon } "
              "conditions { field operator value } } }")
    got = (await admin(update, id=goal["id"], input={
        "name": "A2", "matchLogic": "ANY", "countsAsConversion": False,
        "badge": {"color": "#00ff00", "icon": "star"},
        "conditions": [{"field": "PROPERTY_KEY", "operator": "EQUALS", "value": "plan"}]}))
    assert got["updateGoal"] == {
        "name": "A2", "matchLogic": "ANY", "countsAsConversion": False, "priority": 1,
        "badge": {"color": "#00FF00", "icon": "star"},
        "conditions": [{"field": "PROPERTY_KEY", "operator": "EQUALS", "value": "plan"}]}
    # only what is given changes
    got = await admin(update, id=goal["id"], input={"countsAsConversion": True})
    assert got["updateGoal"]["name"] == "A2" and got["updateGoal"]["matchLogic"] == "ANY"
    for bad in ({"name": "b"}, {"name": ""}, {"conditions": []},
                {"conditions": [{"field": "URL", "operator": "EQUALS", "value": "x"}]},
                {"badge": {"color": "#ggg"}}):
        errors = await admin.errors(update, id=goal["id"], input=bad)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", bad
    got = await admin(update, id=goal["id"], input={})
    assert got["updateGoal"]["name"] == "A2"
    # updates never move goals: read back from the server
    stored = await admin("query($s: ID!) { goals(siteId: $s) { id name priority } }",
                         s=str(site.id))
    assert stored["goals"] == [{"id": goal["id"], "name": "A2", "priority": 1},
                               {"id": other["id"], "name": "B", "priority": 2}]


async def test_delete_keeps_priorities_gapless(admin, site):
    ids = [(await create_goal(admin, site.id, f"G{i}"))["id"] for i in range(4)]
    deleted = await admin("mutation($id: ID!) { deleteGoal(id: $id) }", id=ids[1])
    assert deleted["deleteGoal"] == ids[1]
    assert await names(admin, site) == ["G0", "G2", "G3"]
    assert await admin.code("mutation($id: ID!) { deleteGoal(id: $id) }", id=ids[1]) == \
        "NOT_FOUND"
    await create_goal(admin, site.id, "Top", priority=1)
    assert await names(admin, site) == ["Top", "G0", "G2", "G3"]


async def test_reorder(admin, site, other_site):
    ids = [(await create_goal(admin, site.id, f"G{i}"))["id"] for i in range(3)]
    got = (await admin(REORDER, s=str(site.id), g=[ids[2], ids[0], ids[1]]))["reorderGoals"]
    assert [(g["name"], g["priority"]) for g in got] == [("G2", 1), ("G0", 2), ("G1", 3)]
    foreign = (await create_goal(admin, other_site.id, "F"))["id"]
    for bad in ([ids[0], ids[1]], [ids[0], ids[1], ids[2], ids[2]],
                [ids[0], ids[1], foreign], [ids[0], ids[1], ids[2], foreign], ["x", "y", "z"]):
        assert await admin.code(REORDER, s=str(site.id), g=bad) == "BAD_USER_INPUT", bad
    assert await names(admin, site) == ["G2", "G0", "G1"]


async def test_concurrent_creates_and_reorders_keep_priorities_gapless(admin, site):
    seed = [(await create_goal(admin, site.id, f"Seed{i}"))["id"] for i in range(3)]

    async def add(i):
        await create_goal(admin, site.id, f"C{i}", priority=(i % 4) + 1 if i % 2 else None)

    async def reorder():
        # the complete current order, reversed: refused (BAD_USER_INPUT) if a create slipped
        # in between reading and reordering, which is fine; never half-applied
        current = (await admin(GOALS, s=str(site.id)))["goals"]
        ids = [g["id"] for g in current][::-1]
        try:
            await admin(REORDER, s=str(site.id), g=ids)
        except Exception as error:  # noqa: BLE001
            assert "BAD_USER_INPUT" in str(error)

    tasks = [add(i) for i in range(20)] + [reorder() for _ in range(6)]
    await asyncio.gather(*tasks)
    goals = (await admin(GOALS, s=str(site.id)))["goals"]
    assert len(goals) == 23
    assert sorted(g["priority"] for g in goals) == list(range(1, 24))
    assert set(seed) <= {g["id"] for g in goals}
