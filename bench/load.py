"""Signed slash commands in bursts over real HTTP, and the statistics of their acks and replies.

A level of concurrency ``c`` is a series of rounds: ``c`` commands leave at the same moment (a
barrier releases ``c`` threads), each measured from just before its POST to the HTTP 200 that
acks it. When the app answers through the response_url, a round ends once every reply has
arrived (or ``reply_timeout``), so each round finds the app idle, as ``c`` people typing at once
would; an app that only acks starts the next round as soon as the acks are in.

The POSTs leave from a separate process (:class:`LoadClient`): its threads then share no
interpreter lock with the fake Slack and the sandbox, which are busy answering the bot while the
acks come back. Both processes read the same monotonic clock, so a reply's arrival (stamped by
the fake Slack) can be set against the moment its command left.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bench.servers import SIGNING_SECRET, TimedSlack

logger = logging.getLogger(__name__)

MAX_CONCURRENCY = 256
SLACK_ACK_LIMIT = 3.0
"""Seconds Slack waits for an ack before it tells the user the app did not respond."""


def command_body(text: str, response_url: str, *, user_id: str = "U0DANA", sequence: int = 0) -> str:
    """A `/doit` slash command as Slack form-encodes it."""
    return urlencode(
        {
            "team_id": "T0DEMO",
            "team_domain": "demo",
            "channel_id": "C0SUPPORT",
            "channel_name": "support",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/doit",
            "text": text,
            "api_app_id": "A0DOIT",
            "response_url": response_url,
            "trigger_id": f"bench-trigger-{sequence}-{time.monotonic_ns()}",
        }
    )


def signed(body: str, content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    """Headers Slack would send with ``body``, signed now with the benchmark's secret."""
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
    return {"content-type": content_type, "x-slack-request-timestamp": stamp, "x-slack-signature": signature}


# -- the client process ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One POST as the client saw it: when it left (``time.perf_counter``), how long, what status."""

    started: float
    seconds: float
    status: int
    error: str | None = None


class LoadClient:
    """A child process that sends bursts of signed POSTs on request and reports their timings."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_client_main, args=(child,), name="bench-load", daemon=True)
        self._process.start()

    def burst(self, url: str, bodies: list[str]) -> list[Sent]:
        """POST every body to ``url`` at the same moment; their results in the same order."""
        if len(bodies) > MAX_CONCURRENCY:
            raise ValueError(f"at most {MAX_CONCURRENCY} requests per burst")
        self._conn.send((url, bodies))
        return list(self._conn.recv())

    def close(self) -> None:
        self._conn.send(None)
        self._process.join(timeout=10)

    def __enter__(self) -> LoadClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _client_main(conn: Connection) -> None:
    # No keep-alive: gunicorn closes idle connections after 2 s, and a reused connection it has
    # just closed would count as a failed request that never reached the app.
    limits = httpx.Limits(max_connections=MAX_CONCURRENCY, max_keepalive_connections=0)
    with httpx.Client(limits=limits, timeout=30.0) as http:
        while (job := conn.recv()) is not None:
            url, bodies = job
            conn.send(_fire(http, url, bodies))


def _fire(http: httpx.Client, url: str, bodies: list[str]) -> list[Sent]:
    results: list[Sent | None] = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def send(index: int) -> None:
        headers = signed(bodies[index])
        barrier.wait()
        started = time.perf_counter()
        try:
            status, error = http.post(url, content=bodies[index], headers=headers).status_code, None
        except httpx.HTTPError as exc:
            status, error = 0, type(exc).__name__
        results[index] = Sent(started, time.perf_counter() - started, status, error)

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [result or Sent(0.0, 0.0, 0, "lost") for result in results]


# -- levels and their statistics -------------------------------------------------------------------


@dataclass
class Sample:
    sent: Sent
    response_url: str
    reply_seconds: float | None = None
    reply_kind: str | None = None


@dataclass
class LevelResult:
    concurrency: int
    samples: list[Sample] = field(default_factory=list)
    ack_wall_seconds: float = 0.0
    """From the first POST of each round to its last ack, summed over rounds."""
    server_cpu_seconds: float | None = None

    def summary(self) -> dict[str, object]:
        """The level's figures as plain JSON values (milliseconds, per second)."""
        acks = [s.sent.seconds for s in self.samples]
        replies = [s.reply_seconds for s in self.samples if s.reply_seconds is not None]
        outcomes: dict[str, int] = {}
        for sample in self.samples:
            outcome = sample.reply_kind or _no_reply(sample.sent)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        cpu = self.server_cpu_seconds
        return {
            "concurrency": self.concurrency,
            "requests": len(self.samples),
            "ack_p50_ms": _ms(percentile(acks, 50)),
            "ack_p99_ms": _ms(percentile(acks, 99)),
            "ack_max_ms": _ms(max(acks, default=0.0)),
            "acks_over_3s": sum(1 for ack in acks if ack > SLACK_ACK_LIMIT),
            "acks_per_second": round(len(acks) / self.ack_wall_seconds, 1) if self.ack_wall_seconds else None,
            "reply_p50_ms": _ms(percentile(replies, 50)) if replies else None,
            "reply_p99_ms": _ms(percentile(replies, 99)) if replies else None,
            "server_cpu_ms_per_request": round(cpu * 1000 / len(acks), 2)
            if cpu is not None and acks
            else None,
            "outcomes": outcomes,
        }


def _no_reply(sent: Sent) -> str:
    if sent.status == 200:
        return "acked, no reply"
    return f"HTTP {sent.status}" if sent.status else f"client error {sent.error}"


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (p99 of 200 samples is the second largest)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def run_level(
    client: LoadClient,
    url: str,
    slack: TimedSlack,
    *,
    concurrency: int,
    rounds: int,
    text: str | Callable[[int], str] = "list",
    wait_for_replies: bool,
    classify: Callable[[dict], str],
    reply_timeout: float = 15.0,
) -> LevelResult:
    """``rounds`` bursts of ``concurrency`` simultaneous commands; see the module docstring."""
    result = LevelResult(concurrency)
    for number in range(rounds):
        texts = [text(number * concurrency + i) if callable(text) else text for i in range(concurrency)]
        response_urls = [slack.response_url() for _ in texts]
        events = [slack.expect(u) for u in response_urls] if wait_for_replies else []
        bodies = [
            command_body(t, u, sequence=i) for i, (t, u) in enumerate(zip(texts, response_urls, strict=True))
        ]
        sent = client.burst(url, bodies)
        result.ack_wall_seconds += max(s.started + s.seconds for s in sent) - min(s.started for s in sent)
        deadline = time.monotonic() + reply_timeout
        for event in events:
            event.wait(max(0.0, deadline - time.monotonic()))
        for one, response_url in zip(sent, response_urls, strict=True):
            arrived = slack.arrivals.get(response_url)
            reply_seconds = arrived - one.started if arrived is not None else None
            result.samples.append(Sample(one, response_url, reply_seconds))
    if wait_for_replies:
        posts = {call.args.get("_url"): call.args for call in slack.calls_to("response_url")}
        for sample in result.samples:
            reply = posts.get(sample.response_url)
            sample.reply_kind = classify(reply) if reply is not None else None
    slack.forget()
    return result
