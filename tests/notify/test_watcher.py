"""The watcher end to end: the DoiT sandbox moves tickets, the fake Slack receives what is posted."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.fakeslack import FakeSlack
from bot.notify.cards import card_in, cards_of, record_card
from bot.notify.subscriptions import add_subscription, subscription_query
from bot.notify.watcher import start_in_thread
from bot.services import Services
from bot.store import snapshots, watcher_state
from bot.support.errors import TicketNotFound
from bot.support.sandbox import Sandbox
from tests.notify.helpers import RecordingClient, delivery_keys, make_watcher


def _subscribe(services: Services, channel: str, text: str, user: str = "U0DANA") -> None:
    add_subscription(services.store, channel, user, subscription_query(text))


def _posts(slack: FakeSlack, channel: str) -> list[dict]:
    return [call.args for call in slack.calls_to("chat.postMessage") if call.args.get("channel") == channel]


def test_first_cycle_when_tickets_exist_records_a_baseline_and_posts_nothing(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    _subscribe(services, "C0SUPPORT", "")
    report = make_watcher(services, client).run_cycle()
    assert (report.leader, report.baseline, report.changes, report.deliveries_made) == (True, True, 0, 0)
    assert report.tickets_seen == len(
        [t for t in sandbox.tickets() if t["status"] in ("new", "open", "pending", "hold")]
    )
    assert slack.calls_to("chat.postMessage") == []


def test_new_ticket_when_two_subscriptions_match_is_posted_once_in_that_channel(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    _subscribe(services, "C0SUPPORT", "severity:high")
    _subscribe(services, "C0SUPPORT", "platform:aws")
    _subscribe(services, "C0GENERAL", "severity:low")
    ticket = sandbox.add_ticket(subject="VPN down", severity="high", platform="amazon_web_services")

    report = watcher.run_cycle()

    posts = _posts(slack, "C0SUPPORT")
    assert [post["metadata"]["event_payload"]["key"] for post in posts] == [f"new:{ticket['id']}:C0SUPPORT"]
    assert _posts(slack, "C0GENERAL") == []
    assert (report.changes, report.deliveries_made, report.deliveries_pending) == (1, 1, 0)
    card = card_in(services.store, ticket["id"], "C0SUPPORT")
    assert card is not None and card.status == "new"


def test_status_change_of_a_card_updates_it_in_place_and_threads_a_reply(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    ticket = sandbox.add_ticket(subject="Quota", status="open", requester="lee@example.com")
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    posted = client.chat_postMessage(channel="C0GENERAL", text="the card")
    record_card(services.store, ticket["id"], "C0GENERAL", posted["ts"], "open", filed_by="U0DANA")
    sandbox.set_status(ticket["id"], "pending")

    report = watcher.run_cycle()

    assert report.changes == 1
    updated = slack.message("C0GENERAL", posted["ts"])
    assert "pending" in updated["text"]
    replies = slack.thread("C0GENERAL", posted["ts"])
    assert [reply["text"] for reply in replies] == [f"Ticket #{ticket['id']}: open → pending"]
    assert delivery_keys(replies) == [f"reply:{ticket['id']}:v1:C0GENERAL"]
    dms = [call.args for call in slack.calls_to("chat.postMessage") if call.args["channel"] == "U0LEE"]
    assert [dm["text"] for dm in dms] == [f"DoiT is waiting for your answer on ticket #{ticket['id']}"]
    assert [card.status for card in cards_of(services.store, ticket["id"])] == ["pending"]


def test_status_change_in_a_subscribed_channel_without_a_card_posts_the_card_then_updates_it(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    ticket = sandbox.add_ticket(subject="Billing export", status="open", requester="nobody@example.org")
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    _subscribe(services, "C0SUPPORT", "open")
    sandbox.set_status(ticket["id"], "hold")
    watcher.run_cycle()
    sandbox.set_status(ticket["id"], "solved")

    watcher.run_cycle()

    posts = _posts(slack, "C0SUPPORT")
    keys = [post["metadata"]["event_payload"]["key"] for post in posts]
    assert keys == [f"change:{ticket['id']}:v1:C0SUPPORT", f"reply:{ticket['id']}:v2:C0SUPPORT"]
    card = card_in(services.store, ticket["id"], "C0SUPPORT")
    assert card is not None and card.status == "solved"
    assert [call.args["ts"] for call in slack.calls_to("chat.update")] == [card.message_ts]
    assert [reply["text"] for reply in slack.thread("C0SUPPORT", card.message_ts)] == [
        f"Ticket #{ticket['id']}: hold → solved"
    ]


def test_ticket_that_left_the_active_set_is_fetched_by_id_once(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    a_day_ago_ms = int((time.time() - 86400) * 1000)
    ticket = sandbox.add_ticket(subject="Disk full", status="pending", createTime=a_day_ago_ms)
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    sandbox.set_status(ticket["id"], "closed")
    before = len(sandbox.requests_to("GET", f"/support/v1/tickets/{ticket['id']}"))

    report = watcher.run_cycle()
    quiet = watcher.run_cycle()

    assert len(sandbox.requests_to("GET", f"/support/v1/tickets/{ticket['id']}")) == before + 1
    assert (report.doit_calls, report.changes) == (3, 1)  # active page, created-since page, the ticket
    assert (quiet.doit_calls, quiet.changes) == (2, 0)


def test_doit_outage_in_the_middle_of_a_cycle_records_nothing_and_the_next_cycle_delivers(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    a_day_ago_ms = int((time.time() - 86400) * 1000)
    ticket = sandbox.add_ticket(
        subject="Outage", status="open", requester="x@example.org", createTime=a_day_ago_ms
    )
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    _subscribe(services, "C0SUPPORT", "")
    sandbox.set_status(ticket["id"], "solved")
    sandbox.inject(status=503, times=-1, path_prefix=f"/support/v1/tickets/{ticket['id']}")

    skipped = watcher.run_cycle()
    sandbox.clear_faults()
    recovered = watcher.run_cycle()

    assert skipped.skipped_reason is not None and "DoiT is unavailable" in skipped.skipped_reason
    assert (skipped.changes, skipped.deliveries_recorded, skipped.rows_written) == (0, 0, 0)
    assert (recovered.changes, recovered.deliveries_made) == (1, 1)
    assert delivery_keys(_posts(slack, "C0SUPPORT")) == [f"change:{ticket['id']}:v1:C0SUPPORT"]


def test_slack_error_leaves_the_delivery_pending_and_the_next_cycle_sends_it_once(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    _subscribe(services, "C0SUPPORT", "")
    ticket = sandbox.add_ticket(subject="Flaky Slack")
    slack.fail("chat.postMessage", "internal_error", times=1)

    failed = watcher.run_cycle()
    retried = watcher.run_cycle()

    assert (failed.deliveries_made, failed.deliveries_pending) == (0, 1)
    assert (retried.deliveries_made, retried.deliveries_pending) == (1, 0)
    assert [call.ok for call in slack.calls_to("chat.postMessage")] == [False, True]
    assert delivery_keys(slack.messages.values()) == [f"new:{ticket['id']}:C0SUPPORT"]


@pytest.mark.slow
def test_rate_limit_burst_is_waited_out_and_every_post_arrives_once(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    _subscribe(services, "C0SUPPORT", "")
    tickets = [sandbox.add_ticket(subject=f"Burst {n}") for n in range(3)]
    slack.rate_limit("chat.postMessage", times=2, retry_after=1)

    report = watcher.run_cycle()

    assert (report.deliveries_made, report.deliveries_pending) == (3, 0)
    assert [call.ok for call in slack.calls_to("chat.postMessage")] == [False, False, True, True, True]
    assert sorted(delivery_keys(slack.messages.values())) == sorted(
        f"new:{ticket['id']}:C0SUPPORT" for ticket in tickets
    )


def test_requester_dm_when_the_setting_is_off_is_not_sent(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    services.settings = services.settings.model_copy(update={"doit_notify_requester": False})
    ticket = sandbox.add_ticket(subject="Quiet please", status="open", requester="lee@example.com")
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    sandbox.set_status(ticket["id"], "solved")

    report = watcher.run_cycle()

    assert (report.changes, report.deliveries_recorded) == (1, 0)
    assert slack.calls_to("chat.postMessage") == []


def test_ticket_doit_no_longer_knows_is_forgotten(
    services: Services, sandbox: Sandbox, client: RecordingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_day_ago_ms = int((time.time() - 86400) * 1000)
    ticket = sandbox.add_ticket(subject="Gone", status="open", createTime=a_day_ago_ms)
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    sandbox.set_status(ticket["id"], "closed")

    def not_found(ticket_id: int, **_: object) -> None:
        raise TicketNotFound("no such ticket", status_code=404)

    monkeypatch.setattr(services.support, "get_ticket", not_found)
    report = watcher.run_cycle()
    monkeypatch.undo()
    later = watcher.run_cycle()

    assert (report.changes, report.skipped_reason) == (0, None)
    with services.store.engine.connect() as conn:
        assert (
            conn.execute(select(snapshots.c.ticket_id).where(snapshots.c.ticket_id == ticket["id"])).all()
            == []
        )
    assert later.doit_calls == 2  # nothing left to look up


def test_card_post_delayed_by_slack_shows_the_latest_status_and_later_changes_wait_to_thread_under_it(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    ticket = sandbox.add_ticket(subject="Delayed", status="open", requester="x@example.org")
    watcher = make_watcher(services, client)
    watcher.run_cycle()
    _subscribe(services, "C0SUPPORT", "open")
    sandbox.set_status(ticket["id"], "hold")
    slack.fail("chat.postMessage", "internal_error", times=2)
    watcher.run_cycle()
    sandbox.set_status(ticket["id"], "solved")

    waiting = watcher.run_cycle()  # the card post fails again; its redraw and reply wait for it
    delivered = watcher.run_cycle()

    assert (waiting.deliveries_made, waiting.deliveries_pending) == (0, 3)
    assert (delivered.deliveries_made, delivered.deliveries_pending) == (3, 0)
    card = card_in(services.store, ticket["id"], "C0SUPPORT")
    assert card is not None and card.status == "solved"
    posts = [call for call in slack.calls_to("chat.postMessage") if call.ok and "thread_ts" not in call.args]
    assert [post.args["metadata"]["event_payload"]["key"] for post in posts] == [
        f"change:{ticket['id']}:v1:C0SUPPORT"
    ]
    assert "solved" in posts[0].args["text"]
    assert [reply["text"] for reply in slack.thread("C0SUPPORT", card.message_ts)] == [
        f"Ticket #{ticket['id']}: hold → solved"
    ]


def test_watcher_thread_posts_while_running_and_gives_the_lease_up_when_stopped(
    services: Services, sandbox: Sandbox, slack: FakeSlack, client: RecordingClient
) -> None:
    _subscribe(services, "C0SUPPORT", "")
    thread = start_in_thread(services, client, holder="thread", interval=0.05, post_interval=0.0)
    try:
        _wait_until(lambda: thread.watcher.lease.remaining() > 0 and _baseline_done(services))
        ticket = sandbox.add_ticket(subject="While running")
        slack.wait_for("chat.postMessage", 1, timeout=10)
    finally:
        thread.stop()
    assert not thread.is_alive()
    assert thread.watcher.lease.holder_now() is None
    assert delivery_keys(slack.messages.values()) == [f"new:{ticket['id']}:C0SUPPORT"]


def _baseline_done(services: Services) -> bool:
    with services.store.engine.connect() as conn:
        return conn.execute(select(watcher_state.c.key)).first() is not None


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
