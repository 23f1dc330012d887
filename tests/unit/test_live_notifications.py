"""The NOTIFY payloads of the live feed (server/live/feed.py): within PostgreSQL's 8000-byte
limit whatever the batch, every id announced once, per site in time order."""

import uuid

from server.live.feed import decode_notification, notifications

PG_PAYLOAD_LIMIT = 8000


def test_a_large_batch_is_split_within_the_payload_limit_and_decodes_in_time_order():
    a, b = uuid.uuid4(), uuid.uuid4()
    ids_a = [uuid.uuid4() for _ in range(1000)]
    ids_b = [uuid.uuid4() for _ in range(3)]
    # stored out of time order, two sites interleaved
    announced = [(a, 5000 - i, x) for i, x in enumerate(reversed(ids_a))]
    announced += [(b, 10 + i, x) for i, x in enumerate(ids_b)]
    payloads = notifications(announced)
    assert all(len(p.encode()) < PG_PAYLOAD_LIMIT for p in payloads)
    heard: dict[uuid.UUID, list[uuid.UUID]] = {}
    for payload in payloads:
        site, ids = decode_notification(payload)
        heard.setdefault(site, []).extend(ids)
    assert heard == {a: ids_a, b: ids_b}


def test_nothing_stored_announces_nothing():
    assert notifications([]) == []
