"""Exactly once across crashes, restarts, two watchers on one database and a killed lease holder."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.fakeslack import FakeSlack
from bot.notify import outbox
from bot.notify.cards import card_in
from bot.notify.sender import Sender
from bot.notify.subscriptions import add_subscription, subscription_query
from bot.notify.watcher import CycleReport, Watcher
from bot.services import Services
from bot.store import deliveries
from bot.support.sandbox import Sandbox
from tests.notify.helpers import (
    RecordingClient,
    delivery_keys,
    make_services,
    make_slack_client,
    make_watcher,
)

ROOT = Path(__file__).resolve().parents[2]
A_DAY_AGO_MS = int((time.time() - 86400) * 1000)


class _Crash(Exception):
    """Stands for the process dying at this point."""


def _crash(*_args: object, **_kwargs: object) -> None:
    raise _Crash


def _restarted(settings: Settings, lease_seconds: float) -> Watcher:
    """A new process: its own engine, DoiT and Slack clients, and holder name."""
    time.sleep(lease_seconds * 1.2)  # the dead holder's lease lapses
    return make_watcher(make_services(settings), make_slack_client(settings), holder="restarted")


@pytest.mark.parametrize(
    "crash_at",
    [
        "after_recording",  # deliveries committed, nothing sent
        "after_claiming",  # the attempt is noted, Slack never saw it
        "after_slack_accepted",  # Slack posted it, the mark never reached the database
    ],
)
def test_restart_after_a_crash_mid_cycle_delivers_each_notification_exactly_once(
    services: Services,
    settings: Settings,
    sandbox: Sandbox,
    slack: FakeSlack,
    client: RecordingClient,
    monkeypatch: pytest.MonkeyPatch,
    crash_at: str,
) -> None:
    lease_seconds = 0.3
    watcher = make_watcher(services, client, lease_seconds=lease_seconds)
    watcher.run_cycle()
    add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query(""))
    ticket = sandbox.add_ticket(subject="Crash test")
    target = {
        "after_recording": (Watcher, "_deliver_due"),
        "after_claiming": (Sender, "send"),
        "after_slack_accepted": (outbox, "finish"),
    }[crash_at]
    with monkeypatch.context() as patch:
        patch.setattr(*target, _crash)
        with pytest.raises(_Crash):
            watcher.run_cycle()

    report = _restarted(settings, lease_seconds).run_cycle()

    key = f"new:{ticket['id']}:C0SUPPORT"
    assert delivery_keys(slack.messages.values()) == [key]
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert (report.changes, report.deliveries_made, report.deliveries_pending) == (0, 1, 0)
    with services.store.engine.connect() as conn:
        outcome = conn.execute(select(deliveries.c.outcome).where(deliveries.c.event_key == key)).scalar_one()
    assert outcome == ("found" if crash_at == "after_slack_accepted" else "sent")
    card = card_in(services.store, ticket["id"], "C0SUPPORT")
    assert card is not None and slack.message("C0SUPPORT", card.message_ts)["metadata"]["event_payload"] == {
        "key": key
    }


def test_two_watchers_on_one_database_elect_one_leader_and_deliver_each_change_once(
    services: Services, settings: Settings, sandbox: Sandbox, slack: FakeSlack
) -> None:
    first = make_watcher(services, make_slack_client(settings), holder="first")
    second = make_watcher(make_services(settings), make_slack_client(settings), holder="second")
    add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query(""))
    expected: list[str] = []
    leaders: list[list[str]] = []
    for round_number in range(5):
        if round_number == 3:
            first.lease.release()  # a clean shutdown hands over at once
        if round_number:
            for n in range(3):
                added = sandbox.add_ticket(subject=f"Round {round_number} ticket {n}")
                expected.append(f"new:{added['id']}:C0SUPPORT")
        reports = _run_together([first, second])
        leaders.append([holder for holder, report in reports.items() if report.leader])

    assert [len(names) for names in leaders] == [1, 1, 1, 1, 1]
    keys = delivery_keys(slack.messages.values())
    assert sorted(keys) == sorted(expected)
    assert len(slack.calls_to("chat.postMessage")) == len(expected)


def _run_together(watchers: list[Watcher]) -> dict[str, CycleReport]:
    barrier = threading.Barrier(len(watchers))
    reports: dict[str, CycleReport] = {}

    def run(watcher: Watcher) -> None:
        barrier.wait()
        reports[watcher.lease.holder] = watcher.run_cycle()

    threads = [threading.Thread(target=run, args=(watcher,)) for watcher in watchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return reports


@pytest.mark.slow
def test_holder_killed_mid_cycle_is_replaced_once_its_lease_lapses_and_nothing_is_lost_or_repeated(
    services: Services, settings: Settings, sandbox: Sandbox, slack: FakeSlack, database_url: str
) -> None:
    tickets = [
        sandbox.add_ticket(
            subject=f"Kill {n}", status="open", requester="x@example.org", createTime=A_DAY_AGO_MS
        )
        for n in range(30)
    ]
    survivor = make_watcher(services, make_slack_client(settings), holder="survivor", in_flight_seconds=0.5)
    survivor.run_cycle()
    survivor.lease.release()
    add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query(""))
    for ticket in tickets:
        sandbox.set_status(ticket["id"], "hold")

    holder = subprocess.Popen(
        [sys.executable, "-m", "tests.notify.holder_process", database_url, sandbox.base_url, slack.api_url],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        slack.wait_for("chat.postMessage", 10, timeout=30)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    posted_before_the_kill = len(slack.calls_to("chat.postMessage"))

    reports = _run_until_delivered(survivor, deadline=time.monotonic() + 30)

    expected = sorted(f"change:{ticket['id']}:v1:C0SUPPORT" for ticket in tickets)
    assert sorted(delivery_keys(slack.messages.values())) == expected
    assert len([call for call in slack.calls_to("chat.postMessage") if call.ok]) == len(expected)
    assert 10 <= posted_before_the_kill < len(expected)
    assert not reports[0].leader  # the dead holder's lease had to lapse first
    assert sum(report.changes for report in reports) == 0  # the dead holder had recorded them all


def _run_until_delivered(watcher: Watcher, *, deadline: float) -> list[CycleReport]:
    reports = []
    while time.monotonic() < deadline:
        report = watcher.run_cycle()
        reports.append(report)
        if report.leader and report.deliveries_pending == 0:
            return reports
        time.sleep(0.1)
    raise AssertionError(f"deliveries still pending after the deadline: {reports[-1]}")
