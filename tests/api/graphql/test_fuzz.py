"""Fuzzing the variables of the main queries and mutations (hypothesis, bounded): whatever the
values - NUL, lone surrogates, huge strings, integers at and past the edges, bad dates, bad
IDs, JSON of any shape - the answer is never a 5xx and never INTERNAL_SERVER_ERROR."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ADMIN_TOKEN

NASTY = ["", "\x00", "a\x00", "\udfff", "\ud800x", "x" * 5000, "🙂", "\u202e", "' OR 1=1 --",
         "../../etc/passwd", "America", "%s%n", "\\", "null"]
texts = st.one_of(st.text(max_size=40), st.sampled_from(NASTY),
                  st.text(st.characters(codec=None, exclude_categories=()), max_size=10))
ints = st.one_of(st.integers(-5, 300), st.sampled_from(
    [-2**63, -2**31 - 1, -2**31, 2**31 - 1, 2**31, 2**63, 10**30]))
dates = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["yesterday", "2025-13-01T00:00:00Z", "2025-01-01T00:00:00+25:00",
                     "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2025-02-30"]),
    texts, ints)
scalars = st.one_of(st.none(), st.booleans(), texts, ints, st.floats(allow_nan=False))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)), max_leaves=12)
anything = st.one_of(scalars, st.lists(scalars, max_size=3))
enum = lambda *names: st.one_of(st.sampled_from(names), texts)  # noqa: E731

OPERATIONS = {
    "kpis": "query($s: ID!, $r: DateRange) { kpis(siteId: $s, range: $r) { visitors "
            "revenue { amount } } goalStats(siteId: $s, range: $r) { conversions } }",
    "timeseries": "query($s: ID!, $r: DateRange, $i: Interval) { timeseries(siteId: $s, "
                  "range: $r, interval: $i) { start visitors } }",
    "sessions": "query($s: ID!, $r: DateRange, $n: Int, $a: String, $f: SessionFilter) { "
                "sessions(siteId: $s, range: $r, first: $n, after: $a, filter: $f) { "
                "totalCount edges { cursor } } }",
    "createGoal": "mutation($input: CreateGoalInput!) { createGoal(input: $input) { id } }",
    "updateGoal": "mutation($id: ID!, $input: UpdateGoalInput!) { updateGoal(id: $id, "
                  "input: $input) { id } }",
    "createSite": "mutation($d: String!, $n: String, $t: String) { createSite(domain: $d, "
                  "name: $n, timezone: $t) { id } }",
    "createApiKey": "mutation($s: ID!, $l: String) { createApiKey(siteId: $s, label: $l) "
                    "{ secret } }",
    "testEvent": "query($s: ID!, $e: TestEventInput!) { testEvent(siteId: $s, event: $e) "
                 "{ goal { id } tried { matched } } }",
    "reorderGoals": "mutation($s: ID!, $g: [ID!]!) { reorderGoals(siteId: $s, goalIds: $g) "
                    "{ id } }",
    "byId": "mutation($id: ID!) { deleteGoal(id: $id) }",
}


def variables(site_ids):
    ids = st.one_of(site_ids, st.uuids().map(str), texts, ints)
    ranges = st.one_of(st.none(), st.fixed_dictionaries({"from": dates, "to": dates}), anything)
    condition = st.fixed_dictionaries({
        "field": enum("EVENT_NAME", "PATH", "URL", "PROPERTY_KEY"),
        "operator": enum("EQUALS", "CONTAINS", "IS_EMPTY"), "value": st.one_of(st.none(), texts)})
    goal_input = st.fixed_dictionaries(
        {"siteId": ids, "name": texts, "type": enum("CUSTOM_EVENT", "PAGEVIEW"),
         "conditions": st.lists(condition, max_size=3)},
        optional={"badge": st.fixed_dictionaries({"color": texts, "icon": texts}),
                  "priority": ints, "matchLogic": enum("ALL", "ANY")})
    return st.one_of(
        st.tuples(st.just("kpis"), st.fixed_dictionaries({"s": ids, "r": ranges})),
        st.tuples(st.just("timeseries"), st.fixed_dictionaries(
            {"s": ids, "r": ranges, "i": st.one_of(enum("DAY", "HOUR"), st.none())})),
        st.tuples(st.just("sessions"), st.fixed_dictionaries(
            {"s": ids, "r": ranges, "n": st.one_of(ints, st.none()),
             "a": st.one_of(texts, st.none()),
             "f": st.one_of(st.none(), st.fixed_dictionaries(
                 {"converted": st.one_of(st.booleans(), texts), "goalId": ids}))})),
        st.tuples(st.just("createGoal"), st.fixed_dictionaries({"input": goal_input})),
        st.tuples(st.just("updateGoal"), st.fixed_dictionaries(
            {"id": ids, "input": st.fixed_dictionaries({}, optional={
                "name": texts, "conditions": st.lists(condition, max_size=2)})})),
        st.tuples(st.just("createSite"), st.fixed_dictionaries(
            {"d": texts, "n": st.one_of(texts, st.none()), "t": st.one_of(texts, st.none())})),
        st.tuples(st.just("createApiKey"), st.fixed_dictionaries({"s": ids, "l": texts})),
        st.tuples(st.just("testEvent"), st.fixed_dictionaries({"s": ids, "e": st.fixed_dictionaries(
            {"type": enum("pageview", "custom", "click", "form")},
            optional={"url": texts, "name": texts, "props": json_values,
                      "click": json_values, "form": json_values})})),
        st.tuples(st.just("reorderGoals"), st.fixed_dictionaries(
            {"s": ids, "g": st.lists(ids, max_size=3)})),
        st.tuples(st.just("byId"), st.fixed_dictionaries({"id": ids})),
    )


SITE = object()  # stands for the test's own site, known only once the test runs


def with_site(value, site_id: str):
    if value is SITE:
        return site_id
    if isinstance(value, dict):
        return {k: with_site(v, site_id) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [with_site(v, site_id) for v in value]
    return value


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(case=variables(st.just(SITE)))
async def test_graphql_variables_never_answer_5xx_or_internal(app, site, case):
    name, values = case
    body = json.dumps({"query": OPERATIONS[name],
                       "variables": with_site(values, str(site.id))}).encode()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gp.test") as c:
        answer = await c.post("/graphql", content=body, headers={
            "authorization": f"Bearer {ADMIN_TOKEN}", "content-type": "application/json"})
    assert answer.status_code < 500, (name, values, answer.text[:500])
    codes = [e.get("extensions", {}).get("code") for e in answer.json().get("errors") or []]
    assert "INTERNAL_SERVER_ERROR" not in codes, (name, values, answer.text[:500])
