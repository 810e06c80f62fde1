"""`/doit subscribe`, `subscriptions` and `unsubscribe`: the handlers as the router calls them.

Each request answers through a real ``Respond`` on a response URL of the fake Slack, and checks
the channel with a real WebClient against it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_bolt import Respond
from slack_sdk import WebClient

from bot.fakeslack import FakeSlack
from bot.notify.subscriptions import list_subscriptions, pause_channel
from bot.services import Services
from bot.slack.requests import CommandRequest
from bot.slack.subscriptions import list_subscriptions as list_command
from bot.slack.subscriptions import subscribe, unsubscribe

HANDLERS: dict[str, Callable[[CommandRequest], None]] = {
    "subscribe": subscribe,
    "subscriptions": list_command,
    "unsubscribe": unsubscribe,
}

Answer = Callable[..., dict[str, Any]]


@pytest.fixture
def answer(services: Services, slack: FakeSlack, client: WebClient) -> Answer:
    """Run one `/doit <text>` through its handler; return what it answered."""

    def run(text: str, *, channel: str = "C0SUPPORT", user: str = "U0DANA") -> dict[str, Any]:
        word, _, rest = text.partition(" ")
        response_url = slack.response_url()
        request = CommandRequest(
            subcommand=word,
            text=rest.strip(),
            user_id=user,
            channel_id=channel,
            team_id="T0DEMO",
            trigger_id=None,
            response_url=response_url,
            client=client,
            respond=Respond(response_url=response_url),
            services=services,
        )
        HANDLERS[word](request)
        answers = [call.args for call in slack.calls_to("response_url") if call.args["_url"] == response_url]
        assert len(answers) >= 1
        return answers[-1]

    return run


def test_subscribe_in_a_channel_announces_it_there_with_its_number(
    answer: Answer, services: Services
) -> None:
    answer = answer("subscribe severity:high platform:aws")
    assert answer["response_type"] == "in_channel"
    assert answer["text"] == (
        "<@U0DANA> subscribed <#C0SUPPORT> to tickets of high severity on Amazon Web Services "
        "(subscription 1)."
    )
    assert [sub.query for sub in list_subscriptions(services.store, "C0SUPPORT")] == [
        "severity:high platform:amazon_web_services"
    ]


def test_subscribe_twice_with_the_same_query_says_it_exists_privately(answer: Answer) -> None:
    answer("subscribe open")
    answer = answer("subscribe is:open")
    assert (answer["response_type"], answer["text"]) == (
        "ephemeral",
        "This channel already has that subscription: number 1, open tickets.",
    )


def test_subscribe_with_mine_explains_why_not(answer: Answer, services: Services) -> None:
    answer = answer("subscribe open mine")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("`mine` can't be used in a subscription")
    assert list_subscriptions(services.store, "C0SUPPORT") == []


def test_subscribe_with_a_bad_query_shows_the_problem_and_the_syntax(answer: Answer) -> None:
    answer = answer("subscribe severity:huge")
    assert answer["text"].startswith("I couldn't read that query: `huge` is not a severity")
    assert "*What works:*" in answer["blocks"][1]["text"]["text"]


@pytest.mark.parametrize(
    ("channel", "sentence"),
    [
        ("DU0DANA", "Subscriptions belong to channels, and this is a direct message."),
        ("C0NOTIN", "I'm not a member of <#C0NOTIN>, so I couldn't post what you subscribe to."),
        ("C0ARCHIVED", "This channel is archived, so nothing can be posted here."),
        ("C0SECRET", "I can't see this channel: it is private and I'm not a member."),
    ],
)
def test_subscribe_where_the_bot_cannot_post_says_why_and_stores_nothing(
    answer: Answer, services: Services, slack: FakeSlack, channel: str, sentence: str
) -> None:
    slack.add_channel("C0SECRET", name="secret", is_private=True, is_member=False)
    answer = answer("subscribe open", channel=channel)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(sentence)
    assert list_subscriptions(services.store, channel) == []


def test_subscriptions_lists_them_numbered_with_paused_ones_marked(
    answer: Answer, services: Services
) -> None:
    answer("subscribe open")
    answer('subscribe product:"Compute Engine"')
    answer("unsubscribe 1")
    answer("subscribe severity:urgent")
    pause_channel(services.store, "C0SUPPORT", "not_in_channel")

    answer = answer("subscriptions")

    assert (answer["response_type"], answer["text"]) == ("ephemeral", "<#C0SUPPORT> has 2 subscriptions:")
    lines = answer["blocks"][1]["text"]["text"].split("\n")
    assert lines == [
        '*2.* tickets for Compute Engine · `product:"Compute Engine"`',
        "      :pause_button: paused: I'm no longer a member of <#C0SUPPORT>",
        "*3.* tickets of urgent severity · `severity:urgent`",
        "      :pause_button: paused: I'm no longer a member of <#C0SUPPORT>",
    ]


def test_subscriptions_when_there_are_none_suggests_how_to_start(answer: Answer) -> None:
    answer = answer("subscriptions")
    assert answer["text"] == "<#C0SUPPORT> has no subscriptions."


def test_unsubscribe_a_number_removes_it_and_announces_it(answer: Answer, services: Services) -> None:
    answer("subscribe open")
    answer("subscribe closed")
    answer = answer("unsubscribe #2")
    assert (answer["response_type"], answer["text"]) == (
        "in_channel",
        "<@U0DANA> removed subscription 2 of <#C0SUPPORT>: closed tickets.",
    )
    assert [sub.number for sub in list_subscriptions(services.store, "C0SUPPORT")] == [1]


def test_unsubscribe_all_removes_every_one(answer: Answer, services: Services) -> None:
    answer("subscribe open")
    answer("subscribe closed")
    answer = answer("unsubscribe all")
    assert answer["text"] == "<@U0DANA> removed all 2 subscriptions of <#C0SUPPORT>."
    assert list_subscriptions(services.store, "C0SUPPORT") == []


def test_unsubscribe_an_unknown_number_names_the_existing_ones(answer: Answer) -> None:
    answer("subscribe open")
    answer = answer("unsubscribe 7")
    assert (answer["response_type"], answer["text"]) == (
        "ephemeral",
        "<#C0SUPPORT> has no subscription numbered 7; its numbers are 1.",
    )


def test_unsubscribe_without_a_number_asks_for_one(answer: Answer) -> None:
    answer = answer("unsubscribe soon")
    assert answer["text"].startswith("Say which subscription to remove")
