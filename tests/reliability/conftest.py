"""The real Bolt app over the DoiT sandbox and the fake Slack, with production retry settings.

Unlike the notify tests, the DoiT client keeps its default retry policy and budgets: how long a
user waits for a sentence while DoiT is down is exactly what this suite measures. The fixtures
are the Slack suite's, over a smaller sandbox of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.support.sandbox import Sandbox
from tests.slack.conftest import driver, services, settings, settings_overrides, slack  # noqa: F401


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tickets=60, seed=13) as running:
        yield running
