"""`doit-slack worker`: the watcher in the foreground until it is told to stop."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import select

from bot.config import Settings, SettingsError
from bot.fakeslack import FakeSlack
from bot.notify.lease import Lease
from bot.notify.subscriptions import add_subscription, subscription_query
from bot.notify.watcher import LEASE_NAME
from bot.notify.worker import run_worker
from bot.store import Store, watcher_state
from bot.support.sandbox import Sandbox


def test_worker_runs_cycles_until_stopped_then_gives_the_lease_up(
    settings: Settings, store: Store, sandbox: Sandbox, slack: FakeSlack
) -> None:
    add_subscription(store, "C0SUPPORT", "U0DANA", subscription_query(""))
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(settings,), kwargs={"stop": stop})
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not _baseline_done(store) and time.monotonic() < deadline:
            time.sleep(0.02)
        holder = Lease(store, LEASE_NAME, "test", seconds=1).holder_now()
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert _baseline_done(store)
    assert holder is not None and holder.split(":")[1] == str(os.getpid())  # host:pid:random
    assert Lease(store, LEASE_NAME, "test", seconds=1).holder_now() is None
    assert slack.calls_to("chat.postMessage") == []


def test_worker_without_a_slack_token_stops_with_a_sentence(settings: Settings) -> None:
    unset = settings.model_copy(update={"slack_bot_token": None})
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN is not set"):
        run_worker(unset, stop=threading.Event())


def _baseline_done(store: Store) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(select(watcher_state.c.key)).first() is not None
