"""Status changes, card redraws, requester DMs and pause notices with hostile DoiT data."""

from __future__ import annotations

import json

import pytest

from bot.fakeslack import FakeSlack
from bot.notify.cards import record_card
from bot.notify.subscriptions import add_subscription, subscription_query
from bot.services import Services
from bot.support.sandbox import Sandbox
from tests.hostile.common import all_problems
from tests.notify.helpers import RecordingClient, make_watcher

HOSTILE = "<!channel> x & <https://evil.example|y>"


def _sent(slack: FakeSlack) -> str:
    return json.dumps([c.args for c in slack.calls if c.method in ("chat.postMessage", "chat.update")])


@pytest.mark.parametrize("new_status", ["escalated", "<!here>", "solved", "pending", "closed"])
@pytest.mark.parametrize("requester", ["lee@example.com", "not-an-email", None])
def test_status_change_of_hostile_ticket_when_watched_redraws_replies_and_dms_validly(
    services: Services,
    sandbox: Sandbox,
    slack: FakeSlack,
    client: RecordingClient,
    new_status: str,
    requester: str | None,
) -> None:
    ticket = sandbox.add_ticket(
        subject=HOSTILE, status="open", severity="critical", product="a|b>c", requester=requester
    )
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    posted = client.chat_postMessage(channel="C0GENERAL", text="the card")
    record_card(services.store, ticket["id"], "C0GENERAL", posted["ts"], "open", filed_by="U0DANA")
    add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query(""))
    sandbox.set_status(ticket["id"], new_status)
    report = watcher.run_cycle()
    assert report.deliveries_pending == 0, report
    sent = _sent(slack)
    assert "<!channel>" not in sent and "<!here>" not in sent and "<https://evil" not in sent
    assert all_problems(slack) == []
    assert len(slack.thread("C0GENERAL", posted["ts"])) == 1


def test_status_change_to_empty_status_when_posted_records_the_card_so_it_is_not_posted_twice(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    # Watcher._delivered saves the card only `if ... and status`: a ticket whose status DoiT sends
    # as null/"" gets its card posted but not recorded, so the next change posts a second card.
    ticket = sandbox.add_ticket(subject="Null status", status="open")
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query(""))
    sandbox.set_status(ticket["id"], "")
    watcher.run_cycle()
    sandbox.set_status(ticket["id"], "open")
    watcher.run_cycle()
    cards = [
        c.args
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "C0SUPPORT" and not c.args.get("thread_ts")
    ]
    assert len(cards) == 1, [c["metadata"]["event_payload"]["key"] for c in cards]


def test_subscription_to_a_platform_the_catalog_then_dropped_when_its_ticket_arrives_still_posts_it(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    # The stored canonical query is `platform:my_cloud`; when DoiT's catalog no longer lists it the
    # watcher logs "Skipping subscription" every cycle and the channel silently hears nothing,
    # even for a ticket DoiT sends on that very platform.
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    query = subscription_query('platform:"My Cloud"', platforms={"my_cloud": "My Cloud"})
    add_subscription(services.store, "C0SUPPORT", "U0DANA", query)
    ticket = sandbox.add_ticket(subject="On a platform the catalog dropped", platform="my_cloud")
    watcher.run_cycle()
    keys = [
        c.args["metadata"]["event_payload"]["key"]
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "C0SUPPORT"
    ]
    assert keys == [f"new:{ticket['id']}:C0SUPPORT"]


@pytest.mark.parametrize("status", ["Solved", "PENDING"])
def test_status_change_to_capitalised_solved_when_watched_still_dms_the_requester(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient, status: str
) -> None:
    # The card and reply treat status case-insensitively (":white_check_mark: Solved"), but
    # fanout's `ticket.status not in DM_STATUSES` is exact: the requester's DM is lost.
    ticket = sandbox.add_ticket(subject="Quota", status="open", requester="lee@example.com")
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    sandbox.set_status(ticket["id"], status)
    watcher.run_cycle()
    dms = [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0LEE"]
    assert len(dms) == 1


def test_pause_notice_of_hostile_queries_when_channel_refuses_is_valid_and_escaped(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    queries = ['"<!channel> & <https://evil.example|y>"', '"' + "\U0001f525" * 450 + '"', "severity:urgent"]
    for text in queries:
        add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query(text))
    slack.fail("chat.postMessage", "not_in_channel", channel="C0SUPPORT", times=5)
    sandbox.add_ticket(subject=HOSTILE + " " + "\U0001f525" * 1600, severity="urgent")
    watcher.run_cycle()
    watcher.run_cycle()
    notices = [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0DANA"]
    assert len(notices) == 1
    sent = json.dumps(notices)
    assert "<!channel>" not in sent and "<https://evil" not in sent
    assert all_problems(slack) == []
