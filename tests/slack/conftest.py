"""The real Bolt app wired to a loopback fake Slack and the DoiT sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_app
from bot.config import Settings
from bot.fakeslack import FakeSlack
from bot.services import Services
from bot.support.sandbox import Sandbox
from tests.slack.harness import BOT_TOKEN, SlackDriver, bot_settings


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tickets=120, seed=11) as running:
        yield running


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Tests override single settings by extending this dict."""
    return {}


@pytest.fixture
def settings(
    sandbox: Sandbox, slack: FakeSlack, tmp_path: Path, settings_overrides: dict[str, object]
) -> Settings:
    return bot_settings(slack.api_url, sandbox.base_url, tmp_path, **settings_overrides)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = Services.from_settings(settings)
    yield built
    built.close()


@pytest.fixture
def driver(settings: Settings, services: Services, slack: FakeSlack) -> Iterator[SlackDriver]:
    app = build_app(settings, services)
    yield SlackDriver(app=app, slack=slack)
    # Let listeners still working after their ack finish before the fake servers go away.
    app.listener_runner.listener_executor.shutdown(wait=True)
