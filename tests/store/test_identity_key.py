"""The identity hash, written column-wise, is the 64-bit hash as 16 hex digits; the
one-record identity key equals the frame-based one (the same hash)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from ecif.ingest_prepare import IDENTITY_FIELDS, identity_key_of, identity_keys


def test_identity_keys_are_the_hash_in_hex() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({c: [None if rng.random() < 0.3 else f"v{rng.integers(0, 50)}"
                              for _ in range(5_000)] for c in IDENTITY_FIELDS})
    hashed = pd.util.hash_pandas_object(frame[list(IDENTITY_FIELDS)].fillna(""), index=False)
    want = [f"{h:016x}" for h in hashed.tolist()]
    got = identity_keys(frame).tolist()
    assert got == want
    assert any(k.startswith("0") for k in got)  # leading zeros kept
    assert identity_keys(frame.iloc[:0]).tolist() == []


def test_identity_key_of_equals_identity_keys() -> None:
    rng = random.Random(3)
    values = ["", "张伟", "M", "1985-03-07", "RESIDENT_ID", "11010519850307001X", "é",
              "中信银行股份有限公司", "91110000101690725E", "北京分行", "a" * 60]
    rows = [{f: rng.choice([None, *values]) for f in IDENTITY_FIELDS} for _ in range(500)]
    frame = pd.DataFrame(rows, columns=list(IDENTITY_FIELDS))
    expected = identity_keys(frame).tolist()
    assert [identity_key_of(r) for r in rows] == expected
    assert len(set(expected)) > 400
