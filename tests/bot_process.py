"""`doit-slack run` as a child process, wired to loopback stand-ins, for the end-to-end suites."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.fakeslack import FakeSlack
from bot.support.sandbox import DEFAULT_API_KEY, Sandbox
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bot_environment(slack: FakeSlack, sandbox: Sandbox, workdir: Path, **settings: str) -> dict[str, str]:
    """The environment of a bot that talks only to ``slack`` and ``sandbox``; ``settings`` override."""
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": "",
        "SLACK_API_BASE_URL": slack.api_url,
        "DOIT_API_KEY": DEFAULT_API_KEY,
        "DOIT_API_BASE_URL": sandbox.base_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.sqlite3'}",
        "LOG_LEVEL": "INFO",
        "HOST": "127.0.0.1",  # tests never listen beyond loopback
        **settings,
    }


@dataclass
class BotProcess:
    process: subprocess.Popen[bytes]
    base_url: str | None
    secrets: tuple[str, ...]
    output: str = field(default="")


@contextmanager
def running_bot(
    env: dict[str, str],
    workdir: Path,
    *,
    args: tuple[str, ...] = ("run", "--no-watcher"),
    ready: Callable[[BotProcess], bool] | None = None,
    timeout: float = 20.0,
) -> Iterator[BotProcess]:
    """Start the bot, wait until ``ready`` (by default: HTTP ``/healthz`` answers), stop it after.

    On the way out the bot's whole output is searched for every token and key it was given.
    """
    port = env.get("PORT")
    base_url = f"http://127.0.0.1:{port}" if port else None
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    secrets = tuple(
        env[name] for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DOIT_API_KEY") if env.get(name)
    )
    bot = BotProcess(process=process, base_url=base_url, secrets=secrets)
    check = ready or _health_answers
    deadline = time.monotonic() + timeout
    while not check(bot):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the bot did not come up:\n{process.communicate()[0].decode()}")
        time.sleep(0.1)
    try:
        yield bot
    finally:
        process.terminate()
        try:
            bot.output = process.communicate(timeout=15)[0].decode()
        except subprocess.TimeoutExpired:
            process.kill()
            bot.output = process.communicate()[0].decode()
    leaked = [secret[:8] + "…" for secret in bot.secrets if secret in bot.output]
    assert not leaked, f"the bot printed secrets starting {leaked}"


def _health_answers(bot: BotProcess) -> bool:
    assert bot.base_url, "set PORT for an HTTP bot, or pass ready="
    try:
        return httpx.get(f"{bot.base_url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
