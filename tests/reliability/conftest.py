"""The real Bolt app over the DoiT sandbox and the fake Slack, with production retry settings.

Unlike the notify tests, the DoiT client keeps its default retry policy and budgets: how long a
user waits for a sentence while DoiT is down is exactly what this suite measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import build_app
from bot.config import Settings, load_settings
from bot.fakeslack import FakeSlack
from bot.services import Services
from bot.support.sandbox import DEFAULT_API_KEY, Sandbox
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET, SlackDriver


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tickets=60, seed=13) as running:
        yield running


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def settings(sandbox: Sandbox, slack: FakeSlack, tmp_path: Path) -> Settings:
    return load_settings(
        None,
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_base_url=slack.api_url,
        doit_api_key=SecretStr(DEFAULT_API_KEY),
        doit_api_base_url=sandbox.base_url,
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = Services.from_settings(settings)
    yield built
    built.close()


@pytest.fixture
def driver(settings: Settings, services: Services, slack: FakeSlack) -> Iterator[SlackDriver]:
    app = build_app(settings, services)
    yield SlackDriver(app=app, slack=slack)
    app.listener_runner.listener_executor.shutdown(wait=True)
