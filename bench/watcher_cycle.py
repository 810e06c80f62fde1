"""One watcher cycle over 10,000 tickets of which 200 are active: DoiT calls, diff CPU, rows written.

    .venv/bin/python bench/watcher_cycle.py [--database-url URL]

A measurement, not a test: the DoiT sandbox and the fake Slack run on loopback, the store on a
temporary SQLite file unless ``--database-url`` names another. After a baseline cycle, 10 active
tickets are solved (they leave the active set), 10 move between active statuses and 5 are filed;
then the measured cycle runs. The figures go to stdout and to bench/results/watcher_cycle.json.

"Diff CPU" is ``time.process_time`` around the pure diff and fan-out, without any I/O; "rows
written" counts every row the cycle inserted, updated or deleted, recording and delivering both.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import random
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.fakeslack import FakeSlack  # noqa: E402
from bot.notify.subscriptions import add_subscription, subscription_query  # noqa: E402
from bot.notify.watcher import CycleReport, Watcher  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.slack.web import make_web_client  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.support.catalog import Catalog  # noqa: E402
from bot.support.client import SupportClient  # noqa: E402
from bot.support.sandbox import DEFAULT_API_KEY, Sandbox  # noqa: E402

logger = logging.getLogger("bench.watcher_cycle")

TICKETS = 10_000
ACTIVE = 200
SOLVED = 10
MOVED = 10
FILED = 5
RESULTS = ROOT / "bench" / "results" / "watcher_cycle.json"
ACTIVE_STATUSES = ("new", "open", "pending", "hold")


def arrange(sandbox: Sandbox, rng: random.Random) -> list[int]:
    """Leave exactly ``ACTIVE`` tickets active, spread over the whole history; return their ids."""
    tickets = sandbox.tickets()
    keep = {ticket["id"] for ticket in rng.sample(tickets, ACTIVE)}
    for ticket in tickets:
        if ticket["id"] in keep and ticket["status"] not in ACTIVE_STATUSES:
            sandbox.set_status(ticket["id"], rng.choice(ACTIVE_STATUSES))
        elif ticket["id"] not in keep and ticket["status"] in ACTIVE_STATUSES:
            sandbox.set_status(ticket["id"], "closed")
    return sorted(keep)


def between_cycles(sandbox: Sandbox, active: list[int], rng: random.Random) -> None:
    """What happens in DoiT between two cycles."""
    changed = rng.sample(active, SOLVED + MOVED)
    for ticket_id in changed[:SOLVED]:
        sandbox.set_status(ticket_id, "solved")
    for ticket_id in changed[SOLVED:]:
        current = sandbox.ticket(ticket_id)["status"]
        sandbox.set_status(ticket_id, rng.choice([s for s in ACTIVE_STATUSES if s != current]))
    for number in range(FILED):
        sandbox.add_ticket(subject=f"Bench ticket {number}", severity="high")


def timed_cycle(watcher: Watcher) -> tuple[CycleReport, float]:
    started = time.perf_counter()
    report = watcher.run_cycle()
    return report, time.perf_counter() - started


def build_watcher(sandbox: Sandbox, slack: FakeSlack, database_url: str) -> tuple[Watcher, Services]:
    """A watcher over ``sandbox`` posting to ``slack``, one channel subscribed to everything.

    No pacing between posts: the figures are about the cycle, not Slack's rate limit.
    """
    settings = load_settings(
        None,
        slack_bot_token=SecretStr("xoxb-bench"),
        slack_api_base_url=slack.api_url,
        doit_api_key=SecretStr(DEFAULT_API_KEY),
        doit_api_base_url=sandbox.base_url,
        database_url=database_url,
    )
    support = SupportClient(DEFAULT_API_KEY, base_url=sandbox.base_url)
    store = Store.connect(settings.database_url)
    services = Services(settings=settings, support=support, store=store, catalog=Catalog(support))
    add_subscription(store, "C0SUPPORT", "U0DANA", subscription_query(""))
    watcher = Watcher(
        services, make_web_client(settings), holder="bench", interval=60, lease_seconds=120, post_interval=0
    )
    return watcher, services


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(7)

    with (
        Sandbox(tickets=TICKETS, seed=7) as sandbox,
        FakeSlack() as slack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        active = arrange(sandbox, rng)
        database_url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        watcher, services = build_watcher(sandbox, slack, database_url)

        baseline, baseline_seconds = timed_cycle(watcher)
        between_cycles(sandbox, active, rng)
        cycle, cycle_seconds = timed_cycle(watcher)
        dialect = services.store.dialect
        services.close()

    expected_calls = 2 + 1 + SOLVED  # two pages of active tickets, one of new ones, one per ticket that left
    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "database": dialect,
        "tickets": TICKETS,
        "active": ACTIVE,
        "between_cycles": {"solved": SOLVED, "moved_between_active_statuses": MOVED, "filed": FILED},
        "baseline": {**_figures(baseline, baseline_seconds)},
        "cycle": {**_figures(cycle, cycle_seconds), "expected_doit_calls": expected_calls},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    _print(results)
    return 0


def _figures(report: CycleReport, seconds: float) -> dict[str, object]:
    figures = asdict(report)
    figures["diff_cpu_ms"] = round(figures.pop("diff_cpu_seconds") * 1000, 3)
    figures["wall_seconds"] = round(seconds, 3)
    return figures


def _print(results: dict) -> None:
    cycle, baseline = results["cycle"], results["baseline"]
    print(f"{results['tickets']} tickets, {results['active']} active, on {results['database']}")
    print(
        f"baseline cycle: {baseline['doit_calls']} DoiT calls, {baseline['tickets_seen']} tickets seen, "
        f"{baseline['rows_written']} rows written, {baseline['wall_seconds']} s"
    )
    print(
        f"measured cycle: {cycle['doit_calls']} DoiT calls (expected about {cycle['expected_doit_calls']}), "
        f"{cycle['changes']} changes, diff CPU {cycle['diff_cpu_ms']} ms (goal < 50 ms), "
        f"{cycle['rows_written']} rows written, {cycle['deliveries_made']} delivered, "
        f"{cycle['wall_seconds']} s"
    )
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    raise SystemExit(main())
