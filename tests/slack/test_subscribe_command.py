"""`/doit subscribe`, `subscriptions` and `unsubscribe` through the router, as Slack sends them."""

from __future__ import annotations

from tests.slack.harness import SlackDriver


def test_subscribe_then_list_then_unsubscribe_through_the_router(driver: SlackDriver) -> None:
    _, url = driver.command("subscribe severity:urgent platform:aws", channel_id="C0GENERAL")
    [subscribed] = driver.responses(url)
    assert "urgent" in subscribed["text"].lower()

    _, url = driver.command("subscriptions", channel_id="C0GENERAL")
    [listed] = driver.responses(url)
    assert "1." in str(listed["blocks"])

    _, url = driver.command("unsubscribe 1", channel_id="C0GENERAL")
    [removed] = driver.responses(url)
    _, url = driver.command("subscriptions", channel_id="C0GENERAL")
    [empty] = driver.responses(url)
    assert removed["text"] != empty["text"]
    assert "1." not in str(empty["blocks"])


def test_subscribe_with_mine_is_refused_with_a_reason(driver: SlackDriver) -> None:
    _, url = driver.command("subscribe mine", channel_id="C0GENERAL")
    [reply] = driver.responses(url)
    assert "mine" in reply["text"]
