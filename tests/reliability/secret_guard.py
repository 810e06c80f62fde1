"""A pytest plugin: the whole test run fails if a log record or a Slack payload holds a secret.

Registered from ``tests/conftest.py``. For the whole session it

- adds a handler to the root logger that formats every record (message and traceback text)
  before any other handler's filter could redact it, and lowers the ``bot`` loggers to DEBUG so
  the payload-level lines are scanned too;
- watches every call any :class:`~bot.fakeslack.FakeSlack` records (messages, views, response_url
  posts: what the bot sent to Slack), through ``FakeSlack.call_observers``;

and looks in both for the suite's Slack tokens, signing secret and DoiT key, and for anything
shaped like a Slack token (``xoxb-``, ``xoxp-``, ``xapp-``...).

Why the session's exit status and not a last test: a test placed last stops being last under
``-k``, ``--lf``, ``-x``, a random order or a subset run, and it cannot see records logged after
it. ``pytest_sessionfinish`` runs once everything else has, whatever was selected; setting
``session.exitstatus`` there is what pytest returns, and the terminal summary lists each finding
with the test it happened in.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import pytest

from bot.fakeslack import Call, FakeSlack
from bot.support.sandbox import DEFAULT_API_KEY
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET

logger = logging.getLogger(__name__)

TOKEN_SHAPE = re.compile(r"\b(?:xox[abposr]|xapp)-[0-9A-Za-z][0-9A-Za-z-]{4,}")
KNOWN_SECRETS = {
    "the Slack bot token": BOT_TOKEN,
    "the Slack signing secret": SIGNING_SECRET,
    "the DoiT API key": DEFAULT_API_KEY,
}
ALLOWED = (("bot.support.sandbox", "DoiT sandbox at "),)
"""(logger, message start) of records that show a secret on purpose: `doit-slack sandbox` tells the
person who started it which demo key to use."""
SCANNED_LOGGERS = ("bot",)
"""Loggers lowered to DEBUG for the session; the rest keep their level (their DEBUG is noise)."""


@dataclass(frozen=True)
class Finding:
    test: str
    where: str
    secret: str
    excerpt: str


class SecretGuard(logging.Handler):
    """Collects every place a secret showed up: a logging handler and a FakeSlack call observer."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        super().__init__(level=logging.NOTSET)
        self.secrets = dict(KNOWN_SECRETS if secrets is None else secrets)
        self.findings: list[Finding] = []
        self.current_test = "(outside any test)"
        self._found_lock = threading.Lock()

    def scan(self, text: str, where: str) -> None:
        """Note each secret in ``text``; ``where`` says what the text was."""
        for name, value in self._matches(text):
            start = max(0, text.find(value) - 60)
            excerpt = text[start : start + 160].replace("\n", " ")
            with self._found_lock:
                self.findings.append(Finding(self.current_test, where, name, excerpt))

    def _matches(self, text: str) -> Iterable[tuple[str, str]]:
        for name, value in self.secrets.items():
            if value and value in text:
                yield name, value
        for match in TOKEN_SHAPE.finditer(text):
            if match.group(0) not in self.secrets.values():
                yield "a Slack-token-shaped string", match.group(0)

    def emit(self, record: logging.LogRecord) -> None:
        if any(record.name == name and str(record.msg).startswith(start) for name, start in ALLOWED):
            return
        try:
            text = logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)
        except Exception:  # a record whose arguments do not format: scan what there is
            text = f"{record.msg!r} {record.args!r}"
        self.scan(text, f"log record of {record.name}")

    def observe_call(self, call: Call) -> None:
        """A FakeSlack call observer: scan the arguments the bot sent (tokens are not among them)."""
        self.scan(json.dumps(call.args, ensure_ascii=False, default=str), f"Slack {call.method} payload")

    def report(self) -> list[str]:
        return [f"{f.test}: {f.secret} in a {f.where}: ...{f.excerpt}..." for f in self.findings]


_GUARD_KEY = pytest.StashKey[SecretGuard]()
_LEVELS_KEY = pytest.StashKey[dict[str, int]]()


def pytest_configure(config: pytest.Config) -> None:
    guard = SecretGuard()
    config.stash[_GUARD_KEY] = guard
    config.stash[_LEVELS_KEY] = {name: logging.getLogger(name).level for name in SCANNED_LOGGERS}
    for name in SCANNED_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger().addHandler(guard)
    FakeSlack.call_observers.append(guard.observe_call)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    guard = item.config.stash.get(_GUARD_KEY, None)
    if guard is not None:
        guard.current_test = item.nodeid


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    guard = session.config.stash.get(_GUARD_KEY, None)
    if guard is not None and guard.findings and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    guard = terminalreporter.config.stash.get(_GUARD_KEY, None)
    if guard is None or not guard.findings:
        return
    terminalreporter.section("secrets leaked", sep="=", red=True, bold=True)
    for line in guard.report():
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(_GUARD_KEY, None)
    if guard is None:
        return
    logging.getLogger().removeHandler(guard)
    if guard.observe_call in FakeSlack.call_observers:
        FakeSlack.call_observers.remove(guard.observe_call)
    for name, level in config.stash.get(_LEVELS_KEY, {}).items():
        logging.getLogger(name).setLevel(level)
