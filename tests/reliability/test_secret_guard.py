"""The secret guard itself: what it catches, what it lets through, and that it fails the run.

These tests feed records and calls to a guard of their own; nothing here goes through logging or
a fake Slack with a secret in it, or the session's guard would rightly fail this very run.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

from slack_sdk import WebClient

from bot.fakeslack import Call, FakeSlack
from bot.support.sandbox import DEFAULT_API_KEY
from tests.reliability.secret_guard import SecretGuard
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[2]


def record(message: str, *args: object, name: str = "bot.slack.listing", exc: BaseException | None = None):
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, exc_info)


def found(guard: SecretGuard) -> list[tuple[str, str]]:
    return [(finding.secret, finding.where) for finding in guard.findings]


def test_guard_when_a_record_argument_holds_the_bot_token_reports_it() -> None:
    guard = SecretGuard()
    guard.emit(record("calling Slack with %s", BOT_TOKEN))

    assert found(guard) == [("the Slack bot token", "log record of bot.slack.listing")]


def test_guard_when_a_traceback_holds_the_doit_key_reports_it() -> None:
    guard = SecretGuard()
    try:
        raise RuntimeError(f"GET /tickets?key={DEFAULT_API_KEY} failed")
    except RuntimeError as exc:
        guard.emit(record("DoiT failed", exc=exc))

    assert found(guard) == [("the DoiT API key", "log record of bot.slack.listing")]


def test_guard_when_a_record_holds_any_token_shaped_string_reports_it() -> None:
    guard = SecretGuard()
    guard.emit(record("app token is xapp-1-A0DOIT-123-abcdef and user token xoxp-9-8-7"))

    assert found(guard) == [("a Slack-token-shaped string", "log record of bot.slack.listing")] * 2


def test_guard_when_records_are_clean_reports_nothing() -> None:
    guard = SecretGuard()
    guard.emit(record("DoiT %s %s -> %d in %.0f ms", "GET", "/support/v1/tickets", 200, 12.0))
    guard.emit(record("token shape without a body: xoxb- and xapp-"))

    assert guard.findings == []


def test_guard_lets_the_sandbox_cli_show_its_own_demo_key() -> None:
    guard = SecretGuard()
    guard.emit(
        record("DoiT sandbox at %s with API key %s", "http://127.0.0.1:1", "k", name="bot.support.sandbox")
    )
    guard.emit(record("leaked %s", DEFAULT_API_KEY, name="bot.support.sandbox"))

    assert found(guard) == [("the DoiT API key", "log record of bot.support.sandbox")]


def test_guard_when_a_slack_payload_holds_the_signing_secret_reports_it() -> None:
    guard = SecretGuard()
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"secret: {SIGNING_SECRET}"}}]
    guard.observe_call(Call("chat.postMessage", {"channel": "C0SUPPORT", "blocks": blocks}, {}, "bot"))

    assert found(guard) == [("the Slack signing secret", "Slack chat.postMessage payload")]


def test_fake_slack_shows_every_recorded_call_to_its_observers() -> None:
    seen: list[str] = []
    FakeSlack.call_observers.append(lambda call: seen.append(call.method))
    try:
        with FakeSlack(bot_token=BOT_TOKEN) as slack:
            WebClient(token=BOT_TOKEN, base_url=slack.api_url).chat_postMessage(
                channel="C0SUPPORT", text="hi"
            )
    finally:
        FakeSlack.call_observers.pop()

    assert seen == ["chat.postMessage"]


def test_a_run_whose_test_logs_the_bot_token_fails_with_the_finding(tmp_path: Path) -> None:
    test_file = tmp_path / "test_leaky.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import logging

            from tests.slack.harness import BOT_TOKEN


            def test_leaks():
                logging.getLogger("bot.leaky").info("using %s", BOT_TOKEN)
            """
        )
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.reliability.secret_guard",
            "-q",
            "-p",
            "no:cacheprovider",
            str(test_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 1
    assert "1 passed" in run.stdout
    assert "test_leaky.py::test_leaks: the Slack bot token in a log record of bot.leaky" in run.stdout
