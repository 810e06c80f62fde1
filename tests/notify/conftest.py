"""A watcher against the DoiT sandbox and the fake Slack, on the database under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.fakeslack import FakeSlack
from bot.services import Services
from bot.store import Store
from bot.support.sandbox import Sandbox
from tests.notify.helpers import RecordingClient, make_services, make_settings, make_slack_client


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tickets=40, seed=5) as running:
        yield running


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, sandbox: Sandbox, slack: FakeSlack) -> Settings:
    return make_settings(database_url=database_url, doit_url=sandbox.base_url, slack_url=slack.api_url)


@pytest.fixture
def services(settings: Settings, store: Store) -> Iterator[Services]:
    built = make_services(settings, store)
    yield built
    built.support.close()


@pytest.fixture
def client(settings: Settings) -> RecordingClient:
    return make_slack_client(settings)
