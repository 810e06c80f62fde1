"""The processes and stand-ins the benchmarks run against, all on the loopback interface.

The bot is the real ``doit-slack run`` under gunicorn in a subprocess; the DoiT sandbox and the
fake Slack Web API run in the benchmark's own process so it can inject latency and count calls.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.fakeslack import Call, FakeSlack

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
SIGNING_SECRET = "bench-signing-secret-0123456789"
BOT_TOKEN = "xoxb-bench-bot-token-0123456789"
START_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TimedSlack(FakeSlack):
    """The fake Slack, also noting when each response_url post arrived (``time.perf_counter``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrivals: dict[str, float] = {}
        self._waiting: dict[str, threading.Event] = {}

    def expect(self, response_url: str) -> threading.Event:
        """An event set when the first post to ``response_url`` arrives."""
        event = threading.Event()
        with self._lock:
            self._waiting[response_url] = event
        return event

    def forget(self) -> None:
        """Drop the recorded calls and arrival times between benchmark rounds."""
        with self._lock:
            self.clear()
            self.arrivals.clear()
            self._waiting.clear()

    def _record(self, call: Call) -> None:
        # NOTE: FakeSlack has no public arrival hook; this private override is the bench's only one.
        super()._record(call)
        url = call.args.get("_url") if call.method == "response_url" else None
        if url and url not in self.arrivals:
            self.arrivals[url] = time.perf_counter()
            event = self._waiting.pop(url, None)
            if event is not None:
                event.set()


@dataclass
class Served:
    """A Slack app served by gunicorn in a subprocess; ``url`` is its ``/slack/events`` endpoint."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def url(self) -> str:
        return self.base_url + "/slack/events"

    def worker_pid(self) -> int:
        """The gunicorn worker, where the app and its memory live (the master only supervises)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        if not children:
            raise RuntimeError(f"{self.name}: gunicorn has no worker process")
        return int(children[0])

    def stop(self) -> None:
        """Stop gunicorn (it stops its worker) and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def rss_kib(pid: int) -> int:
    """Resident memory of a process in KiB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, from /proc/<pid>/stat."""
    # The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def slack_env(slack: FakeSlack, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": "",
        "SLACK_API_BASE_URL": slack.api_url,
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }


WHAT_IF = {"WEB_CONCURRENCY": "2"}
"""Settings of the what-if bot: two gunicorn workers, so acks and listeners use both cores."""


def start_bot(
    slack: FakeSlack, doit_url: str, api_key: str, workdir: Path, *, what_if: bool = False
) -> Served:
    """`doit-slack run --no-watcher` against the fake Slack and the sandbox, on a free port."""
    port = free_port()
    env = {
        **slack_env(slack, port),
        "DOIT_API_KEY": api_key,
        "DOIT_API_BASE_URL": doit_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.sqlite3'}",
        "LOG_LEVEL": "INFO",
        "HOST": "127.0.0.1",  # the benchmark stays on loopback
        **(WHAT_IF if what_if else {}),
    }
    argv = [sys.executable, "-m", "bot", "run", "--no-watcher"]
    return _start("bot-what-if" if what_if else "bot", argv, env, port, workdir)


def start_bare(slack: FakeSlack, workdir: Path) -> Served:
    """The ack-only Bolt app of ``bench/bare_app.py`` on a free port."""
    port = free_port()
    argv = [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(port)]
    return _start("bare", argv, slack_env(slack, port), port, workdir)


def _start(name: str, argv: list[str], env: dict[str, str], port: int, workdir: Path) -> Served:
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    served = Served(name, process, f"http://127.0.0.1:{port}", log_path)
    _wait_until_up(served)
    return served


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            break
        try:
            # Any answer from /healthz (the bare app has none and says 404) means gunicorn is serving.
            httpx.get(served.base_url + "/healthz", timeout=1)
            served.worker_pid()
            return
        except (httpx.TransportError, RuntimeError, FileNotFoundError):
            time.sleep(0.1)
    served.stop()
    output = served.log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"{served.name} did not come up on {served.base_url}:\n{output}")
