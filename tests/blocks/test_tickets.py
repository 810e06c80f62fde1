from datetime import UTC, datetime

import pytest

from bot.blocks import ids
from bot.blocks.limits import message_problems
from bot.blocks.message import Message
from bot.blocks.text import ELLIPSIS, slack_length
from bot.blocks.tickets import (
    LIST_MAX_TICKETS,
    empty_ticket_list,
    severity_label,
    severity_with_emoji,
    status_label,
    status_with_emoji,
    ticket_card,
    ticket_detail,
    ticket_list,
    unfurl_card,
)
from bot.support.models import Attachment, Comment, Ticket

HOSTILE = "<!channel> VPN down & <https://evil.example|reset password> if a<b"
ESCAPED_HOSTILE = "&lt;!channel&gt; VPN down &amp; &lt;https://evil.example|reset password&gt; if a&lt;b"
URL = "https://console.doit.com/support/tickets/123"
CREATED = datetime(2026, 8, 1, 14, 5, tzinfo=UTC)
UPDATED = datetime(2026, 8, 1, 15, 5, tzinfo=UTC)
CREATED_TOKEN = "<!date^1785593100^{date_short_pretty} at {time}|2026-08-01 14:05 UTC>"
UPDATED_TOKEN = "<!date^1785596700^{date_short_pretty} at {time}|2026-08-01 15:05 UTC>"


def _ticket(**changes: object) -> Ticket:
    fields: dict[str, object] = {
        "id": 123,
        "subject": "VPN down",
        "severity": "high",
        "status": "open",
        "requester": "ana@example.com",
        "platform": "amazon_web_services",
        "product": "EC2",
        "url": URL,
        "create_time": CREATED,
        "update_time": UPDATED,
    }
    fields.update(changes)
    return Ticket(**fields)


def _valid(message: Message) -> Message:
    assert message_problems(message.text, message.blocks) == []
    return message


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _buttons(message: Message) -> list[tuple[str, str | None, str | None]]:
    actions = [block for block in message.blocks if block["type"] == "actions"]
    if not actions:
        return []
    return [(b["action_id"], b.get("url"), b.get("value")) for b in actions[0]["elements"]]


def _all_text(message: Message) -> str:
    return repr(message.blocks) + message.text


@pytest.mark.parametrize(
    ("status", "label", "with_emoji"),
    [
        ("new", "New", ":new: New"),
        ("open", "Open", ":large_blue_circle: Open"),
        (
            "pending",
            "Pending (waiting on customer)",
            ":hourglass_flowing_sand: Pending (waiting on customer)",
        ),
        ("hold", "On hold", ":double_vertical_bar: On hold"),
        ("solved", "Solved", ":white_check_mark: Solved"),
        ("Closed", "Closed", ":lock: Closed"),
        ("escalated", "escalated", ":grey_question: escalated"),
        ("<b>", "&lt;b&gt;", ":grey_question: &lt;b&gt;"),
        ("", "unknown status", ":grey_question: unknown status"),
    ],
)
def test_status_label_when_known_or_unknown_shows_words(status, label, with_emoji):
    assert status_label(status) == label
    assert status_with_emoji(status) == with_emoji


@pytest.mark.parametrize(
    ("severity", "label", "with_emoji"),
    [
        ("urgent", "Urgent (P1)", ":rotating_light: Urgent (P1)"),
        ("high", "High (P2)", ":warning: High (P2)"),
        ("normal", "Normal (P3)", ":large_yellow_circle: Normal (P3)"),
        ("low", "Low (P4)", ":white_circle: Low (P4)"),
        ("critical", "critical", ":grey_question: critical"),
        ("", "unknown severity", ":grey_question: unknown severity"),
    ],
)
def test_severity_label_when_known_or_unknown_shows_words(severity, label, with_emoji):
    assert severity_label(severity) == label
    assert severity_with_emoji(severity) == with_emoji


def test_ticket_card_when_full_ticket_renders_every_block():
    card = _valid(ticket_card(_ticket(), filed_by_user_id="U0FILER", note="I couldn't post in #x <now>"))

    assert card.text == "DoiT ticket #123 (High, open): VPN down"
    assert card.blocks[:4] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*<{URL}|VPN down>*"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Ticket*\n#123"},
                {"type": "mrkdwn", "text": "*Status*\n:large_blue_circle: Open"},
                {"type": "mrkdwn", "text": "*Severity*\n:warning: High (P2)"},
                {"type": "mrkdwn", "text": "*Requester*\nana@example.com"},
                {"type": "mrkdwn", "text": "*Platform*\nAmazon Web Services"},
                {"type": "mrkdwn", "text": "*Product*\nEC2"},
                {"type": "mrkdwn", "text": "*Filed by*\n<@U0FILER>"},
            ],
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"Created {CREATED_TOKEN} · Updated {UPDATED_TOKEN}"}],
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": ":information_source: I couldn't post in #x &lt;now&gt;"}
            ],
        },
    ]
    assert card.blocks[4]["block_id"] == ids.CARD_ACTIONS
    assert _buttons(card) == [
        (ids.OPEN_TICKET, URL, "123"),
        (ids.CARD_COMMENT, None, "123"),
        (ids.CARD_SOLVE, None, "123"),
        (ids.CARD_REFRESH, None, "123"),
    ]
    assert card.blocks[4]["elements"][2]["confirm"]["confirm"]["text"] == "Mark solved"


def test_ticket_card_when_hostile_subject_escapes_everything():
    card = _valid(ticket_card(_ticket(subject=HOSTILE)))

    assert card.blocks[0]["text"]["text"] == f"*<{URL}|{ESCAPED_HOSTILE}>*"
    assert card.text == f"DoiT ticket #123 (High, open): {ESCAPED_HOSTILE}"
    assert "<!channel>" not in _all_text(card)
    assert "<https://evil.example|" not in _all_text(card)
    assert _unescape(card.text).endswith(HOSTILE)


def test_ticket_card_when_requester_user_id_given_mentions_them():
    card = _valid(ticket_card(_ticket(), requester_user_id="U0ANA"))

    assert card.blocks[1]["fields"][3] == {"type": "mrkdwn", "text": "*Requester*\n<@U0ANA>"}


def test_ticket_card_when_requester_missing_says_unknown():
    card = _valid(ticket_card(_ticket(requester=None)))

    assert card.blocks[1]["fields"][3] == {"type": "mrkdwn", "text": "*Requester*\nunknown requester"}


@pytest.mark.parametrize("url", [None, "javascript:alert(1)", "ftp://x"])
def test_ticket_card_when_url_unsafe_has_no_link_and_no_url_button(url):
    card = _valid(ticket_card(_ticket(url=url, subject="a<b")))

    assert card.blocks[0]["text"]["text"] == "*a&lt;b*"
    assert _buttons(card) == [
        (ids.CARD_COMMENT, None, "123"),
        (ids.CARD_SOLVE, None, "123"),
        (ids.CARD_REFRESH, None, "123"),
    ]
    assert "javascript" not in _all_text(card) and "ftp:" not in _all_text(card)


@pytest.mark.parametrize("status", ["solved", "closed"])
def test_ticket_card_when_solved_or_closed_has_no_solve_button(status):
    card = _valid(ticket_card(_ticket(status=status)))

    assert [action for action, _, _ in _buttons(card)] == [
        ids.OPEN_TICKET,
        ids.CARD_COMMENT,
        ids.CARD_REFRESH,
    ]


def test_ticket_card_when_actions_false_has_no_actions_block():
    card = _valid(ticket_card(_ticket(), actions=False))

    assert [block["type"] for block in card.blocks] == ["section", "section", "context"]


def test_ticket_card_when_status_and_severity_unknown_shows_them_as_text():
    card = _valid(ticket_card(_ticket(status="escalated", severity="critical", platform="perfectscale")))

    assert card.text == "DoiT ticket #123 (critical, escalated): VPN down"
    assert card.blocks[1]["fields"][1:3] == [
        {"type": "mrkdwn", "text": "*Status*\n:grey_question: escalated"},
        {"type": "mrkdwn", "text": "*Severity*\n:grey_question: critical"},
    ]
    assert card.blocks[1]["fields"][4] == {"type": "mrkdwn", "text": "*Platform*\nperfectscale"}


def test_ticket_card_when_status_and_severity_empty_says_so():
    card = _valid(ticket_card(_ticket(status="", severity="", platform=None)))

    assert card.text == "DoiT ticket #123 (no severity, unknown status): VPN down"
    assert card.blocks[1]["fields"][4] == {"type": "mrkdwn", "text": "*Platform*\nunknown platform"}


def test_ticket_card_when_platform_names_given_uses_catalog_name():
    card = ticket_card(_ticket(platform="perfectscale"), platform_names={"perfectscale": "PerfectScale"})

    assert card.blocks[1]["fields"][4] == {"type": "mrkdwn", "text": "*Platform*\nPerfectScale"}


def test_ticket_card_when_subject_is_1600_emoji_cuts_with_ellipsis():
    card = _valid(ticket_card(_ticket(subject="😀" * 1600)))

    assert card.blocks[0]["text"]["text"] == f"*<{URL}|" + "😀" * 124 + ELLIPSIS + ">*"
    assert card.text == "DoiT ticket #123 (High, open): " + "😀" * 99 + ELLIPSIS


def test_ticket_card_when_blank_subject_and_no_times_uses_placeholders():
    card = _valid(ticket_card(_ticket(subject="  ", create_time=None, update_time=None, url=None)))

    assert card.blocks[0]["text"]["text"] == "*(no subject)*"
    assert [block["type"] for block in card.blocks] == ["section", "section", "actions"]


def _many(
    count: int, subject: str = "Cloud SQL {index} restarts every night after the maintenance window"
) -> list[Ticket]:
    return [
        _ticket(id=1000 + index, subject=subject.format(index=index), url=f"{URL}{index}")
        for index in range(count)
    ]


def test_ticket_list_when_one_page_renders_header_context_sections_and_buttons():
    tickets = [_ticket(), _ticket(id=124, subject="a<b", url=None, status="pending", product=None)]

    listing = _valid(
        ticket_list(
            tickets,
            description="open <tickets>",
            page=2,
            shown_from=21,
            next_value="tok-next",
            previous_value="tok-prev",
            asked_by="U0ASKER",
        )
    )

    assert listing.text == "DoiT tickets, open &lt;tickets&gt;: showing 21–22"
    assert listing.blocks == [
        {"type": "header", "text": {"type": "plain_text", "text": "DoiT tickets", "emoji": True}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Asked by <@U0ASKER> · open &lt;tickets&gt; · Showing 21–22 (page 2)",
                }
            ],
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*<{URL}|VPN down>*  #123\n:large_blue_circle: Open · :warning: High (P2) · "
                "Amazon Web Services · EC2 · updated <!date^1785596700^{date_short_pretty}|2026-08-01>",
            },
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*a&lt;b*  #124\n:hourglass_flowing_sand: Pending (waiting on customer) · "
                ":warning: High (P2) · Amazon Web Services · unknown product · "
                "updated <!date^1785596700^{date_short_pretty}|2026-08-01>",
            },
        },
        {
            "type": "actions",
            "block_id": ids.LIST_NAVIGATION,
            "elements": [
                {
                    "type": "button",
                    "action_id": ids.LIST_PREVIOUS,
                    "text": {"type": "plain_text", "text": "Previous", "emoji": True},
                    "value": "tok-prev",
                },
                {
                    "type": "button",
                    "action_id": ids.LIST_NEXT,
                    "text": {"type": "plain_text", "text": "Next", "emoji": True},
                    "value": "tok-next",
                },
            ],
        },
    ]


@pytest.mark.parametrize(
    ("next_value", "previous_value", "expected"),
    [
        ("n", None, [(ids.LIST_NEXT, None, "n")]),
        (None, "p", [(ids.LIST_PREVIOUS, None, "p")]),
        (None, None, []),
        ("", "", []),
    ],
)
def test_ticket_list_when_page_values_missing_omits_their_buttons(next_value, previous_value, expected):
    listing = _valid(
        ticket_list(
            _many(3),
            description="open",
            page=1,
            shown_from=1,
            next_value=next_value,
            previous_value=previous_value,
        )
    )

    assert _buttons(listing) == expected
    assert listing.blocks[-1]["type"] == ("actions" if expected else "section")


def test_ticket_list_when_page_value_too_long_raises():
    with pytest.raises(ValueError, match="at most 2000"):
        ticket_list(
            _many(1), description="x", page=1, shown_from=1, next_value="n" * 2001, previous_value=None
        )


def test_ticket_list_when_100_tickets_stays_within_50_blocks_and_says_how_many_are_left_out():
    listing = _valid(
        ticket_list(_many(100), description="open", page=1, shown_from=1, next_value="n", previous_value=None)
    )
    sections = [block for block in listing.blocks if block["type"] == "section"]

    assert len(listing.blocks) <= 50
    assert len(sections) == 39
    assert listing.blocks[1]["elements"][0]["text"] == (
        "open · Showing 1–39 (page 1) · 61 more on this page don't fit in one message: "
        "narrow the search to see them"
    )
    assert listing.text == "DoiT tickets, open: showing 1–39"
    assert sections[0]["text"]["text"].startswith(
        f"*<{URL}0|Cloud SQL 0 restarts every night after the maintenance wind{ELLIPSIS}>*  #1000\n"
    )


def test_ticket_list_when_45_short_tickets_shows_all_45():
    tickets = [_ticket(id=index, subject="x", url=None, platform="doit", product="P") for index in range(45)]

    listing = _valid(
        ticket_list(tickets, description="", page=1, shown_from=1, next_value=None, previous_value=None)
    )

    assert LIST_MAX_TICKETS == 45
    assert len(listing.blocks) == 47
    assert listing.blocks[1]["elements"][0]["text"] == "all tickets · Showing 1–45 (page 1)"


def test_ticket_list_when_subjects_are_1600_emoji_cuts_them_and_fits():
    listing = _valid(
        ticket_list(
            _many(40, subject="😀" * 1600),
            description="x",
            page=1,
            shown_from=1,
            next_value="n",
            previous_value=None,
        )
    )
    first = listing.blocks[2]["text"]["text"]

    assert len(listing.blocks) == 43
    assert first.startswith(f"*<{URL}0|" + "😀" * 29 + ELLIPSIS + ">*  #1000\n")
    assert all(slack_length(block["text"]["text"]) <= 3000 for block in listing.blocks[2:-1])


def test_ticket_list_when_hostile_subjects_escapes_them():
    listing = _valid(
        ticket_list(
            [_ticket(subject=HOSTILE)],
            description=HOSTILE,
            page=1,
            shown_from=1,
            next_value=None,
            previous_value=None,
        )
    )

    assert "<!channel>" not in _all_text(listing)
    assert "<https://evil.example|" not in _all_text(listing)
    assert listing.blocks[2]["text"]["text"].startswith(f"*<{URL}|{ESCAPED_HOSTILE}>*")


def test_ticket_list_when_empty_returns_the_empty_message():
    listing = ticket_list(
        [], description="since:7d", page=1, shown_from=1, next_value=None, previous_value=None
    )

    assert listing == empty_ticket_list("since:7d")


def test_empty_ticket_list_when_called_suggests_broader_query():
    message = _valid(empty_ticket_list("open <x> since:7d"))

    assert message.text == "No DoiT tickets match your search: open &lt;x&gt; since:7d."
    assert message.blocks == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": ":mag: No DoiT tickets match your search: open &lt;x&gt; since:7d.\n"
                "Try a broader search, such as `/doit list open`, or drop `since:` to look further back.",
            },
        }
    ]


def _comment(index: int, body: str = "", **changes: object) -> Comment:
    fields: dict[str, object] = {
        "id": index,
        "body": body or f"comment {index}",
        "author": f"author{index}@example.com",
        "created": datetime(2026, 8, 2, 10, index, tzinfo=UTC),
    }
    fields.update(changes)
    return Comment(**fields)


def test_ticket_detail_when_few_comments_shows_all_newest_last():
    comments = [_comment(2), _comment(1, body="<p>Hello &amp; <b>bye</b></p>")]

    detail = _valid(ticket_detail(_ticket(description="It <i>broke</i>"), comments))

    assert detail.text == "DoiT ticket #123 (High, open): VPN down"
    assert [block["type"] for block in detail.blocks] == [
        "header",
        "section",
        "context",
        "section",
        "section",
        "section",
        "actions",
    ]
    assert detail.blocks[0]["text"]["text"] == "VPN down"
    assert detail.blocks[1]["fields"][0] == {"type": "mrkdwn", "text": f"*Ticket*\n<{URL}|#123>"}
    assert detail.blocks[3]["text"]["text"] == "*Description*\nIt broke"
    assert detail.blocks[4]["text"]["text"] == (
        "*author1@example.com* · <!date^1785664860^{date_short_pretty} at {time}|2026-08-02 10:01 UTC>\n"
        "Hello &amp; bye"
    )
    assert detail.blocks[5]["text"]["text"].startswith("*author2@example.com*")
    assert _buttons(detail) == [(ids.OPEN_TICKET, URL, "123"), (ids.SHOW_ADD_COMMENT, None, "123")]
    assert detail.blocks[6]["block_id"] == ids.DETAIL_ACTIONS


def test_ticket_detail_when_many_comments_shows_latest_and_counts_the_rest():
    detail = _valid(ticket_detail(_ticket(description="d"), [_comment(index) for index in range(8)]))

    assert detail.blocks[4] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"3 earlier comments not shown. <{URL}|See them in DoiT>"}],
    }
    assert [block["text"]["text"].split("*")[1] for block in detail.blocks[5:-1]] == [
        f"author{index}@example.com" for index in range(3, 8)
    ]


def test_ticket_detail_when_description_is_3500_characters_cuts_with_read_more_link():
    detail = _valid(ticket_detail(_ticket(description="word " * 700), []))

    text = detail.blocks[3]["text"]["text"]
    assert text == "*Description*\n" + ("word " * 300).strip() + ELLIPSIS + f"\n<{URL}|Read the rest in DoiT>"


def test_ticket_detail_when_description_cut_and_url_unsafe_has_no_link():
    detail = _valid(ticket_detail(_ticket(description="x" * 3500, url="javascript:alert(1)"), []))

    assert detail.blocks[3]["text"]["text"] == "*Description*\n" + "x" * 1499 + ELLIPSIS
    assert _buttons(detail) == [(ids.SHOW_ADD_COMMENT, None, "123")]
    assert "javascript" not in _all_text(detail)


def test_ticket_detail_when_description_missing_says_so():
    detail = _valid(ticket_detail(_ticket(description=None), []))

    assert detail.blocks[3]["text"]["text"] == "*Description*\n_No description._"


def test_ticket_detail_when_comments_are_long_shrinks_them_to_fit():
    comments = [_comment(index, body="y" * 3000) for index in range(8)]

    detail = _valid(ticket_detail(_ticket(description="z" * 3500), comments, comments_shown=8))
    texts = [block["text"]["text"] for block in detail.blocks[4:-1]]

    assert len(texts) == 8
    assert all(text.endswith("\n" + "y" * 749 + ELLIPSIS) for text in texts)
    assert detail.blocks[3]["text"]["text"].startswith("*Description*\n" + "z" * 1499 + ELLIPSIS)


def test_ticket_detail_when_hostile_subject_and_comment_escapes_them():
    comments = [_comment(1, body=HOSTILE, author="<!here>")]

    detail = _valid(ticket_detail(_ticket(subject=HOSTILE, description=HOSTILE), comments))

    assert detail.blocks[0]["text"]["text"] == HOSTILE  # plain_text: Slack shows it literally
    assert "<!channel>" not in repr(detail.blocks[1:]) and "<!here>" not in repr(detail.blocks)
    assert "<https://evil.example|" not in repr(detail.blocks[1:])
    assert detail.blocks[3]["text"]["text"] == "*Description*\n" + ESCAPED_HOSTILE


def test_ticket_detail_when_comment_has_attachments_links_the_safe_ones():
    attachments = tuple(
        Attachment(file_name=f"f{index}.log", content_url=url)
        for index, url in enumerate(
            ["https://files.example/0", "javascript:x", None, "https://files.example/3"]
        )
    )

    detail = _valid(ticket_detail(_ticket(), [_comment(1, attachments=attachments)]))

    assert detail.blocks[4]["text"]["text"].endswith(
        "\n:paperclip: <https://files.example/0|f0.log>, f1.log, f2.log, 1 more"
    )


def test_ticket_detail_when_subject_is_1600_emoji_header_fits_150():
    detail = _valid(ticket_detail(_ticket(subject="😀" * 1600), []))

    assert detail.blocks[0]["text"]["text"] == "😀" * 74 + ELLIPSIS


def test_unfurl_card_when_ticket_given_shows_subject_status_severity():
    unfurl = unfurl_card(_ticket(subject=HOSTILE, status="escalated"))

    assert message_problems("unfurl", unfurl["blocks"]) == []
    assert unfurl == {
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*<{URL}|{ESCAPED_HOSTILE}>*"}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "#123 · :grey_question: escalated · :warning: High (P2) · "
                        "Amazon Web Services · EC2",
                    }
                ],
            },
        ]
    }
