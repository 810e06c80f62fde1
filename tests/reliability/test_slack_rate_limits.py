"""Slack answering 429 to a burst: every card, modal update and notification arrives exactly once."""

from __future__ import annotations

import json
import threading
import time

import pytest

from bot.blocks import ids
from bot.config import Settings
from bot.fakeslack import FakeSlack
from bot.notify.subscriptions import add_subscription, subscription_query
from bot.services import Services
from bot.support.sandbox import Sandbox
from tests.notify.helpers import delivery_keys, make_slack_client, make_watcher
from tests.reliability.helpers import open_create_form, reply_to
from tests.slack.harness import SlackDriver, filled_form, submission

pytestmark = pytest.mark.slow

BURST = 4


def _ok(calls: list) -> list:
    return [call for call in calls if call.ok]


def test_burst_of_submissions_during_429s_posts_each_card_and_result_once(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    forms = [open_create_form(driver, slack, f"new Burst {n}") for n in range(BURST)]
    tickets_before = {ticket["id"] for ticket in sandbox.tickets()}
    slack.clear()
    slack.rate_limit("chat.postMessage", times=BURST, retry_after=1)
    slack.rate_limit("views.update", times=BURST, retry_after=1)

    payloads = [submission(form, filled_form(subject=f"Burst {n}")) for n, form in enumerate(forms)]
    threads = [threading.Thread(target=driver.interact, args=(payload,)) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    driver.app.listener_runner.listener_executor.shutdown(wait=True)

    new_ids = sorted({ticket["id"] for ticket in sandbox.tickets()} - tickets_before)
    posts = slack.calls_to("chat.postMessage")
    assert len(new_ids) == BURST
    assert [call.response["error"] for call in posts if not call.ok] == ["ratelimited"] * BURST
    assert [sum(f"#{ticket_id}" in call.args["text"] for call in _ok(posts)) for ticket_id in new_ids] == [
        1
    ] * BURST
    assert len([key for key in slack.messages if key[0] == "C0SUPPORT"]) == BURST
    filed = [
        c for c in _ok(slack.calls_to("views.update")) if c.args["view"]["callback_id"] == ids.FILED_CALLBACK
    ]
    assert sorted(call.args["view_id"] for call in filed) == sorted(form["id"] for form in forms)


def test_burst_of_notifications_during_429s_delivers_each_change_once(
    services: Services, settings: Settings, sandbox: Sandbox, slack: FakeSlack
) -> None:
    watcher = make_watcher(services, make_slack_client(settings))
    watcher.run_cycle()
    add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query(""))
    added = [sandbox.add_ticket(subject=f"Burst {n}", requester="nobody@example.org") for n in range(6)]
    slack.rate_limit("chat.postMessage", times=2, retry_after=1)

    report = watcher.run_cycle()

    expected = sorted(f"new:{ticket['id']}:C0SUPPORT" for ticket in added)
    assert sorted(delivery_keys(slack.messages.values())) == expected
    assert len(_ok(slack.calls_to("chat.postMessage"))) == len(expected)
    assert (report.deliveries_made, report.deliveries_pending) == (len(expected), 0)
    assert watcher.run_cycle().deliveries_made == 0


def test_list_reply_when_the_response_url_answers_429_once_still_arrives(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    slack.rate_limit("response_url", times=1, retry_after=1)
    started = time.monotonic()
    _, response_url = driver.command("list")
    driver.app.listener_runner.listener_executor.shutdown(wait=True)

    posts = [call for call in slack.calls_to("response_url") if call.args["_url"] == response_url]
    assert [call.ok for call in posts][-1:] == [True]
    reply, _ = reply_to(slack, response_url, since=started)
    assert json.dumps(reply["blocks"]).count("DoiT tickets") == 1
