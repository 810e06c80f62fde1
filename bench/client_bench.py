"""The DoiT client's two figures: requests and connections to list 1,000 tickets, and parse time per page.

    .venv/bin/python bench/client_bench.py [--runs N]

A measurement, not a test. Targets (issue 2): listing 1,000 tickets costs 10 requests over one reused
connection; parsing a page of 100 tickets takes under 2 ms.

How connections are counted. The unmodified ``SupportClient`` (its own pooled transport, nothing
swapped in) talks to a sandbox through a small TCP relay on loopback that counts the connections it
accepts and the client ports they came from. The relay only copies bytes, so it sees exactly the TCP
connections the client opened, independent of httpx's internals and of the sandbox's; the sandbox's
public request log gives the request count on the server side. Requests are also counted on the
client side by ``iter_tickets`` pages, and all three must agree.

How parsing is timed. The page is a real ``GET /support/v1/tickets?maxResults=100`` answer from a
seeded sandbox (unicode, HTML-ish and long subjects included), decoded to a dict once; each run times
``TicketPage.model_validate`` on it after a warm-up, both as wall time (``perf_counter_ns``) and as
this thread's CPU time (``thread_time_ns``). On a shared machine the wall p95 mostly measures other
processes preempting this one, so the target is held against the wall median and the CPU p95; the
load average is recorded next to the figures. They go to stdout and to bench/results/client.json;
the exit code is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import socket
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.support.client import SupportClient  # noqa: E402
from bot.support.models import TicketPage  # noqa: E402
from bot.support.sandbox import DEFAULT_API_KEY, Sandbox  # noqa: E402

logger = logging.getLogger("bench.client_bench")

TICKETS = 1_000
PAGE_SIZE = 100
EXPECTED_REQUESTS = 10
EXPECTED_CONNECTIONS = 1
PARSE_TARGET_MS = 2.0
WARM_UP = 20
RESULTS = ROOT / "bench" / "results" / "client.json"
LIST_PATH = "/support/v1/tickets"


@dataclass
class CountingRelay:
    """A loopback TCP relay to ``upstream_port`` that counts the connections it accepts."""

    upstream_port: int
    accepted: int = 0
    client_ports: list[int] = field(default_factory=list)
    _listener: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept_forever, name="bench-relay", daemon=True).start()
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()

    def _accept_forever(self) -> None:
        assert self._listener is not None
        while True:
            try:
                downstream, address = self._listener.accept()
            except OSError:
                return  # the listener was closed
            with self._lock:
                self.accepted += 1
                self.client_ports.append(address[1])
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            for sock in (downstream, upstream):
                # The sandbox answers in two writes; with Nagle on, the relay would add delayed-ACK stalls.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for source, target in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        logger.debug("relay connection ended")
    finally:
        for sock, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                logger.debug("relay socket already closed")


def measure_listing() -> dict[str, Any]:
    """List every ticket of a 1,000-ticket sandbox through the relay; count requests and connections."""
    with Sandbox(tickets=TICKETS) as sandbox:
        upstream_port = int(sandbox.base_url.rsplit(":", 1)[1])
        relay = CountingRelay(upstream_port)
        base_url = relay.start()
        try:
            with SupportClient(DEFAULT_API_KEY, base_url=base_url) as support:
                started = time.perf_counter()
                ids = [ticket.id for ticket in support.iter_tickets(page_size=PAGE_SIZE)]
                seconds = time.perf_counter() - started
        finally:
            relay.stop()
        server_requests = sandbox.requests_to("GET", LIST_PATH)
        pages = [r.query.get("maxResults") for r in server_requests]
    return {
        "tickets_listed": len(ids),
        "distinct_tickets": len(set(ids)),
        "requests_seen_by_server": len(server_requests),
        "max_results_sent": sorted({p[0] for p in pages if p}),
        "connections_accepted": relay.accepted,
        "distinct_client_ports": len(set(relay.client_ports)),
        "wall_ms": round(seconds * 1000, 1),
        "ms_per_request": round(seconds * 1000 / max(1, len(server_requests)), 2),
    }


def realistic_page() -> dict[str, Any]:
    """One full page exactly as the sandbox serves it over HTTP, decoded to a dict."""
    with Sandbox(tickets=TICKETS) as sandbox:
        answer = httpx.get(
            f"{sandbox.base_url}{LIST_PATH}",
            params={"maxResults": str(PAGE_SIZE)},
            headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        )
        answer.raise_for_status()
        return answer.json()


def measure_parsing(runs: int) -> dict[str, Any]:
    """Median and p95 of ``TicketPage.model_validate`` on a 100-ticket page, wall and CPU, in ms."""
    page = realistic_page()
    assert len(page["tickets"]) == PAGE_SIZE
    for _ in range(WARM_UP):
        TicketPage.model_validate(page)
    wall_ms, cpu_ms = [], []
    for _ in range(runs):
        cpu_started, wall_started = time.thread_time_ns(), time.perf_counter_ns()
        parsed = TicketPage.model_validate(page)
        wall_ms.append((time.perf_counter_ns() - wall_started) / 1e6)
        cpu_ms.append((time.thread_time_ns() - cpu_started) / 1e6)
    assert len(parsed.tickets) == PAGE_SIZE
    return {
        "tickets_per_page": PAGE_SIZE,
        "page_json_bytes": len(json.dumps(page, ensure_ascii=False).encode()),
        "runs": runs,
        "wall": _summary(wall_ms),
        "cpu": _summary(cpu_ms),
    }


def _summary(timings_ms: list[float]) -> dict[str, float]:
    percentiles = statistics.quantiles(timings_ms, n=100, method="inclusive")
    return {
        "median_ms": round(statistics.median(timings_ms), 3),
        "p95_ms": round(percentiles[94], 3),
        "min_ms": round(min(timings_ms), 3),
        "max_ms": round(max(timings_ms), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed parses of the page (default 200)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    listing = measure_listing()
    parsing = measure_parsing(args.runs)
    targets = {
        "requests": listing["requests_seen_by_server"] == EXPECTED_REQUESTS,
        "connections": listing["connections_accepted"] == EXPECTED_CONNECTIONS
        and listing["distinct_client_ports"] == EXPECTED_CONNECTIONS,
        "every_ticket_once": listing["tickets_listed"] == listing["distinct_tickets"] == TICKETS,
        # Wall time on a shared machine includes preemption by other processes; the CPU time this
        # thread spent is what the parse itself costs, so its p95 is held to the target too.
        "parse_wall_median_under_2ms": parsing["wall"]["median_ms"] < PARSE_TARGET_MS,
        "parse_cpu_p95_under_2ms": parsing["cpu"]["p95_ms"] < PARSE_TARGET_MS,
    }
    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "pydantic": _version("pydantic"),
        "httpx": _version("httpx"),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "listing": listing,
        "parsing": parsing,
        "targets_met": targets,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    _print(results)
    return 0 if all(targets.values()) else 1


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _print(results: dict[str, Any]) -> None:
    listing, parsing, met = results["listing"], results["parsing"], results["targets_met"]
    wall, cpu = parsing["wall"], parsing["cpu"]
    rows = [
        (
            "tickets listed (distinct)",
            f"{listing['tickets_listed']} ({listing['distinct_tickets']})",
            "1000",
            met["every_ticket_once"],
        ),
        ("list requests (server-side)", str(listing["requests_seen_by_server"]), "10", met["requests"]),
        (
            "TCP connections (relay accepts / client ports)",
            f"{listing['connections_accepted']} / {listing['distinct_client_ports']}",
            "1",
            met["connections"],
        ),
        ("listing wall time", f"{listing['wall_ms']} ms ({listing['ms_per_request']} ms/request)", "-", None),
        (
            "parse 100 tickets, wall median",
            f"{wall['median_ms']:.3f} ms",
            "< 2 ms",
            met["parse_wall_median_under_2ms"],
        ),
        (
            "parse 100 tickets, wall p95",
            f"{wall['p95_ms']:.3f} ms (load {results['load_average_1m']})",
            "-",
            None,
        ),
        ("parse 100 tickets, CPU median", f"{cpu['median_ms']:.3f} ms", "-", None),
        ("parse 100 tickets, CPU p95", f"{cpu['p95_ms']:.3f} ms", "< 2 ms", met["parse_cpu_p95_under_2ms"]),
    ]
    width = max(len(r[0]) for r in rows)
    print(
        f"{parsing['runs']} timed parses of a {parsing['page_json_bytes']:,}-byte page, "
        f"{results['cpus']} CPUs"
    )
    print(f"{'figure':<{width}}  {'measured':<28}  {'target':<7}  ok")
    for name, measured, target, ok in rows:
        verdict = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{width}}  {measured:<28}  {target:<7}  {verdict}")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
