"""Fuzzing POST /api/event: whatever the body, never a 5xx, and an event of another site sent at
the same moment (a batch-mate in the group commit) is always stored."""

import asyncio
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.sites import service as sites
from tests.support.store import count_events

FIELDS = ["site", "type", "url", "referrer", "name", "props", "revenue", "click", "form",
          "anonymous_id", "user_id", "event_id", "timestamp", "ip", "user_agent"]

# any code point, lone surrogates and NUL included
texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=40) | st.sampled_from(
    ["\x00", "\udfff", "a\ud800b", "1_000", "٣", "１２", "1e999999", "1e-1000000000", "NaN",
     "pageview", "click", "form", "custom", "cf7", "html", "https://x.example/", ""])
# number literals as JSON text: huge and tiny exponents, long mantissas
numbers = st.builds(lambda m, e: Decimal(f"{m}e{e}"), st.integers(-10**30, 10**30),
                    st.integers(-10**12, 10**12)) | st.integers(-10**40, 10**40)
scalars = st.none() | st.booleans() | numbers | texts
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(texts | st.sampled_from(FIELDS), inner, max_size=4),
                      max_leaves=12)
urls = st.builds(lambda host, path: f"https://{host}/{path}", texts, texts) | texts


def _field(good):
    """Mostly a value of the right shape (whose text is fuzzed), now and then anything."""
    return st.one_of(*[good] * 7, values)


# bodies close enough to valid events that many reach storage, with fuzz in any field
bodies = st.fixed_dictionaries({}, optional={
    "type": _field(st.sampled_from(["pageview", "click", "form", "custom"])),
    "url": _field(urls),
    "referrer": _field(urls),
    "name": _field(texts.filter(lambda t: t and not t.startswith("__"))),
    "props": _field(st.dictionaries(texts, scalars, max_size=4)),
    "revenue": _field(st.fixed_dictionaries({
        "amount": numbers | texts, "currency": st.sampled_from(["USD", "eur", "XYZ"])})),
    "click": _field(st.fixed_dictionaries({"url": urls, "text": texts})),
    "form": _field(st.fixed_dictionaries(
        {"plugin": st.sampled_from(["cf7", "wpforms", "gravity", "html"])},
        optional={"id": texts | numbers, "formId": texts | numbers, "contactFormId": numbers,
                  "title": texts, "name": texts, "status": texts})),
    "anonymous_id": _field(texts),
    "user_id": _field(texts),
    "event_id": _field(texts),
    "extra": values,  # a key the server ignores
})


async def test_no_body_answers_5xx_or_harms_a_batch_mate(client, db, site):
    mate = await sites.create(db, domain=f"mate-{site.domain}")
    loop = asyncio.get_running_loop()
    sent = 0

    async def send_all(raws: list[bytes]):
        mates = [{"site": mate.domain, "url": f"https://m.example/{i}"} for i in range(3)]
        return await asyncio.gather(
            *[client.post("/api/event", content=raw) for raw in raws],
            *[client.post("/api/event", json=body) for body in mates])

    # Hypothesis drives a plain function: it runs in a thread and hands each round of
    # concurrent requests to this test's event loop, where the app and its writer live.
    @settings(max_examples=20, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(bodies, st.sampled_from([True] * 7 + [False])),
                    min_size=1, max_size=12))
    def check(examples):
        nonlocal sent
        raws = []
        for body, with_site in examples:
            if with_site:
                body["site"] = site.domain
            raws.append(_dumps(body))
        answers = asyncio.run_coroutine_threadsafe(send_all(raws), loop).result(60)
        for raw, answer in zip(raws, answers):
            assert answer.status_code < 500, (raw, answer.text)
            assert answer.headers["content-type"] == "application/json"
        for good in answers[len(raws):]:
            assert good.status_code == 202, good.text
            sent += 1

    await asyncio.to_thread(check)
    assert await count_events(db, mate.id) == sent


def _dumps(value) -> bytes:
    """JSON text of value, with Decimals as number literals and every other non-ASCII
    character (lone surrogates too) escaped."""
    import simplejson

    return simplejson.dumps(value, use_decimal=True, ensure_ascii=True).encode()
