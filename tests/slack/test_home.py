"""The App Home tab: published on app_home_opened, from a short cache, with a New ticket button."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from bot.blocks import ids
from bot.blocks.limits import view_problems
from bot.fakeslack import FakeSlack
from bot.notify.subscriptions import add_subscription, subscription_query
from bot.services import Services
from bot.support.sandbox import Sandbox
from tests.slack.harness import SlackDriver
from tests.slack.payloads import home_button_click

HOUR_MS = 3_600_000


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Only the tickets each test adds, so what the Home tab shows can be compared exactly.
    with Sandbox(tickets=0, seed=11) as running:
        yield running


def add(
    sandbox: Sandbox, subject: str, *, status: str, requester: str, hours_ago: int, **fields: object
) -> int:
    moment = int(time.time() * 1000) - hours_ago * HOUR_MS
    ticket = sandbox.add_ticket(
        subject=subject, status=status, requester=requester, createTime=moment, updateTime=moment, **fields
    )
    return int(ticket["id"])


def open_home(driver: SlackDriver, user_id: str = "U0DANA", *, tab: str = "home") -> None:
    response = driver.event({"type": "app_home_opened", "user": user_id, "channel": "D0HOME", "tab": tab})
    assert response.status == 200


def published(slack: FakeSlack, user_id: str = "U0DANA", count: int = 1) -> dict:
    slack.wait_for("views.publish", count=count)
    return slack.home(user_id)


def section_texts(view: dict) -> list[str]:
    return [block["text"]["text"] for block in view["blocks"] if block["type"] == "section"]


def list_calls(sandbox: Sandbox) -> int:
    return len(sandbox.requests_to("GET", "/support/v1/tickets"))


def test_home_shows_own_tickets_open_first_with_status_severity_update_and_link(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    solved = add(sandbox, "Old & solved", status="solved", requester="dana@example.com", hours_ago=1)
    add(sandbox, "Not mine", status="open", requester="lee@example.com", hours_ago=2)
    pending = add(sandbox, "Waiting on us", status="pending", requester="DANA@example.com", hours_ago=5)
    urgent = add(
        sandbox, "Prod <down>", status="open", requester="dana@example.com", hours_ago=3, severity="urgent"
    )

    open_home(driver)

    view = published(slack)
    tickets = [text for text in section_texts(view) if "last update" in text]
    assert [text.split("  #")[1].split("\n")[0] for text in tickets] == [
        str(urgent),
        str(pending),
        str(solved),
    ]
    url = f"https://app.doit.com/customers/sandboxCustomer01/support/tickets/{urgent}"
    assert tickets[0].startswith(f"*<{url}|Prod &lt;down&gt;>*  #{urgent}\n")
    assert ":large_blue_circle: Open · :rotating_light: Urgent (P1) · last update <!date^" in tickets[0]
    assert ":white_check_mark: Solved · :large_yellow_circle: Normal (P3)" in tickets[2]
    assert "Not mine" not in json.dumps(view)
    assert view["type"] == "home"
    assert view_problems(view) == []


def test_home_opened_twice_calls_doit_once(driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox) -> None:
    add(sandbox, "VPN flaps", status="open", requester="dana@example.com", hours_ago=1)

    open_home(driver)
    first = published(slack)
    open_home(driver)
    second = published(slack, count=2)

    assert list_calls(sandbox) == 1
    assert second["blocks"] == first["blocks"]
    assert len(slack.calls_to("users.info")) == 1


def test_home_for_a_user_without_email_says_why_and_asks_doit_nothing(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    open_home(driver, "U0NOMAIL")

    view = published(slack, "U0NOMAIL")
    assert section_texts(view)[1].startswith(
        ":warning: Your Slack profile shows no email address (or the workspace hides it), so I can't tell "
        "which DoiT tickets are yours"
    )
    assert list_calls(sandbox) == 0
    assert view_problems(view) == []


def test_home_messages_tab_is_not_published(driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox) -> None:
    open_home(driver, tab="messages")
    open_home(driver, "U0LEE")

    published(slack, "U0LEE")
    time.sleep(0.05)  # the messages-tab event had all this time to publish, had it been going to
    assert [call.args["user_id"] for call in slack.calls_to("views.publish")] == ["U0LEE"]


def test_home_when_doit_refuses_says_so_and_asks_again_next_time(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    sandbox.inject(status=403, method="GET", path_prefix="/support/v1/tickets")

    open_home(driver)
    view = published(slack)
    open_home(driver)
    published(slack, count=2)

    assert ":warning: DoiT says this bot's API key may not do that." in section_texts(view)[1]
    assert list_calls(sandbox) == 2  # a failure is not cached


def test_home_lists_public_channel_subscriptions_and_only_counts_private_ones(
    driver: SlackDriver, slack: FakeSlack, services: Services
) -> None:
    slack.add_channel("G0SECRET", name="secret-project", is_private=True)
    add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query("severity:high"))
    add_subscription(services.store, "C0SUPPORT", "U0DANA", subscription_query("open platform:aws"))
    add_subscription(services.store, "G0SECRET", "U0DANA", subscription_query("open"))

    open_home(driver)

    view = published(slack)
    assert (
        "*<#C0SUPPORT>*\n1. tickets of high severity\n2. open tickets on Amazon Web Services"
        in section_texts(view)
    )
    assert "G0SECRET" not in json.dumps(view)
    contexts = [block["elements"][0]["text"] for block in view["blocks"] if block["type"] == "context"]
    assert (
        "1 subscription in a private channel is not shown. `/doit subscriptions` in a channel lists its own."
        in contexts
    )


def test_home_new_ticket_button_opens_the_create_modal(driver: SlackDriver, slack: FakeSlack) -> None:
    open_home(driver)
    home = published(slack)
    [button] = next(b for b in home["blocks"] if b["type"] == "actions")["elements"]
    assert button["action_id"] == ids.HOME_NEW_TICKET

    response = driver.interact(home_button_click(action_id=ids.HOME_NEW_TICKET, view_id=home["id"]))

    assert (response.status, response.body) == (200, "")
    [opened] = slack.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == ids.LOADING_CALLBACK
    [update] = slack.wait_for("views.update")
    assert update.args["view"]["callback_id"] == ids.CREATE_CALLBACK
