"""The database lease: one holder at a time, renewals, lapses and concurrent takers."""

from __future__ import annotations

import threading

import pytest

from bot.notify.lease import Lease, LeaseLost
from bot.store import Store


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_acquire_when_another_holds_it_is_refused_until_it_lapses(store: Store) -> None:
    clock = Clock()
    first = Lease(store, "watcher", "first", seconds=10, clock=clock)
    second = Lease(store, "watcher", "second", seconds=10, clock=clock)
    assert first.acquire() is True
    assert second.acquire() is False
    clock.now += 9.9
    assert second.acquire() is False
    clock.now += 0.2
    assert second.acquire() is True
    assert first.acquire() is False
    assert (first.holder_now(), first.remaining(), second.remaining()) == ("second", 0.0, 10.0)


def test_renew_by_the_holder_extends_the_lease(store: Store) -> None:
    clock = Clock()
    lease = Lease(store, "watcher", "first", seconds=10, clock=clock)
    other = Lease(store, "watcher", "other", seconds=10, clock=clock)
    lease.acquire()
    clock.now += 8
    assert lease.renew() is True
    clock.now += 8
    assert other.acquire() is False
    assert lease.remaining() == 2.0


def test_release_lets_another_holder_take_it_at_once(store: Store) -> None:
    clock = Clock()
    first = Lease(store, "watcher", "first", seconds=10, clock=clock)
    second = Lease(store, "watcher", "second", seconds=10, clock=clock)
    first.acquire()
    first.release()
    assert second.acquire() is True
    assert first.holder_now() == "second"


def test_check_after_another_took_the_lease_raises(store: Store) -> None:
    clock = Clock()
    first = Lease(store, "watcher", "first", seconds=10, clock=clock)
    second = Lease(store, "watcher", "second", seconds=10, clock=clock)
    first.acquire()
    clock.now += 11
    second.acquire()
    with store.engine.begin() as conn, pytest.raises(LeaseLost):
        first.check(conn)
    with store.engine.begin() as conn:
        second.check(conn)


def test_acquire_by_eight_processes_at_once_grants_it_to_exactly_one(database_url: str) -> None:
    stores = [Store.connect(database_url) for _ in range(8)]
    try:
        # First nobody has the row, then it exists and has lapsed: both paths must pick one holder.
        winners = [_race(stores, "race", Clock(1000.0)), _race(stores, "race", Clock(1100.0))]
        winners.append(_race(stores, "race", Clock(1200.0)))
    finally:
        for store in stores:
            store.close()
    assert [len(won) for won in winners] == [1, 1, 1]


def _race(stores: list[Store], name: str, clock: Clock) -> list[str]:
    """Every store's own engine tries to take lease ``name`` at the same moment; returns who won."""
    barrier = threading.Barrier(len(stores))
    won: list[str] = []

    def take(store: Store, holder: str) -> None:
        lease = Lease(store, name, holder, seconds=30, clock=clock)
        barrier.wait()
        if lease.acquire():
            won.append(holder)

    threads = [
        threading.Thread(target=take, args=(store, f"holder-{index}")) for index, store in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return won


def test_lease_with_no_duration_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        Lease(store, "watcher", "first", seconds=0)
