"""Card buttons and the comment modal under hostile conditions."""

from __future__ import annotations

import json
import time

import pytest

from bot.blocks import ids
from bot.fakeslack import FakeSlack
from bot.support.sandbox import Sandbox
from tests.hostile.common import all_problems
from tests.slack.harness import SlackDriver, submission, text_input
from tests.slack.test_card_actions import (
    Card,
    click,
    last_view,
    open_comment_form,
    submit_comment,
)


def _delete(sandbox: Sandbox, ticket_id: int) -> None:
    with sandbox._lock:  # test-only: DoiT deleted the ticket
        del sandbox._tickets[ticket_id]


@pytest.mark.parametrize("action_id", [ids.CARD_REFRESH, ids.CARD_SOLVE, ids.CARD_COMMENT])
def test_card_button_when_doit_deleted_the_ticket_says_so_validly(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card, action_id: str
) -> None:
    _delete(sandbox, card.ticket_id)
    url = click(driver, slack, card, action_id)
    if action_id == ids.CARD_COMMENT:
        view = last_view(slack, updates=1)
        shown = json.dumps(view)
    else:
        [reply] = driver.responses(url)
        shown = json.dumps(reply)
    assert "Traceback" not in shown and "404" not in shown
    assert str(card.ticket_id) in shown
    assert all_problems(slack) == []


@pytest.mark.parametrize("action_id", [ids.CARD_REFRESH, ids.CARD_SOLVE])
def test_card_button_when_card_message_was_deleted_tells_the_clicker(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card, action_id: str
) -> None:
    slack.fail("chat.update", "message_not_found")
    url = click(driver, slack, card, action_id)
    [reply] = driver.responses(url)
    assert reply["text"]
    assert all_problems(slack) == []


@pytest.mark.parametrize(
    "text",
    ["x" * 3000, "<" * 3000, "\U0001f525" * 1500, "\U0001f525", "<!channel> & <https://evil.example|y>" * 70],
    ids=["3000", "3000_lt", "1500_emoji", "emoji_only", "hostile"],
)
def test_comment_when_submitted_is_added_and_echoed_validly(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card, text: str
) -> None:
    view = open_comment_form(driver, slack, card)
    ack = submit_comment(driver, view, text[:3000])
    assert ack.get("response_action") == "update", ack
    [echo] = slack.wait_for("chat.postMessage")
    sent = json.dumps(echo.args)
    assert "<!channel>" not in sent and "<https://evil" not in sent
    assert all_problems(slack) == []


def test_comment_of_3000_emoji_when_submitted_shows_the_error(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    view = open_comment_form(driver, slack, card)
    ack = submit_comment(driver, view, "\U0001f525" * 3000)
    assert ack.get("response_action") == "errors"


def test_comment_of_3001_characters_when_submitted_shows_the_error(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    view = open_comment_form(driver, slack, card)
    before = len(sandbox.comments(card.ticket_id))
    ack = submit_comment(driver, view, "x" * 3001)
    assert ack.get("response_action") == "errors"
    assert len(sandbox.comments(card.ticket_id)) == before


def test_comment_modal_submitted_twice_when_slack_redelivers_adds_one_comment(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    # No claim on the view (as the create form has): the same submission (same view id and hash,
    # a double press or Slack's retry) adds the comment to DoiT and echoes it twice.
    view = open_comment_form(driver, slack, card)
    before = len(sandbox.comments(card.ticket_id))
    payload = submission(view, {ids.COMMENT: text_input("Please escalate")})
    driver.interact(payload)
    driver.interact(payload)
    time.sleep(1.0)
    added = [c for c in sandbox.comments(card.ticket_id)[before:] if c["body"].startswith("Please escalate")]
    assert len(added) == 1


def test_comment_of_the_most_emoji_accepted_when_doit_fails_gives_the_whole_text_back(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    # Accepting and refilling count alike (an emoji is two units of Slack's 3,000), so whatever
    # was accepted comes back whole for "Try again".
    view = open_comment_form(driver, slack, card)
    sandbox.inject(status=400, method="POST", path_prefix=f"/support/v1/tickets/{card.ticket_id}/comments")
    text = "\U0001f525" * 1500
    submit_comment(driver, view, text)
    retry = last_view(slack, updates=2)
    comment = next(b for b in retry["blocks"] if b.get("block_id") == ids.COMMENT)
    assert comment["element"]["initial_value"] == text
