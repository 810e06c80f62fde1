"""The bot's figures on this machine: one command, a table on stdout, the same in JSON.

    .venv/bin/python bench/run.py [--quick]

- ack latency and throughput of `/doit list` over HTTP to `doit-slack run` (gunicorn, a
  subprocess), with DoiT answering at once and after 2 s, beside a bare Bolt app that only acks;
- memory of the bot's worker process, idle and after 10,000 commands;
- Slack and DoiT calls per action;
- Block Kit build times for a 100-ticket page and 100 cards;
- one watcher cycle over 1,000, 10,000 and 100,000 tickets with 200 active.

Everything runs on loopback: the DoiT sandbox and the fake Slack in this process, the load in a
child process (see ``bench/load.py``). ``--quick`` runs a reduced set in well under a minute.
The results go to ``bench/results/latest.json`` (``quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from bench import watcher_cycle  # noqa: E402
from bench.calls import calls_per_action  # noqa: E402
from bench.load import LoadClient, run_level  # noqa: E402
from bench.servers import (  # noqa: E402
    BOT_TOKEN,
    WHAT_IF,
    Served,
    TimedSlack,
    cpu_seconds,
    rss_kib,
    start_bare,
    start_bot,
)
from bot.app import LISTENER_THREADS  # noqa: E402
from bot.blocks.tickets import ticket_card, ticket_list  # noqa: E402
from bot.notify.watcher import Watcher  # noqa: E402
from bot.support.models import Ticket  # noqa: E402
from bot.support.sandbox import DEFAULT_API_KEY, PLATFORMS, Sandbox  # noqa: E402

logger = logging.getLogger("bench.run")

RESULTS = ROOT / "bench" / "results"
DOIT_LATENCY = 2.0
GUNICORN_THREADS = 16
"""``bot.server.serve_http``'s default, which ``doit-slack run`` uses."""
MEMORY_REQUESTS = 10_000
MEMORY_CONCURRENCY = 50


@dataclass(frozen=True)
class Plan:
    """How much of each measurement to run."""

    levels: tuple[int, ...]
    rounds_at_once: Callable[[int], int]
    rounds_slow: Callable[[int], int]
    memory_requests: int
    watcher_sizes: tuple[int, ...]
    block_runs: int
    what_if_levels: tuple[int, ...]


FULL = Plan(
    levels=(1, 10, 50, 200),
    rounds_at_once=lambda c: max(2, 200 // c),
    rounds_slow=lambda c: min(5, max(2, 200 // c)),
    memory_requests=MEMORY_REQUESTS,
    watcher_sizes=(1_000, 10_000, 100_000),
    block_runs=50,
    what_if_levels=(50, 200),
)
QUICK = Plan(
    levels=(1, 10, 50),
    rounds_at_once=lambda c: max(2, 40 // c),
    rounds_slow=lambda c: 1,
    memory_requests=1_000,
    watcher_sizes=(1_000, 10_000),
    block_runs=10,
    what_if_levels=(),
)


# -- machine -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were taken on."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gunicorn_threads": GUNICORN_THREADS,
        "listener_threads": LISTENER_THREADS,
    }


# -- ack latency ---------------------------------------------------------------------------------


def reply_kind(reply: dict) -> str:
    """What a `/doit list` reply was: the list, or the first words of the sentence it said instead."""
    blocks = reply.get("blocks") or []
    if blocks and blocks[0].get("type") == "header":
        return "list"
    return "sentence: " + " ".join(str(reply.get("text", "")).split()[:6])


def measure_level(
    client: LoadClient, served: Served, slack: TimedSlack, concurrency: int, rounds: int, *, replies: bool
) -> dict[str, Any]:
    pid = served.worker_pid()
    cpu_before = cpu_seconds(pid)
    result = run_level(
        client,
        served.url,
        slack,
        concurrency=concurrency,
        rounds=rounds,
        wait_for_replies=replies,
        classify=reply_kind,
    )
    result.server_cpu_seconds = cpu_seconds(pid) - cpu_before
    return result.summary()


def ack_latency(
    plan: Plan, client: LoadClient, bot: Served, bare: Served, slack: TimedSlack, sandbox: Sandbox
) -> dict[str, list[dict[str, Any]]]:
    """Each level against the bare app, the bot with DoiT at once, the bot with DoiT at 2 s."""
    for served, replies in ((bare, False), (bot, True)):  # warm both up: imports, auth.test, pools
        measure_level(client, served, slack, 5, 2, replies=replies)
    scenarios: dict[str, list[dict[str, Any]]] = {"bare": [], "doit_at_once": [], "doit_2s": []}
    for concurrency in plan.levels:
        rounds = plan.rounds_at_once(concurrency)
        print(f"  {concurrency:>3} concurrent: bare app, bot with DoiT at once ...", flush=True)
        scenarios["bare"].append(measure_level(client, bare, slack, concurrency, rounds, replies=False))
        scenarios["doit_at_once"].append(measure_level(client, bot, slack, concurrency, rounds, replies=True))
    sandbox.inject(latency=DOIT_LATENCY, times=-1, method="GET", path_prefix="/support/v1/tickets")
    try:
        for concurrency in plan.levels:
            print(f"  {concurrency:>3} concurrent: bot with DoiT at {DOIT_LATENCY:g} s ...", flush=True)
            rounds = plan.rounds_slow(concurrency)
            scenarios["doit_2s"].append(measure_level(client, bot, slack, concurrency, rounds, replies=True))
    finally:
        sandbox.clear_faults()
    return scenarios


def what_if(plan: Plan, client: LoadClient, slack: TimedSlack, sandbox: Sandbox, workdir: Path) -> dict:
    """The DoiT-at-2-s levels again on a bot with the settings of ``WHAT_IF`` (two workers)."""
    bot = start_bot(slack, sandbox.base_url, DEFAULT_API_KEY, workdir, what_if=True)
    levels = []
    try:
        measure_level(client, bot, slack, 5, 2, replies=True)
        sandbox.inject(latency=DOIT_LATENCY, times=-1, method="GET", path_prefix="/support/v1/tickets")
        for concurrency in plan.what_if_levels:
            print(
                f"  {concurrency:>3} concurrent: what-if bot with DoiT at {DOIT_LATENCY:g} s ...", flush=True
            )
            rounds = plan.rounds_slow(concurrency)
            levels.append(measure_level(client, bot, slack, concurrency, rounds, replies=True))
    finally:
        sandbox.clear_faults()
        bot.stop()
    return {
        "settings": {key.lower(): value for key, value in WHAT_IF.items()},
        "doit_2s": levels,
    }


# -- memory --------------------------------------------------------------------------------------


def memory(plan: Plan, client: LoadClient, slack: TimedSlack, sandbox: Sandbox, workdir: Path) -> dict:
    """RSS of a fresh bot's worker: idle, then every 20 % of the way through the commands."""
    bot = start_bot(slack, sandbox.base_url, DEFAULT_API_KEY, workdir / "memory")
    try:
        pid = bot.worker_pid()
        idle = rss_kib(pid)
        checkpoints = []
        rounds = plan.memory_requests // MEMORY_CONCURRENCY
        step = max(1, rounds // 5)
        started = time.monotonic()
        done = 0
        while done < rounds:
            batch = min(step, rounds - done)
            run_level(
                client,
                bot.url,
                slack,
                concurrency=MEMORY_CONCURRENCY,
                rounds=batch,
                text=lambda n: "list" if n % 2 == 0 else "help",
                wait_for_replies=True,
                classify=reply_kind,
            )
            done += batch
            checkpoints.append({"requests": done * MEMORY_CONCURRENCY, "rss_kib": rss_kib(pid)})
        return {
            "idle_rss_kib": idle,
            "after_rss_kib": checkpoints[-1]["rss_kib"],
            "requests": done * MEMORY_CONCURRENCY,
            "mix": "half `/doit list`, half `/doit help`",
            "seconds": round(time.monotonic() - started, 1),
            "checkpoints": checkpoints,
            "master_rss_kib": rss_kib(bot.process.pid),
        }
    finally:
        bot.stop()


# -- Block Kit -----------------------------------------------------------------------------------


def _timings(build: Callable[[], object], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        build()
        times.append(time.perf_counter() - started)
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 2),
        "runs": runs,
    }


def block_kit(plan: Plan) -> dict[str, Any]:
    """ticket_list over 100 tickets (it caps what fits) and ticket_card for each of 100 tickets."""
    tickets = [Ticket.model_validate(item) for item in Sandbox(tickets=100, seed=3).tickets()]

    def page() -> Any:
        return ticket_list(
            tickets,
            description="all tickets",
            page=1,
            shown_from=1,
            next_value='{"q":"","t":"token","s":0,"p":2,"h":[]}',
            previous_value=None,
            platform_names=PLATFORMS,
        )

    def cards() -> list[Any]:
        return [
            ticket_card(ticket, platform_names=PLATFORMS, requester_user_id="U0DANA") for ticket in tickets
        ]

    built = page()
    return {
        "ticket_list_100": {
            **_timings(page, plan.block_runs),
            "tickets_shown": sum(1 for block in built.blocks if block["type"] == "section"),
            "blocks": len(built.blocks),
            "payload_chars": len(json.dumps(built.blocks, ensure_ascii=False)),
        },
        "ticket_card_x100": _timings(cards, plan.block_runs),
    }


# -- the watcher ---------------------------------------------------------------------------------


def watcher_cycles(plan: Plan) -> list[dict[str, Any]]:
    """bench/watcher_cycle.py's scenario at each size: a baseline, DoiT moves on, the measured cycle."""
    return [_watcher_cycle(size) for size in plan.watcher_sizes]


def _watcher_cycle(size: int) -> dict[str, Any]:
    print(f"  watcher over {size:,} tickets ...", flush=True)
    rng = random.Random(7)
    with (
        Sandbox(tickets=size, seed=7) as sandbox,
        TimedSlack() as slack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        active = watcher_cycle.arrange(sandbox, rng)
        watcher, services = watcher_cycle.build_watcher(sandbox, slack, f"sqlite:///{tmp}/watcher.sqlite3")
        try:
            baseline = _one_cycle(watcher, sandbox)
            watcher_cycle.between_cycles(sandbox, active, rng)
            measured = _one_cycle(watcher, sandbox)
        finally:
            services.close()
    return {"tickets": size, "active": len(active), "baseline": baseline, "cycle": measured}


def _one_cycle(watcher: Watcher, sandbox: Sandbox) -> dict[str, Any]:
    # The watcher runs on this thread and the sandbox on its own: thread CPU time is the watcher's.
    requests_before = len(sandbox.requests)
    cpu_before = time.thread_time()
    started = time.perf_counter()
    report = watcher.run_cycle()
    wall = time.perf_counter() - started
    return {
        "doit_calls": len(sandbox.requests) - requests_before,
        "cpu_ms": round((time.thread_time() - cpu_before) * 1000, 1),
        "diff_cpu_ms": round(report.diff_cpu_seconds * 1000, 2),
        "wall_ms": round(wall * 1000, 1),
        "changes": report.changes,
        "deliveries_made": report.deliveries_made,
        "rows_written": report.rows_written,
    }


# -- the table -----------------------------------------------------------------------------------


def _row(cells: list[object], widths: list[int]) -> str:
    return "  ".join(
        str(cell).rjust(width) if i else str(cell).ljust(width)
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    )


def _table(title: str, header: list[str], rows: list[list[object]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [title, _row(header, widths), _row(["-" * w for w in widths], widths)]
    return lines + [_row(row, widths) for row in rows] + [""]


def _dash(value: object) -> object:
    return "-" if value is None else value


def render(results: dict[str, Any]) -> str:
    """The results as the plain-text table the README shows."""
    m = results["machine"]
    lines = [
        f"doit-slack benchmarks, {results['measured_at']}" + (" (quick)" if results["quick"] else ""),
        f"machine: {m['cpus']} CPUs, {m['cpu_model']}, Python {m['python']}, {m['platform']}",
        f"server: gunicorn gthread, 1 worker, {m['gunicorn_threads']} threads; Bolt listener pool "
        f"{m['listener_threads']}; load, DoiT sandbox and fake Slack on the same machine",
        "",
    ]
    scenarios = [(label, results["ack"][key]) for key, label in _SCENARIOS.items()]
    if "what_if" in results:
        sizes = ", ".join(f"{name} {value}" for name, value in results["what_if"]["settings"].items())
        lines.append(f"what-if bot: {sizes} (not the shipped settings)")
        lines.append("")
        scenarios.append(("what-if bot, DoiT 2 s", results["what_if"]["doit_2s"]))
    lines += _ack_table(scenarios)
    lines += _ratio_lines(scenarios)
    mem = results["memory"]
    lines += _table(
        "Memory (VmRSS of the gunicorn worker)",
        ["when", "RSS MiB"],
        [["idle, after start", _mib(mem["idle_rss_kib"])]]
        + [[f"after {c['requests']:,} commands", _mib(c["rss_kib"])] for c in mem["checkpoints"]],
    )
    lines += _calls_table(results["calls_per_action"])
    blocks = results["block_kit"]
    page = blocks["ticket_list_100"]
    lines += _table(
        "Block Kit build time",
        ["builder", "median ms", "p95 ms", "runs", "result"],
        [
            [
                "ticket_list, 100 tickets",
                page["median_ms"],
                page["p95_ms"],
                page["runs"],
                f"{page['tickets_shown']} shown, {page['blocks']} blocks, {page['payload_chars']:,} chars",
            ],
            [
                "ticket_card x 100",
                blocks["ticket_card_x100"]["median_ms"],
                blocks["ticket_card_x100"]["p95_ms"],
                blocks["ticket_card_x100"]["runs"],
                "one card per ticket",
            ],
        ],
    )
    lines += _table(
        "Watcher cycle (200 active; then 10 solved, 10 moved, 5 filed)",
        [
            "tickets",
            "baseline calls",
            "cycle calls",
            "cycle CPU ms",
            "diff CPU ms",
            "cycle wall ms",
            "changes",
            "delivered",
        ],
        [
            [
                f"{w['tickets']:,}",
                w["baseline"]["doit_calls"],
                w["cycle"]["doit_calls"],
                w["cycle"]["cpu_ms"],
                w["cycle"]["diff_cpu_ms"],
                w["cycle"]["wall_ms"],
                w["cycle"]["changes"],
                w["cycle"]["deliveries_made"],
            ]
            for w in results["watcher"]
        ],
    )
    return "\n".join(lines)


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


_SCENARIOS = {"bare": "bare Bolt, ack only", "doit_at_once": "bot, DoiT at once", "doit_2s": "bot, DoiT 2 s"}


def _ack_table(scenarios: list[tuple[str, list[dict[str, Any]]]]) -> list[str]:
    rows = []
    for label, levels in scenarios:
        for level in levels:
            outcomes = ", ".join(f"{count} {name}" for name, count in sorted(level["outcomes"].items()))
            rows.append(
                [
                    label,
                    level["concurrency"],
                    level["requests"],
                    level["ack_p50_ms"],
                    level["ack_p99_ms"],
                    level["acks_over_3s"],
                    _dash(level["acks_per_second"]),
                    _dash(level["reply_p50_ms"]),
                    _dash(level["reply_p99_ms"]),
                    _dash(level["server_cpu_ms_per_request"]),
                    outcomes,
                ]
            )
    header = [
        "app",
        "conc.",
        "reqs",
        "ack p50 ms",
        "ack p99 ms",
        "> 3 s",
        "acks/s",
        "reply p50 ms",
        "reply p99 ms",
        "CPU ms/req",
        "replies",
    ]
    return _table("Ack latency of `/doit list` over HTTP (c simultaneous commands per round)", header, rows)


def _ratio_lines(scenarios: list[tuple[str, list[dict[str, Any]]]]) -> list[str]:
    bare = {level["concurrency"]: level for level in scenarios[0][1]}
    rows = []
    for label, levels in scenarios[1:]:
        for level in levels:
            base = bare.get(level["concurrency"])
            if base and base["ack_p99_ms"]:
                rows.append(
                    [
                        label,
                        level["concurrency"],
                        f"{level['ack_p99_ms'] / base['ack_p99_ms']:.2f}",
                        f"{level['ack_p50_ms'] / base['ack_p50_ms']:.2f}",
                    ]
                )
    return _table("Bot / bare app ack latency", ["app", "conc.", "p99 ratio", "p50 ratio"], rows)


def _calls_table(calls: list[dict[str, Any]]) -> list[str]:
    rows = [
        [
            c["action"],
            len(c["doit_calls"]),
            len(c["slack_calls"]),
            ", ".join(c["slack_calls"]) or "-",
            ", ".join(c["doit_calls"]) or "-",
        ]
        for c in calls
    ]
    return _table("Calls per action", ["action", "DoiT", "Slack", "Slack calls", "DoiT calls"], rows)


# -- main ----------------------------------------------------------------------------------------


def run(plan: Plan, *, quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine(),
        "doit_latency_seconds": DOIT_LATENCY,
    }
    with (
        Sandbox(tickets=300, seed=7) as sandbox,
        TimedSlack(bot_token=BOT_TOKEN) as slack,
        tempfile.TemporaryDirectory() as tmp,
        LoadClient() as client,
    ):
        workdir = Path(tmp)
        for name in ("bot", "bare", "memory", "what-if"):
            (workdir / name).mkdir()
        bot = start_bot(slack, sandbox.base_url, DEFAULT_API_KEY, workdir / "bot")
        bare = start_bare(slack, workdir / "bare")
        try:
            print("calls per action ...", flush=True)
            results["calls_per_action"] = calls_per_action(bot, slack, sandbox)
            slack.forget()
            print("ack latency ...", flush=True)
            results["ack"] = ack_latency(plan, client, bot, bare, slack, sandbox)
        finally:
            bot.stop()
            bare.stop()
        if plan.what_if_levels:
            print("what if ...", flush=True)
            results["what_if"] = what_if(plan, client, slack, sandbox, workdir / "what-if")
        print(f"memory over {plan.memory_requests:,} commands ...", flush=True)
        results["memory"] = memory(plan, client, slack, sandbox, workdir)
    print("Block Kit ...", flush=True)
    results["block_kit"] = block_kit(plan)
    print("watcher ...", flush=True)
    results["watcher"] = watcher_cycles(plan)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The bot's figures on this machine.")
    parser.add_argument("--quick", action="store_true", help="a reduced set, well under a minute")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    results = run(QUICK if args.quick else FULL, quick=args.quick)
    results["bench_seconds"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / ("quick.json" if args.quick else "latest.json")
    target.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print()
    print(render(results))
    print(f"{results['bench_seconds']} s; written to {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
