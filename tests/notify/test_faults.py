"""The watcher when Slack refuses a channel, and when sixty changes arrive at once."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from bot.fakeslack import FakeSlack
from bot.notify.subscriptions import add_subscription, list_subscriptions, subscription_query
from bot.services import Services
from bot.store import deliveries
from bot.support.sandbox import Sandbox
from tests.notify.helpers import RecordingClient, delivery_keys, make_watcher


@pytest.mark.parametrize(("channel", "error"), [("C0NOTIN", "not_in_channel"), ("C0ARCHIVED", "is_archived")])
def test_refused_channel_pauses_its_subscriptions_and_tells_the_subscriber(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient, channel: str, error: str
) -> None:
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    add_subscription(services.store, channel, "U0LEE", subscription_query("severity:high"))
    add_subscription(services.store, channel, "U0LEE", subscription_query("platform:gcp"))
    sandbox.add_ticket(subject="Nobody hears", severity="high", platform="google_cloud_platform")

    report = watcher.run_cycle()
    sandbox.add_ticket(subject="Still nobody", severity="high")
    later = watcher.run_cycle()

    assert [call.response["error"] for call in slack.calls_to("chat.postMessage")[:1]] == [error]
    assert [(sub.number, sub.paused_reason) for sub in list_subscriptions(services.store, channel)] == [
        (1, error),
        (2, error),
    ]
    notices = [call.args for call in slack.calls_to("chat.postMessage") if call.args["channel"] == "U0LEE"]
    assert [notice["text"] for notice in notices] == [
        f"I paused 2 subscriptions of <#{channel}>: "
        + ("I'm no longer a member of" if error == "not_in_channel" else f"<#{channel}> was archived")
        + (f" <#{channel}>." if error == "not_in_channel" else ".")
    ]
    assert (report.deliveries_made, report.deliveries_pending) == (1, 0)
    assert (later.changes, later.deliveries_recorded) == (1, 0)
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_sixty_changes_at_once_are_delivered_once_each_at_the_channel_pace(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    tickets = [
        sandbox.add_ticket(subject=f"Batch {n}", status="open", requester="x@example.org") for n in range(60)
    ]
    pace = 0.02
    watcher = make_watcher(services, client, post_interval=pace)
    watcher.run_cycle()
    add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query(""))
    for ticket in tickets:
        sandbox.set_status(ticket["id"], "pending")

    report = watcher.run_cycle()
    again = watcher.run_cycle()

    keys = delivery_keys(slack.messages.values())
    assert sorted(keys) == sorted(f"change:{ticket['id']}:v1:C0SUPPORT" for ticket in tickets)
    assert (report.changes, report.deliveries_made, report.deliveries_pending) == (60, 60, 0)
    assert (again.changes, again.deliveries_made) == (0, 0)
    times = [at for method, channel, at in client.writes if channel == "C0SUPPORT"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(times) == 60
    assert min(gaps) >= pace * 0.95
    with services.store.engine.connect() as conn:
        outcomes = conn.execute(select(deliveries.c.kind, deliveries.c.outcome, deliveries.c.attempts)).all()
    # The requester is not in the workspace: their DMs are recorded, then skipped without a Slack post.
    assert sorted(set(outcomes)) == [("dm_requester", "skipped", 0), ("post_change", "sent", 1)]
    assert len(outcomes) == 120
