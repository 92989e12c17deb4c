"""Caches and renewals keyed on ``time.monotonic()`` work on a machine booted a minute ago.

``time.monotonic()`` counts from boot on Linux: a "last renewed" of 0.0 compared with a
twenty-minute lifetime mints nothing for the first twenty minutes of a machine's life.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.boot_clock import shifted

A_MINUTE_AFTER_BOOT = 60.0


@pytest.fixture
def fresh_boot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "monotonic", shifted(A_MINUTE_AFTER_BOOT))


def test_the_clock_reads_a_minute_after_boot(fresh_boot: None) -> None:
    assert A_MINUTE_AFTER_BOOT <= time.monotonic() < A_MINUTE_AFTER_BOOT + 5


def test_the_simulation_mints_officer_tokens_at_once(fresh_boot: None) -> None:
    from tools.simulate import Config, Simulation

    simulation = Simulation(Config())
    minted: list[Any] = []

    def token(principal: Any) -> dict[str, str]:
        minted.append(principal)
        return {"Authorization": f"Bearer t{len(minted)}"}

    simulation._token = token  # type: ignore[method-assign]
    headers = simulation._officer("SCJGJ")
    assert headers["Authorization"] == "Bearer t1"
    assert simulation._officer("SCJGJ")["Authorization"] == "Bearer t1"  # reused, not re-minted
    assert len(minted) == 1


def test_the_key_ring_loads_at_once(fresh_boot: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.api import authz

    ring = authz._KeyRing()
    loads: list[str] = []

    def load(alias: str) -> None:
        loads.append(alias)
        ring._keys, ring._current, ring._loaded_at = {"k": object()}, "k", time.monotonic()

    monkeypatch.setattr(ring, "_load", load)
    assert ring.current("alias/x") == "k"
    assert ring.keys("alias/x")
    assert loads == ["alias/x"]


def test_the_trust_cache_loads_at_once(fresh_boot: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import verification

    cache = verification._TrustCache()
    reads: list[str] = []
    monkeypatch.setattr(verification.storage, "list_keys",
                        lambda bucket, prefix: reads.append(prefix) or [])
    monkeypatch.setattr(verification.storage, "head", lambda bucket, key: None)
    sentinel = object()
    monkeypatch.setattr(verification.TrustStore, "from_objects",
                        staticmethod(lambda objects, rules: sentinel))
    assert cache.get("bucket", 60.0) is sentinel
    assert reads  # read from the bucket, not taken for fresh
    reads.clear()
    assert cache.get("bucket", 60.0) is sentinel
    assert not reads  # and cached afterwards
