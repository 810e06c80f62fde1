"""The watcher killed with SIGKILL at 20 random (seeded) points: every change delivered exactly once.

tests/notify kills a lease holder once, after ten posts. Here twenty runs each kill the holder
process at a point drawn from a seeded generator: during start-up, polling or recording (a time
after the spawn), or after its k-th Slack post plus a few milliseconds, k anywhere from 1 to all.
A survivor then takes over once the dead holder's lease lapses. Runs are independent (own
sandbox, fake Slack and database) and go five at a time to keep the suite quick.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.fakeslack import FakeSlack
from bot.notify.subscriptions import add_subscription, subscription_query
from bot.notify.watcher import CycleReport, Watcher
from bot.support.sandbox import Sandbox
from tests.notify.helpers import delivery_keys, make_services, make_settings, make_slack_client, make_watcher

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SEED = 20_261_204
RUNS = 20
AT_ONCE = 5
CHANGES = 12
"""The holder posts one every 0.1 s (tests/notify/holder_process.py): about 1.2 s of deliveries."""
A_DAY_AGO_MS = int((time.time() - 86400) * 1000)


@dataclass(frozen=True)
class KillPoint:
    after_posts: int
    """0: kill ``delay`` seconds after the spawn; else after that many posts plus ``delay``."""
    delay: float

    def __str__(self) -> str:
        if self.after_posts == 0:
            return f"{self.delay:.2f} s after the spawn"
        return f"{self.delay * 1000:.0f} ms after post {self.after_posts}"


def kill_points() -> list[KillPoint]:
    rng = random.Random(SEED)
    points = []
    for _ in range(RUNS):
        after_posts = rng.choice([0, 0, 0, *range(1, CHANGES + 1), CHANGES])
        delay = rng.uniform(0.1, 2.0) if after_posts == 0 else rng.uniform(0.0, 0.08)
        points.append(KillPoint(after_posts, round(delay, 3)))
    return points


@dataclass(frozen=True)
class Outcome:
    point: KillPoint
    posted_before_kill: int
    problem: str | None


def run_once(point: KillPoint, workdir: Path) -> Outcome:
    """One run: a baseline, CHANGES status changes, a holder killed at ``point``, a survivor."""
    with Sandbox(tickets=20, seed=5) as sandbox, FakeSlack() as slack:
        settings = make_settings(
            database_url=f"sqlite:///{workdir / 'bot.sqlite3'}",
            doit_url=sandbox.base_url,
            slack_url=slack.api_url,
        )
        services = make_services(settings)
        try:
            tickets = [
                sandbox.add_ticket(
                    subject=f"Kill {n}", status="open", requester="x@example.org", createTime=A_DAY_AGO_MS
                )
                for n in range(CHANGES)
            ]
            survivor = make_watcher(
                services, make_slack_client(settings), holder="survivor", in_flight_seconds=0.5
            )
            survivor.run_cycle()
            survivor.lease.release()
            add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query(""))
            for ticket in tickets:
                sandbox.set_status(ticket["id"], "hold")

            posted = _kill_holder_at(point, settings.database_url, sandbox, slack)
            _run_until_delivered(survivor)

            expected = sorted(f"change:{ticket['id']}:v1:C0SUPPORT" for ticket in tickets)
            keys = sorted(delivery_keys(slack.messages.values()))
            accepted = len([call for call in slack.calls_to("chat.postMessage") if call.ok])
            problem = None
            if keys != expected or accepted != len(expected):
                problem = f"{accepted} posts accepted, keys {keys} instead of {expected}"
            return Outcome(point, posted, problem)
        finally:
            services.close()


def _kill_holder_at(point: KillPoint, database_url: str, sandbox: Sandbox, slack: FakeSlack) -> int:
    holder = subprocess.Popen(
        [sys.executable, "-m", "tests.notify.holder_process", database_url, sandbox.base_url, slack.api_url],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if point.after_posts:
            slack.wait_for("chat.postMessage", point.after_posts, timeout=30)
        time.sleep(point.delay)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    return len(slack.calls_to("chat.postMessage"))


def _run_until_delivered(watcher: Watcher, timeout: float = 30.0) -> list[CycleReport]:
    reports = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = watcher.run_cycle()
        reports.append(report)
        if report.leader and report.deliveries_pending == 0:
            return reports
        time.sleep(0.1)
    raise AssertionError(f"deliveries still pending after {timeout} s: {reports[-1]}")


def test_watcher_killed_at_20_random_points_delivers_every_change_exactly_once(tmp_path: Path) -> None:
    points = kill_points()
    workdirs = [tmp_path / f"run{number:02d}" for number in range(RUNS)]
    for workdir in workdirs:
        workdir.mkdir()

    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        outcomes = list(pool.map(run_once, points, workdirs))

    assert [(str(o.point), o.problem) for o in outcomes] == [(str(p), None) for p in points]


def test_the_seeded_kill_points_cover_start_up_mid_deliveries_and_after_the_last_post() -> None:
    kinds = {0 if p.after_posts == 0 else CHANGES if p.after_posts == CHANGES else 1 for p in kill_points()}
    assert kinds == {0, 1, CHANGES}
