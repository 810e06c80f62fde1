"""The card's buttons (Add comment, Mark solved, Refresh) and `/doit show`'s Add comment."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from slack_sdk import WebClient

from bot.blocks import ids
from bot.blocks.limits import message_problems, view_problems
from bot.blocks.tickets import ticket_card
from bot.fakeslack import FakeSlack
from bot.notify.cards import record_card
from bot.services import Services
from bot.support.models import Ticket
from bot.support.sandbox import Sandbox
from tests.slack.harness import BOT_TOKEN, SlackDriver, submission, text_input
from tests.slack.payloads import button_click

SUBJECT = "Nightly export to BigQuery stopped & nobody knows why"


@dataclass(frozen=True)
class Card:
    ticket_id: int
    ts: str


@pytest.fixture
def card(slack: FakeSlack, sandbox: Sandbox, services: Services) -> Card:
    """An open ticket requested by Dana, with its card posted by the bot in #support."""
    ticket = Ticket.model_validate(
        sandbox.add_ticket(subject=SUBJECT, status="open", requester="dana@example.com")
    )
    client = WebClient(base_url=slack.api_url, token=BOT_TOKEN)
    posted = client.chat_postMessage(channel="C0SUPPORT", **ticket_card(ticket).as_kwargs())
    record_card(services.store, ticket.id, "C0SUPPORT", posted["ts"], "open", filed_by="U0LEE")
    slack.clear()
    return Card(ticket.id, posted["ts"])


def click(driver: SlackDriver, slack: FakeSlack, card: Card, action_id: str, **kwargs: object) -> str:
    payload, response_url = button_click(
        slack,
        action_id=action_id,
        value=str(card.ticket_id),
        message_ts=card.ts,
        **kwargs,  # type: ignore[arg-type]
    )
    response = driver.interact(payload)
    assert (response.status, response.body) == (200, "")
    return response_url


def reply_text(driver: SlackDriver, response_url: str) -> str:
    [reply] = driver.responses(response_url)
    assert reply["response_type"] == "ephemeral"
    assert reply["replace_original"] is False
    return reply["text"]


def open_comment_form(driver: SlackDriver, slack: FakeSlack, card: Card, **kwargs: object) -> dict:
    click(driver, slack, card, ids.CARD_COMMENT, **kwargs)
    return last_view(slack, updates=1)


def last_view(slack: FakeSlack, *, updates: int) -> dict:
    """The view as it is after ``updates`` calls to views.update (wait first, then read)."""
    view_id = slack.wait_for("views.update", count=updates)[-1].args["view_id"]
    return slack.views[view_id]


def submit_comment(driver: SlackDriver, view: dict, text: str, *, user_id: str = "U0DANA") -> dict:
    response = driver.interact(submission(view, {ids.COMMENT: text_input(text)}, user_id=user_id))
    assert response.status == 200
    return json.loads(response.body) if response.body else {}


def button_ids(message: dict) -> list[str]:
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    return [element["action_id"] for element in actions["elements"]]


# -- Add comment ------------------------------------------------------------------------------------


def test_add_comment_opens_a_loading_modal_then_the_form_for_the_cards_thread(
    driver: SlackDriver, slack: FakeSlack, card: Card
) -> None:
    view = open_comment_form(driver, slack, card)

    [opened] = slack.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == ids.LOADING_CALLBACK
    assert view["callback_id"] == ids.COMMENT_CALLBACK
    assert json.loads(view["private_metadata"]) == {
        "ticket_id": card.ticket_id,
        "channel": "C0SUPPORT",
        "thread_ts": card.ts,
    }
    assert "Nightly export to BigQuery stopped &amp; nobody knows why" in json.dumps(view["blocks"])
    assert view_problems(view) == []


def test_comment_submitted_is_added_in_doit_and_echoed_in_the_cards_thread(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    view = open_comment_form(driver, slack, card)

    ack = submit_comment(driver, view, "The job log says <quota exceeded> & then stops.")

    assert ack["response_action"] == "update"
    [echo] = slack.wait_for("chat.postMessage")
    assert (echo.args["channel"], echo.args["thread_ts"]) == ("C0SUPPORT", card.ts)
    assert message_problems(echo.args["text"], echo.args["blocks"]) == []
    assert (
        echo.args["blocks"][1]["text"]["text"] == "The job log says &lt;quota exceeded&gt; &amp; then stops."
    )
    assert sandbox.comments(card.ticket_id)[-1]["body"] == (
        "The job log says <quota exceeded> & then stops.\n\n— dana@example.com, via Slack"
    )
    done = last_view(slack, updates=2)
    assert f"Your comment is on DoiT ticket *#{card.ticket_id}*." in done["blocks"][0]["text"]["text"]
    assert len(slack.thread("C0SUPPORT", card.ts)) == 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "x" * 3001,
            "That is 3,001 characters; one comment can take 3,000. Shorten it, or send the rest as a "
            "second comment.",
        ),
        ("   \n ", "Write your comment first."),
    ],
)
def test_comment_over_the_limit_or_empty_shows_the_error_under_the_input(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card, text: str, error: str
) -> None:
    view = open_comment_form(driver, slack, card)

    ack = submit_comment(driver, view, text)

    assert ack == {"response_action": "errors", "errors": {ids.COMMENT: error}}
    assert sandbox.requests_to("POST", f"/support/v1/tickets/{card.ticket_id}/comments") == []


def test_comment_of_exactly_3000_characters_is_accepted(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    view = open_comment_form(driver, slack, card)

    ack = submit_comment(driver, view, "y" * 3000)

    assert ack["response_action"] == "update"
    [echo] = slack.wait_for("chat.postMessage")
    assert message_problems(echo.args["text"], echo.args["blocks"]) == []
    assert sandbox.comments(card.ticket_id)[-1]["body"].startswith("y" * 3000 + "\n\n")


def test_comment_when_doit_is_unavailable_gives_the_text_back_for_try_again(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    view = open_comment_form(driver, slack, card)
    sandbox.inject(status=503, method="POST", path_prefix=f"/support/v1/tickets/{card.ticket_id}/comments")

    submit_comment(driver, view, "Still failing at 02:00")

    retry = last_view(slack, updates=2)
    assert retry["callback_id"] == ids.COMMENT_CALLBACK
    assert retry["submit"]["text"] == "Try again"
    assert "unavailable" in retry["blocks"][0]["text"]["text"]
    comment = next(b for b in retry["blocks"] if b.get("block_id") == ids.COMMENT)
    assert comment["element"]["initial_value"] == "Still failing at 02:00"
    assert "Nightly export to BigQuery" in json.dumps(retry["blocks"])
    assert slack.calls_to("chat.postMessage") == []
    assert view_problems(retry) == []


def test_add_comment_on_a_closed_ticket_says_why_instead_of_opening_the_form(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    sandbox.set_status(card.ticket_id, "closed")

    view = open_comment_form(driver, slack, card)

    assert view["callback_id"] == ""  # a notice, not the form
    assert f"Ticket *#{card.ticket_id}* is closed" in view["blocks"][0]["text"]["text"]


def test_add_comment_from_doit_show_echoes_under_the_tickets_card_in_that_channel(
    driver: SlackDriver, slack: FakeSlack, card: Card
) -> None:
    payload, _ = button_click(
        slack,
        action_id=ids.SHOW_ADD_COMMENT,
        value=str(card.ticket_id),
        message_ts="1733300500.000100",
        ephemeral=True,
    )
    driver.interact(payload)

    [update] = slack.wait_for("views.update")
    metadata = json.loads(slack.views[update.args["view_id"]]["private_metadata"])
    assert metadata == {"ticket_id": card.ticket_id, "channel": "C0SUPPORT", "thread_ts": card.ts}


def test_add_comment_when_the_trigger_expired_asks_to_click_again(
    driver: SlackDriver, slack: FakeSlack, card: Card
) -> None:
    slack.fail("views.open", "expired_trigger_id")

    response_url = click(driver, slack, card, ids.CARD_COMMENT)

    assert (
        reply_text(driver, response_url)
        == "Slack did not let me open the form in time. Click the button again."
    )
    assert slack.calls_to("views.update") == []


# -- Mark solved ------------------------------------------------------------------------------------


def test_mark_solved_by_the_requester_patches_doit_and_redraws_the_card(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    response_url = click(driver, slack, card, ids.CARD_SOLVE)

    assert reply_text(driver, response_url) == (
        f"You marked ticket *#{card.ticket_id}* solved. DoiT closes it after a while; a comment before then "
        "reopens it."
    )
    [patch] = sandbox.requests_to("PATCH", f"/support/v1/tickets/{card.ticket_id}")
    assert patch.json == {"status": "solved"}
    [update] = slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("C0SUPPORT", card.ts)
    redrawn = slack.message("C0SUPPORT", card.ts)
    assert button_ids(redrawn) == [ids.OPEN_TICKET, ids.CARD_COMMENT, ids.CARD_REFRESH]
    assert ":white_check_mark: Solved" in json.dumps(redrawn["blocks"])
    assert "<@U0LEE>" in json.dumps(redrawn["blocks"])  # "Filed by" survives the redraw
    assert message_problems(redrawn["text"], redrawn["blocks"]) == []


def test_mark_solved_by_someone_not_allowed_is_refused_with_the_reason(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    response_url = click(driver, slack, card, ids.CARD_SOLVE, user_id="U0LEE")

    assert reply_text(driver, response_url) == (
        f"Only its requester, <@U0DANA>, or an admin of this bot can mark ticket *#{card.ticket_id}* solved."
    )
    assert sandbox.requests_to("PATCH", f"/support/v1/tickets/{card.ticket_id}") == []
    assert slack.calls_to("chat.update") == []
    assert sandbox.ticket(card.ticket_id)["status"] == "open"


def test_mark_solved_by_a_user_without_email_says_why_it_cannot_tell(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    response_url = click(driver, slack, card, ids.CARD_SOLVE, user_id="U0NOMAIL")

    assert reply_text(driver, response_url).startswith("I can't see an email address on your Slack profile")
    assert sandbox.requests_to("PATCH", f"/support/v1/tickets/{card.ticket_id}") == []


@pytest.mark.parametrize("settings_overrides", [{"doit_admins": "U0BOSS, U0LEE"}])
def test_mark_solved_by_an_admin_named_in_the_settings_is_allowed(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    response_url = click(driver, slack, card, ids.CARD_SOLVE, user_id="U0LEE")

    assert reply_text(driver, response_url).startswith(f"You marked ticket *#{card.ticket_id}* solved.")
    assert sandbox.ticket(card.ticket_id)["status"] == "solved"


def test_mark_solved_on_a_ticket_already_solved_redraws_without_patching(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    sandbox.set_status(card.ticket_id, "solved")

    response_url = click(driver, slack, card, ids.CARD_SOLVE)

    assert reply_text(driver, response_url) == f"Ticket *#{card.ticket_id}* is already solved."
    assert sandbox.requests_to("PATCH", f"/support/v1/tickets/{card.ticket_id}") == []
    assert ids.CARD_SOLVE not in button_ids(slack.message("C0SUPPORT", card.ts))


def test_mark_solved_when_doit_refuses_tells_the_user_and_keeps_the_card(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    sandbox.inject(status=403, method="PATCH", path_prefix=f"/support/v1/tickets/{card.ticket_id}")

    response_url = click(driver, slack, card, ids.CARD_SOLVE)

    assert reply_text(driver, response_url).startswith("DoiT says this bot's API key may not do that.")
    assert slack.calls_to("chat.update") == []


# -- Refresh ----------------------------------------------------------------------------------------


def test_refresh_redraws_the_card_with_the_status_doit_has_now(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, card: Card
) -> None:
    sandbox.set_status(card.ticket_id, "pending")

    response_url = click(driver, slack, card, ids.CARD_REFRESH)

    assert reply_text(driver, response_url) == (
        f"Refreshed ticket *#{card.ticket_id}*: it is Pending (waiting on customer)."
    )
    redrawn = slack.message("C0SUPPORT", card.ts)
    assert ":hourglass_flowing_sand: Pending (waiting on customer)" in json.dumps(redrawn["blocks"])
    assert redrawn["text"].startswith(f"DoiT ticket #{card.ticket_id} (Normal, pending)")


def test_refresh_of_a_ticket_doit_does_not_have_says_so(
    driver: SlackDriver, slack: FakeSlack, card: Card
) -> None:
    response_url = click(driver, slack, Card(999_999, card.ts), ids.CARD_REFRESH)

    assert reply_text(driver, response_url) == "DoiT has no ticket #999999 that this bot can see."
    assert slack.calls_to("chat.update") == []


def test_button_without_a_ticket_number_says_the_card_is_unreadable(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    payload, response_url = button_click(slack, action_id=ids.CARD_REFRESH, value="not-a-number")
    driver.interact(payload)

    assert reply_text(driver, response_url).startswith("This button belongs to a card I can no longer read.")
    assert sandbox.requests == []
