"""HyperLogLog sketches of visitor ids (p = 14: 16,384 registers, relative standard error
0.81 %), as the rollup tables store them: sparse, a sorted run of (register, value) pairs of 3
bytes; merged days may be dense instead, one byte a register (`encode_compact`). Written by ingestion (server/ingest/rollups.py), read by the stats (server/stats/).

Daily sketches (visitor_sketches_daily) stand for a day only while the hourly rows they were
merged from are unchanged: `HOURLY_SOURCES` is that test's one definition (their count and the
sum of their xmin, which every UPDATE or re-insert of a row moves; PostgreSQL)."""

from __future__ import annotations

import hashlib
import math
import struct
from collections import defaultdict
from typing import Hashable, Iterable, Iterator

import numpy as np

P = 14
M = 1 << P
_LOW_BITS = 64 - P
_LOW_MASK = (1 << _LOW_BITS) - 1
_PAIR = np.dtype([("i", "<u2"), ("v", "u1")])

HOURLY_SOURCES = """
  SELECT site_id, hour - hour % :day AS day, goal_id, count(*) AS n,
         sum(xmin::text::bigint) AS fp
  FROM visitor_sketches"""


def register_of(visitor_id: str) -> tuple[int, int]:
    h = int.from_bytes(hashlib.blake2b(visitor_id.encode(), digest_size=8).digest(), "big")
    w = h & _LOW_MASK
    return h >> _LOW_BITS, _LOW_BITS - w.bit_length() + 1


# visitor id -> (register, value): the same visitors come back batch after batch and read
# after read (a dashboard's current hour); hashing is most of the cost of a small sketch
_REGISTERS: dict[str, tuple[int, int]] = {}
_REMEMBERED = 100_000


def registers(visitor_ids: Iterable[str]) -> dict[int, int]:
    regs: dict[int, int] = {}
    known = _REGISTERS
    for v in visitor_ids:
        pair = known.get(v)
        if pair is None:
            if len(known) >= _REMEMBERED:
                known.clear()
            pair = known[v] = register_of(v)
        i, r = pair
        if r > regs.get(i, 0):
            regs[i] = r
    return regs


_PACK_PAIR = struct.Struct("<HB").pack


def encode(regs: dict[int, int]) -> bytes:
    # packed pair by pair: half the time of building a numpy array, at a batch's few
    # registers and at thousands alike
    return b"".join([_PACK_PAIR(i, v) for i, v in sorted(regs.items())])


def decode(blob: bytes) -> dict[int, int]:
    arr = np.frombuffer(blob, dtype=_PAIR)
    return dict(zip(arr["i"].tolist(), arr["v"].tolist()))


def merged(blobs: Iterable[bytes], extra_visitors: Iterable[str] = ()) -> np.ndarray:
    """The registers of sketches, sparse or dense (`encode_compact`), and of more visitors."""
    regs = np.zeros(M, dtype=np.uint8)
    sparse: list[bytes] = []
    for blob in blobs:
        if len(blob) == M:  # dense; no sparse blob has this length (a multiple of 3)
            np.maximum(regs, np.frombuffer(blob, dtype=np.uint8), out=regs)
        else:
            sparse.append(blob)
    data = b"".join(sparse)
    if data:
        arr = np.frombuffer(data, dtype=_PAIR)
        np.maximum.at(regs, arr["i"], arr["v"])
    for i, r in registers(extra_visitors).items():
        if r > regs[i]:
            regs[i] = r
    return regs


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        before = z
        z += x * y
        y += y
        if z == before:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y, z = 1.0, 1.0 - x
    while True:
        x = math.sqrt(x)
        before = z
        y *= 0.5
        z -= (1.0 - x) ** 2 * y
        if z == before:
            return z / 3.0


def estimate(regs: np.ndarray) -> int:
    """Distinct visitors from registers, by Ertl's improved estimator ("New cardinality
    estimation algorithms for HyperLogLog sketches", 2017): from the histogram of register
    values, without the switch from linear counting to the raw estimate that biases the classic
    one by about +2.6 % around 2.5 x 16,384 = 41,000 visitors."""
    q = _LOW_BITS  # register values run from 0 to q + 1
    counts = np.bincount(regs, minlength=q + 2).tolist()
    if counts[0] == M:
        return 0
    z = M * _tau(1.0 - counts[q + 1] / M)
    for k in range(q, 0, -1):
        z = 0.5 * (z + counts[k])
    z += M * _sigma(counts[0] / M)
    return round(M * M / (2.0 * math.log(2.0)) / z)


def merge_into(blob: bytes | None, visitors: set[str]) -> bytes | None:
    """The sketch with these visitors added, or None when it does not change. Vectorised: the
    sketch of a busy hour holds thousands of registers and is merged on every batch."""
    new = registers(visitors)
    if not new:
        return None
    idx = np.fromiter(new.keys(), dtype=np.int64, count=len(new))
    val = np.fromiter(new.values(), dtype=np.uint8, count=len(new))
    order = np.argsort(idx)
    idx, val = idx[order], val[order]
    # plain arrays: the packed 3-byte records are slow to copy and insert into
    stored = np.frombuffer(blob or b"", dtype=_PAIR)
    at, regs = stored["i"].astype(np.int64), stored["v"].astype(np.uint8)
    pos = np.searchsorted(at, idx)
    found = pos < len(at)
    found[found] = at[pos[found]] == idx[found]
    current = np.zeros(len(idx), dtype=np.uint8)
    current[found] = regs[pos[found]]
    higher = val > current
    if not higher.any():
        return None
    raise_at = found & higher
    regs[pos[raise_at]] = val[raise_at]
    new_at = ~found
    if new_at.any():
        at = np.insert(at, pos[new_at], idx[new_at])
        regs = np.insert(regs, pos[new_at], val[new_at])
    out = np.empty(len(at), dtype=_PAIR)
    out["i"], out["v"] = at, regs
    return out.tobytes()


def encode_registers(regs: np.ndarray) -> bytes:
    """A dense register array as a sparse sketch blob."""
    at = np.nonzero(regs)[0]
    out = np.empty(len(at), dtype=_PAIR)
    out["i"], out["v"] = at, regs[at]
    return out.tobytes()


def encode_compact(regs: np.ndarray) -> bytes:
    """A register array as the smaller of its sparse blob and its dense one (M bytes, one a
    register): a merged day of a busy site sets most registers, and 16 KB read and merged as
    one array beat 48 KB of pairs. Only `merged` reads both kinds."""
    if np.count_nonzero(regs) * _PAIR.itemsize >= M:
        return regs.astype(np.uint8).tobytes()
    return encode_registers(regs)


class Sketches:
    """The sketches of many keys (hours, goals, dimension values) built at once from their
    visitor ids, as `encode(registers(ids))` of each key's ids: each visitor is hashed once
    however many keys it is added to (hashing is most of a rebuild's time at millions of
    events), and keys are encoded and dropped as soon as they are complete, so a rebuild
    streamed in hour order holds one hour's ids, not all of them."""

    # visitors remembered; the bound keeps a rebuild over years of a big site in memory
    REMEMBERED = 2_000_000

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}  # visitor id -> register << 8 | value
        self._open: dict[Hashable, list[int]] = defaultdict(list)

    def code(self, visitor_id: str) -> int:
        code = self._codes.get(visitor_id)
        if code is None:
            if len(self._codes) >= self.REMEMBERED:
                self._codes.clear()
            i, r = register_of(visitor_id)
            code = self._codes[visitor_id] = i << 8 | r
        return code

    def add(self, key: Hashable, code: int) -> None:
        """Add a visitor (its `code`) to a key's sketch."""
        self._open[key].append(code)

    def keys(self) -> list:
        return list(self._open)

    def take(self, keys: Iterable[Hashable]) -> Iterator[tuple[Hashable, bytes]]:
        """(key, sketch blob) of these keys, which are then forgotten."""
        for key in keys:
            # sorted, a register's highest value is its last code (most keys hold a few
            # visitors: no dense array of M registers for them)
            packed = np.unique(np.array(self._open.pop(key), dtype=np.int64))
            at = packed >> 8
            last = np.append(at[1:] != at[:-1], True)
            out = np.empty(int(last.sum()), dtype=_PAIR)
            out["i"], out["v"] = at[last], packed[last] & 0xFF
            yield key, out.tobytes()
