"""The watcher's and the subscription commands' messages: exact texts, escaping and Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.blocks.limits import message_problems
from bot.blocks.message import Message
from bot.blocks.notifications import (
    ListedSubscription,
    changed_ticket_post,
    new_ticket_post,
    requester_dm,
    status_change_reply,
    subscribed,
    subscriptions_list,
    subscriptions_paused_notice,
)
from bot.support.models import Ticket

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
DATE = "<!date^1772357400^{date_short_pretty} at {time}|2026-03-01 09:30 UTC>"


def _ticket(status: str = "pending", subject: str = "VPN <down> & out") -> Ticket:
    return Ticket.model_validate(
        {
            "id": 42,
            "subject": subject,
            "status": status,
            "severity": "high",
            "urlUI": "https://app.doit.com/t/42",
        }
    )


def _valid(message: Message) -> Message:
    assert message_problems(message.text, message.blocks) == []
    return message


def test_status_change_reply_says_old_arrow_new_and_when() -> None:
    message = _valid(status_change_reply(42, "open", "pending", AT))
    assert message.text == "Ticket #42: open → pending"
    assert (
        message.blocks[0]["elements"][0]["text"]
        == f":hourglass_flowing_sand: Status *open → pending* · {DATE}"
    )


def test_status_change_reply_with_an_unknown_status_escapes_it() -> None:
    message = _valid(status_change_reply(42, "open", "<!channel>", AT))
    assert message.text == "Ticket #42: open → &lt;!channel&gt;"


def test_requester_dm_when_pending_asks_for_an_answer_with_an_escaped_link() -> None:
    message = _valid(requester_dm(_ticket("pending"), "open", AT))
    assert message.text == "DoiT is waiting for your answer on ticket #42"
    assert message.blocks[0]["text"]["text"] == (
        ":hourglass_flowing_sand: DoiT is waiting for your answer on #42 "
        "<https://app.doit.com/t/42|VPN &lt;down&gt; &amp; out> "
        f"(it went from open to pending {DATE}). Reply in DoiT to move it along."
    )


def test_requester_dm_when_solved_says_how_to_reopen() -> None:
    message = _valid(requester_dm(_ticket("solved"), "pending", AT))
    assert message.text == "Your DoiT ticket #42 was solved"
    assert message.blocks[0]["text"]["text"].endswith(
        "If the problem is still there, reply in DoiT to reopen it."
    )


def test_new_and_changed_posts_are_the_card_with_a_note_naming_the_subscriptions() -> None:
    new = _valid(new_ticket_post(_ticket("new"), subscription_numbers=[3, 1, 3]))
    changed = _valid(changed_ticket_post(_ticket("solved"), "open", subscription_numbers=[2]))
    assert new.blocks[-2]["elements"][0]["text"] == (
        ":information_source: New ticket, posted for this channel's subscriptions 1, 3."
    )
    assert changed.blocks[-2]["elements"][0]["text"] == (
        ":information_source: Status changed: open → solved. Posted for this channel's subscription 2."
    )


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        ("not_in_channel", "I'm no longer a member of <#C0OPS>"),
        ("is_archived", "<#C0OPS> was archived"),
        ("weird_error", "Slack refused my posts there (weird_error)"),
    ],
)
def test_paused_notice_names_the_channel_the_reason_and_the_queries(reason: str, why: str) -> None:
    listed = [ListedSubscription(2, "open tickets", "open"), ListedSubscription(5, "all tickets", "")]
    message = _valid(subscriptions_paused_notice("C0OPS", reason, listed))
    assert message.text == f"I paused 2 subscriptions of <#C0OPS>: {why}."
    assert (
        message.blocks[1]["text"]["text"] == "• 2: open tickets (`open`)\n• 5: all tickets (_(every ticket)_)"
    )


def test_subscriptions_list_of_twenty_long_queries_stays_within_slack_limits() -> None:
    entries = [ListedSubscription(n, "x" * 400, "y" * 1000, "not_in_channel") for n in range(1, 21)]
    message = _valid(subscriptions_list("C0OPS", entries))
    assert message.text == "<#C0OPS> has 20 subscriptions:"
    assert len(message.blocks) == 4


def test_subscribed_escapes_backticks_and_markup_in_the_query() -> None:
    entry = ListedSubscription(1, "tickets whose subject mentions “<b>”", '"`<b>`"')
    message = _valid(subscribed("C0OPS", entry, "U0DANA"))
    assert message.blocks[1]["elements"][0]["text"].startswith(
        "New tickets and status changes that match `\"'&lt;b&gt;'\"` will be posted here."
    )
