"""The watcher's posts when DoiT sends hostile ticket data."""

from __future__ import annotations

import contextlib
import json

import pytest

from bot.fakeslack import FakeSlack
from bot.notify.subscriptions import add_subscription, subscription_query
from bot.services import Services
from bot.support.sandbox import Sandbox
from tests.hostile.common import all_problems
from tests.notify.helpers import RecordingClient, make_watcher

HOSTILE = "<!channel> x & <https://evil.example|y>"


def _subscribe(services: Services, channel: str, text: str, user: str = "U0DANA") -> None:
    add_subscription(services.store, channel, user, subscription_query(text))


def _posts(slack: FakeSlack, channel: str) -> list[dict]:
    return [c.args for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == channel]


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": HOSTILE},
        {"subject": "\U0001f525" * 1600},
        {"subject": HOSTILE, "severity": "critical", "product": "a|b>c<!here>"},
        {"subject": HOSTILE, "status": "escalated"},
        {"subject": HOSTILE, "status": "<!here>"},
        {"subject": HOSTILE, "requester": "not-an-email"},
        {"subject": HOSTILE, "requester": None},
        {"subject": "*" * 3000 + HOSTILE},
    ],
    ids=["subject", "emoji", "sev_product", "escalated", "here", "bad_requester", "no_requester", "stars"],
)
def test_new_ticket_post_when_doit_sends_hostile_fields_is_valid_and_escaped(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient, fields: dict
) -> None:
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    _subscribe(services, "C0SUPPORT", "")
    sandbox.add_ticket(**fields)
    report = watcher.run_cycle()
    posts = _posts(slack, "C0SUPPORT")
    assert len(posts) == 1, report
    dumped = json.dumps(posts[0])
    assert "<!channel>" not in dumped and "<!here>" not in dumped
    assert "<https://evil" not in dumped
    assert all_problems(slack) == []


def _cycle(watcher) -> None:
    # In production run_forever logs the exception and tries again next cycle; the test asks
    # whether that next cycle gets anywhere.
    with contextlib.suppress(Exception):
        watcher.run_cycle()


@pytest.mark.parametrize("status", ["waiting-for-third-party-vendor-response", "<!here>" * 6])
def test_new_ticket_with_status_over_32_chars_when_watched_does_not_stop_all_notifications(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient, status: str
) -> None:
    # snapshots.status is String(32): PostgreSQL refuses the row (DataError, not IntegrityError),
    # the cycle's transaction rolls back with the watermark, and every later cycle hits it again.
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    _subscribe(services, "C0SUPPORT", "")
    sandbox.add_ticket(subject="odd status", status=status)
    _cycle(watcher)
    later = sandbox.add_ticket(subject="a normal ticket")
    _cycle(watcher)
    keys = [p["metadata"]["event_payload"]["key"] for p in _posts(slack, "C0SUPPORT")]
    assert f"new:{later['id']}:C0SUPPORT" in keys


def test_new_ticket_with_20_digit_id_when_watched_does_not_stop_all_notifications(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    # 10**19 overflows BIGINT / SQLite INTEGER (OverflowError, DataError) in load_some: each cycle dies.
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    _subscribe(services, "C0SUPPORT", "")
    sandbox.add_ticket(subject="huge id", id=10**19 + 7)
    _cycle(watcher)
    normal = sandbox.add_ticket(subject="a normal ticket", id=501)
    _cycle(watcher)
    keys = [p["metadata"]["event_payload"]["key"] for p in _posts(slack, "C0SUPPORT")]
    assert f"new:{normal['id']}:C0SUPPORT" in keys
