"""The memory and Redis stores hold the same contract: atomic reserve against every slot, settle once, holds
of dead processes expire, a retried settlement never counts twice. Redis is a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from redis_server import RedisServer

from otel_llm_cost.budgets.memory import MemoryStore
from otel_llm_cost.budgets.redis_store import RedisStore
from otel_llm_cost.budgets.store import Slot, Store, StoreUnavailable, parse_key, slot_key, to_nanos

NOW = 1_800_000_000.0
A = Slot(slot_key("a", "W", [("user_id", "u:1/é")]), limit=1000, blocks=True, expires_at=NOW + 86400)
B = Slot(slot_key("b", "W", []), limit=500, blocks=True, expires_at=NOW + 86400)
WARN = Slot(slot_key("w", "W", []), limit=10, blocks=False, expires_at=NOW + 86400)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    redis_store = RedisStore(server.url)
    yield redis_store
    redis_store.close()


def test_reserve_fits_every_blocking_slot_or_none(store: Store) -> None:
    first = store.reserve([A, B], 400, "r1", NOW, 60)
    assert (first.refused, first.spent, first.reserved) == (-1, [0, 0], [400, 400])
    second = store.reserve([A, B], 200, "r2", NOW, 60)  # fits A (600 <= 1000), not B (600 > 500)
    assert second.refused == 1 and second.reserved == [400, 400]
    assert store.read([A.key, B.key], NOW) == [(0, 400), (0, 400)]  # nothing reserved on A either
    assert store.reserve([A, B], 100, "r3", NOW, 60).refused == -1  # exactly at B's limit: fits


def test_settle_releases_and_adds_the_actual_cost(store: Store) -> None:
    store.reserve([A, B], 400, "r1", NOW, 60)
    assert store.settle([A, B], "r1", 123, retry=False) == [123, 123]
    assert store.read([A.key, B.key], NOW) == [(123, 0), (123, 0)]
    # a retry of a settlement that was delivered (its answer lost) changes nothing
    assert store.settle([A, B], "r1", 123, retry=True) == [123, 123]
    # a settlement whose reservation expired (slow call) still adds its spend, once
    store.reserve([A], 50, "r2", NOW, 1)
    store.reserve([A], 0, "probe", NOW + 5, 60)  # a later check drops the expired hold
    assert store.read([A.key], NOW + 5) == [(123, 0)]
    assert store.settle([A], "r2", 40, retry=False) == [163]


def test_a_dead_process_hold_expires(store: Store) -> None:
    store.reserve([B], 500, "dead", NOW, 30)
    assert store.reserve([B], 1, "r", NOW + 29, 30).refused == 0
    assert store.read([B.key], NOW + 31) == [(0, 0)]
    assert store.reserve([B], 500, "r", NOW + 31, 30).refused == -1


def test_warn_slots_never_refuse_nor_reserve_but_count_spend(store: Store) -> None:
    result = store.reserve([WARN], 50, "r1", NOW, 60)
    assert (result.refused, result.reserved) == (-1, [0])
    assert store.settle([WARN], "r1", 50, retry=False) == [50]
    assert store.reserve([WARN, A], 50, "r2", NOW, 60).refused == -1


def test_concurrent_reservations_never_pass_the_limit(store: Store) -> None:
    slot = Slot(slot_key("race", "W", []), limit=1000, blocks=True, expires_at=NOW + 86400)

    def attempt(i: int) -> bool:
        return store.reserve([slot], 7, f"r{i}", NOW, 60).refused < 0

    with ThreadPoolExecutor(16) as pool:
        granted = sum(pool.map(attempt, range(400)))
    assert granted == 1000 // 7
    assert store.read([slot.key], NOW) == [(0, granted * 7)]


def test_keys_round_trip_any_scope_value() -> None:
    assert parse_key(A.key) == ("a", "W", {"user_id": "u:1/é"})
    assert parse_key("other:key") is None
    assert to_nanos(0.1) + to_nanos(0.2) == to_nanos(0.3)  # integers: no float drift


def test_redis_down_is_store_unavailable(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url)
    redis_server.stop()
    with pytest.raises(StoreUnavailable):
        store.reserve([A], 1, "r", NOW, 60)
    redis_server.start()  # same port: the client reconnects, the script is loaded again
    assert store.reserve([A], 1, "r", NOW, 60).refused == -1
    store.close()
