"""Unfurls of many / odd links and the Home tab with 500 hostile tickets."""

from __future__ import annotations

import json
import time

from bot.fakeslack import FakeSlack
from bot.support.sandbox import Sandbox
from tests.hostile.common import all_problems
from tests.slack.harness import SlackDriver
from tests.slack.test_unfurls import app_link, console_link, share

HOSTILE = "<!channel> x & <https://evil.example|y>"


def test_unfurl_of_ten_hostile_links_with_duplicates_and_a_20_digit_id_is_valid(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    ids = [
        sandbox.add_ticket(subject=HOSTILE + " \U0001f525" * 1600, severity="critical", product="a|b>c")["id"]
        for _ in range(10)
    ]
    urls = [console_link(ids[0]), app_link(ids[0])] + [console_link(i) for i in ids[1:8]]
    urls.append(console_link(10**19 + 1))
    share(driver, *urls)
    [call] = slack.wait_for("chat.unfurl")
    time.sleep(0.3)
    sent = json.dumps(call.args)
    assert "<!channel>" not in sent and "<https://evil" not in sent
    assert all_problems(slack) == []


def test_home_with_500_hostile_tickets_of_the_user_publishes_a_valid_view(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    for n in range(500):
        sandbox.add_ticket(
            subject=f"{HOSTILE} {n} " + "\U0001f525" * 1600,
            status="<!here>" if n % 2 else "open",
            severity="critical",
            requester="dana@example.com",
        )
    driver.event({"type": "app_home_opened", "user": "U0DANA", "channel": "D0HOME", "tab": "home"})
    slack.wait_for("views.publish", timeout=20)
    sent = json.dumps(slack.home("U0DANA"))
    assert "<!channel>" not in sent and "<!here>" not in sent and "<https://evil" not in sent
    assert all_problems(slack) == []
