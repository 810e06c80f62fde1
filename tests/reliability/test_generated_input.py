"""Generated command text and form values: the app always answers, never crashes, never breaks a limit.

Every payload the app hands the fake Slack while handling an example is checked with the limits
validator of ``bot.blocks.limits`` (messages and views), and every write must have been accepted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.app import build_app
from bot.blocks import ids
from bot.blocks.limits import message_problems, view_problems
from bot.config import Settings
from bot.fakeslack import Call, FakeSlack
from bot.services import Services
from bot.support.sandbox import Sandbox
from tests.reliability.helpers import open_create_form
from tests.slack.harness import SlackDriver, bot_settings, filled_form, submission

pytestmark = pytest.mark.slow

MESSAGE_METHODS = frozenset({"response_url", "chat.postMessage", "chat.postEphemeral", "chat.update"})
VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})
SUBCOMMAND_WORDS = ("", "help", "new", "list", "ls", "show", "subscribe", "subscriptions", "unsubscribe")
FORM_BLOCKS = frozenset(
    {ids.SUBJECT, ids.DESCRIPTION, ids.SEVERITY, ids.PLATFORM, ids.PRODUCT, ids.REQUESTER}
)
UNEXPECTED = "Something went wrong on my side"

# Text people paste: mrkdwn control characters, mentions, links, emoji with joiners, other
# scripts and whitespace of every kind. (No lone surrogates: Slack sends valid UTF-8 only.)
TRICKY = st.sampled_from(
    (
        *("&", "<", ">", "<!channel>", "<@U0DANA>", "<https://evil.example|x>", "*", "_", "`", "~"),
        *("🔥", "👩\u200d💻", "🏳️\u200d🌈", "é", "東京", "\u200d", "\ufe0f"),
        *(" ", "\n", "\t", "\u00a0", '"', "\\", ":", "#"),
    )
)
TEXT = st.lists(
    st.one_of(st.text(st.characters(exclude_categories=["Cs"]), max_size=40), TRICKY), max_size=60
).map("".join)
COMMAND_TEXT = st.tuples(st.sampled_from(SUBCOMMAND_WORDS), TEXT).map(lambda parts: f"{parts[0]} {parts[1]}")
LONG_TEXT = st.one_of(TEXT, st.tuples(TEXT, st.integers(1, 400)).map(lambda parts: parts[0] * parts[1]))
EMAIL = st.one_of(st.emails(), TEXT)


class TrackedExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, remembering what it ran so a test can wait for every listener."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="listener")
        self.futures: list[Future[Any]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        self.futures.append(future)
        return future

    def drain(self) -> None:
        _, pending = wait(self.futures, timeout=15)
        self.futures.clear()
        assert not pending, f"{len(pending)} listeners still running after 15 s"


@pytest.fixture
def lenient_settings(sandbox: Sandbox, slack: FakeSlack, tmp_path: Path) -> Settings:
    # One person files every example's ticket.
    return bot_settings(slack.api_url, sandbox.base_url, tmp_path, doit_create_limit=100_000)


@pytest.fixture
def tracked(lenient_settings: Settings, slack: FakeSlack) -> Iterator[tuple[SlackDriver, TrackedExecutor]]:
    services = Services.from_settings(lenient_settings)
    app = build_app(lenient_settings, services)
    app.listener_runner.listener_executor.shutdown(wait=True)
    executor = TrackedExecutor()
    app.listener_runner.listener_executor = executor
    yield SlackDriver(app=app, slack=slack), executor
    executor.shutdown(wait=True)
    services.close()


def payload_problems(calls: list[Call]) -> list[str]:
    """Every limit a payload breaks, and every write Slack refused, as readable lines."""
    problems = []
    for call in calls:
        if call.method in MESSAGE_METHODS:
            found = message_problems(call.args.get("text"), call.args.get("blocks") or [])
        elif call.method in VIEW_METHODS:
            view = call.args.get("view")
            found = view_problems(view) if isinstance(view, dict) else [f"view is {view!r}"]
        else:
            continue
        problems += [f"{call.method}: {problem}" for problem in found]
        if not call.ok:
            problems.append(f"{call.method} refused: {call.response}")
    return problems


def errors_logged(caplog: pytest.LogCaptureFixture, since: int) -> list[str]:
    return [r.getMessage() for r in caplog.records[since:] if r.levelno >= logging.ERROR]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=COMMAND_TEXT)
def test_any_command_text_gets_an_answer_within_slacks_limits(
    tracked: tuple[SlackDriver, TrackedExecutor],
    slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    text: str,
) -> None:
    driver, executor = tracked
    calls_before, records_before = len(slack.calls), len(caplog.records)

    response, response_url = driver.command(text)
    executor.drain()

    calls = slack.calls[calls_before:]
    answered = [c for c in calls if c.args.get("_url") == response_url or c.method == "views.open"]
    event(f"answered with {answered[0].method if answered else 'nothing'}")
    assert response.status == 200
    assert answered, f"no answer to {text!r}"
    assert payload_problems(calls) == []
    assert UNEXPECTED not in json.dumps([c.args for c in calls], ensure_ascii=False)
    assert errors_logged(caplog, records_before) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=LONG_TEXT, description=LONG_TEXT, requester=EMAIL, severity=st.sampled_from(["low", "urgent"]))
def test_any_form_values_get_errors_or_a_ticket_within_slacks_limits(
    tracked: tuple[SlackDriver, TrackedExecutor],
    slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    subject: str,
    description: str,
    requester: str,
    severity: str,
) -> None:
    driver, executor = tracked
    form = open_create_form(driver, slack)
    executor.drain()
    calls_before, records_before = len(slack.calls), len(caplog.records)
    values = filled_form(subject=subject, description=description, requester=requester, severity=severity)

    response = driver.interact(submission(form, values))
    executor.drain()

    ack = json.loads(response.body)
    calls = slack.calls[calls_before:]
    event(f"ack: {ack['response_action']} {sorted(ack.get('errors', {}))}")
    assert response.status == 200
    if ack["response_action"] == "errors":
        assert set(ack["errors"]) <= FORM_BLOCKS
        assert all(0 < len(message) <= 2000 for message in ack["errors"].values())
        assert calls == []
    else:
        assert ack["response_action"] == "update"
        assert view_problems(ack["view"]) == []
        results = [c.args["view"]["callback_id"] for c in calls if c.method == "views.update"]
        assert results in ([ids.FILED_CALLBACK], [ids.CREATE_CALLBACK])  # filed, or the form to retry
    assert payload_problems(calls) == []
    assert errors_logged(caplog, records_before) == []
