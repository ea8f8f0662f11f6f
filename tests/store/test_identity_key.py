"""The identity hash, written column-wise, is the 64-bit hash as 16 hex digits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecif.ingest_prepare import IDENTITY_FIELDS, identity_keys


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
