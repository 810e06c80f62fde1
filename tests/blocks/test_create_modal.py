from datetime import UTC, datetime

import pytest

from bot.blocks import ids
from bot.blocks.create_modal import (
    DESCRIPTION_MAX,
    SUBJECT_MAX,
    TicketDraft,
    create_modal,
    draft_from_state,
    filed_modal,
    filing_modal,
    is_valid_email,
    loading_modal,
    product_options,
    validate_draft,
)
from bot.blocks.limits import view_problems
from bot.blocks.text import ELLIPSIS, slack_length
from bot.support.models import Platform, Product, Ticket

HOSTILE = "<!channel> VPN down & <https://evil.example|reset password> if a<b"
ESCAPED_HOSTILE = "&lt;!channel&gt; VPN down &amp; &lt;https://evil.example|reset password&gt; if a&lt;b"
PLATFORMS = [
    Platform(id="amazon_web_services", display_name="Amazon Web Services"),
    Platform(id="google_cloud_platform", display_name="Google Cloud"),
]
FULL = TicketDraft(
    subject="VPN down",
    description="Since 9:00",
    severity="high",
    platform="amazon_web_services",
    product="ec2",
    product_label="EC2",
    requester_email="ana@example.com",
    notify_channel="C0SUPPORT",
)


def _valid(view: dict) -> dict:
    assert view_problems(view) == []
    return view


def _block(view: dict, block_id: str) -> dict:
    return next(block for block in view["blocks"] if block.get("block_id") == block_id)


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(value: str, text: str) -> dict:
    return {"text": _plain(text), "value": value}


def test_ticket_draft_to_json_when_defaults_is_empty_object():
    assert TicketDraft().to_json() == "{}"


def test_ticket_draft_to_json_when_filled_round_trips():
    text = FULL.to_json()

    assert text.startswith('{"subject":"VPN down","description":"Since 9:00","severity":"high"')
    assert TicketDraft.from_json(text) == FULL


def test_ticket_draft_from_json_when_blank_or_junk_keys_ignores_them():
    assert TicketDraft.from_json("") == TicketDraft()
    assert TicketDraft.from_json('{"subject": "x", "bogus": 1, "platform": 5}') == TicketDraft(subject="x")


@pytest.mark.parametrize("text", ["not json", "[1]", '"x"'])
def test_ticket_draft_from_json_when_not_an_object_raises(text):
    with pytest.raises(ValueError, match="JSON object"):
        TicketDraft.from_json(text)


def test_loading_modal_when_called_has_no_submit():
    view = _valid(loading_modal())

    assert view == {
        "type": "modal",
        "callback_id": ids.LOADING_CALLBACK,
        "title": _plain("New DoiT ticket"),
        "close": _plain("Cancel"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": ":hourglass_flowing_sand: Loading…"}}
        ],
    }


def test_loading_modal_when_title_long_cuts_it_to_24():
    assert (
        loading_modal("A very long title for a modal")["title"]["text"]
        == "A very long title for a" + ELLIPSIS
    )


def test_create_modal_when_empty_draft_has_inputs_in_order_and_no_initial_values():
    view = _valid(
        create_modal(TicketDraft(subject="", description=""), platforms=PLATFORMS, ask_requester=False)
    )

    assert [block["block_id"] for block in view["blocks"]] == [
        ids.SUBJECT,
        ids.DESCRIPTION,
        ids.SEVERITY,
        ids.PLATFORM,
        ids.PRODUCT,
        ids.CHANNEL,
    ]
    assert (view["callback_id"], view["title"], view["submit"], view["close"]) == (
        ids.CREATE_CALLBACK,
        _plain("New DoiT ticket"),
        _plain("File ticket"),
        _plain("Cancel"),
    )
    assert "private_metadata" not in view
    assert "initial_value" not in _block(view, ids.SUBJECT)["element"]
    assert "initial_value" not in _block(view, ids.DESCRIPTION)["element"]
    assert "initial_option" not in _block(view, ids.PLATFORM)["element"]
    assert "initial_option" not in _block(view, ids.PRODUCT)["element"]
    assert "initial_conversation" not in _block(view, ids.CHANNEL)["element"]


def test_create_modal_when_whitespace_only_draft_sends_no_initial_value():
    view = _valid(
        create_modal(TicketDraft(subject="  ", description=" \n "), platforms=[], ask_requester=True)
    )

    assert "initial_value" not in _block(view, ids.SUBJECT)["element"]
    assert "initial_value" not in _block(view, ids.DESCRIPTION)["element"]
    assert "initial_value" not in _block(view, ids.REQUESTER)["element"]


def test_create_modal_when_full_draft_fills_every_input():
    view = _valid(create_modal(FULL, platforms=PLATFORMS, ask_requester=True, private_metadata='{"k":1}'))

    assert view["private_metadata"] == '{"k":1}'
    assert _block(view, ids.SUBJECT)["element"] == {
        "type": "plain_text_input",
        "action_id": ids.SUBJECT_INPUT,
        "initial_value": "VPN down",
        "max_length": SUBJECT_MAX,
        "placeholder": _plain("What is wrong, in one line"),
    }
    description = _block(view, ids.DESCRIPTION)["element"]
    assert (description["initial_value"], description["multiline"], description["max_length"]) == (
        "Since 9:00",
        True,
        DESCRIPTION_MAX,
    )
    assert _block(view, ids.SEVERITY)["element"]["initial_option"]["value"] == "high"
    platform = _block(view, ids.PLATFORM)
    assert platform["dispatch_action"] is True
    assert platform["element"]["action_id"] == ids.PLATFORM_CHANGED
    assert platform["element"]["options"] == [
        _option("amazon_web_services", "Amazon Web Services"),
        _option("google_cloud_platform", "Google Cloud"),
    ]
    assert platform["element"]["initial_option"] == _option("amazon_web_services", "Amazon Web Services")
    assert _block(view, ids.PRODUCT)["element"] == {
        "type": "external_select",
        "action_id": ids.PRODUCT_INPUT,
        "min_query_length": 0,
        "initial_option": _option("ec2", "EC2"),
        "placeholder": _plain("Search products"),
    }
    assert _block(view, ids.REQUESTER)["element"]["initial_value"] == "ana@example.com"
    channel = _block(view, ids.CHANNEL)
    assert channel["optional"] is True
    assert channel["element"] == {
        "type": "conversations_select",
        "action_id": ids.CHANNEL_INPUT,
        "initial_conversation": "C0SUPPORT",
        "default_to_current_conversation": False,
        "response_url_enabled": True,
        "filter": {"exclude_bot_users": True},
        "placeholder": _plain("Pick a channel"),
    }


def test_create_modal_when_severity_options_built_say_what_each_means():
    view = create_modal(TicketDraft(), platforms=PLATFORMS, ask_requester=False)
    severity = _block(view, ids.SEVERITY)["element"]

    assert [(o["value"], o["text"]["text"]) for o in severity["options"]] == [
        ("urgent", "Urgent"),
        ("high", "High"),
        ("normal", "Normal"),
        ("low", "Low"),
    ]
    assert severity["options"][0]["description"] == _plain(
        "P1, production down: first answer within 30 minutes, around the clock"
    )
    assert all(slack_length(o["description"]["text"]) <= 75 for o in severity["options"])
    assert severity["initial_option"]["value"] == "normal"


def test_create_modal_when_unknown_severity_has_no_initial_option():
    view = _valid(create_modal(TicketDraft(severity="critical"), platforms=PLATFORMS, ask_requester=False))

    assert "initial_option" not in _block(view, ids.SEVERITY)["element"]


def test_create_modal_when_notice_given_shows_it_first_and_submit_says_try_again():
    view = _valid(
        create_modal(FULL, platforms=PLATFORMS, ask_requester=False, notice="DoiT said <no> & more")
    )

    assert view["blocks"][0] == {
        "type": "section",
        "block_id": ids.NOTICE,
        "text": {"type": "mrkdwn", "text": ":warning: DoiT said &lt;no&gt; &amp; more"},
    }
    assert view["submit"] == _plain("Try again")


def test_create_modal_when_inputs_too_long_cuts_them():
    draft = TicketDraft(subject="😀" * 1600, description="d" * 3500, requester_email="a" * 300)

    view = _valid(create_modal(draft, platforms=PLATFORMS, ask_requester=True))

    assert _block(view, ids.SUBJECT)["element"]["initial_value"] == "😀" * 74 + ELLIPSIS
    assert _block(view, ids.DESCRIPTION)["element"]["initial_value"] == "d" * 2999 + ELLIPSIS
    assert slack_length(_block(view, ids.REQUESTER)["element"]["initial_value"]) == 254


def test_create_modal_when_hostile_subject_keeps_it_verbatim_in_plain_input():
    view = _valid(create_modal(TicketDraft(subject=HOSTILE), platforms=PLATFORMS, ask_requester=False))

    assert _block(view, ids.SUBJECT)["element"]["initial_value"] == HOSTILE


def test_create_modal_when_no_platforms_offers_the_built_in_table():
    view = _valid(create_modal(TicketDraft(), platforms=[], ask_requester=False))

    assert [o["value"] for o in _block(view, ids.PLATFORM)["element"]["options"]] == [
        "google_cloud_platform",
        "amazon_web_services",
        "microsoft_azure",
        "doit",
    ]


def test_create_modal_when_150_platforms_with_long_names_caps_and_cuts():
    platforms = [
        Platform(id=f"p{index}", display_name=f"Platform {index} " + "x" * 80) for index in range(150)
    ]

    view = _valid(create_modal(TicketDraft(platform="p149"), platforms=platforms, ask_requester=False))
    element = _block(view, ids.PLATFORM)["element"]

    assert len(element["options"]) == 100
    assert element["options"][0]["text"]["text"] == "Platform 0 " + "x" * 63 + ELLIPSIS
    assert "initial_option" not in element


def test_draft_from_state_when_slack_state_given_reads_every_input():
    values = {
        ids.SUBJECT: {ids.SUBJECT_INPUT: {"type": "plain_text_input", "value": "VPN down"}},
        ids.DESCRIPTION: {ids.DESCRIPTION_INPUT: {"type": "plain_text_input", "value": "Since 9:00"}},
        ids.SEVERITY: {
            ids.SEVERITY_INPUT: {"type": "static_select", "selected_option": _option("high", "High")}
        },
        ids.PLATFORM: {
            ids.PLATFORM_INPUT: {
                "type": "static_select",
                "selected_option": _option("amazon_web_services", "Amazon Web Services"),
            }
        },
        ids.PRODUCT: {
            ids.PRODUCT_INPUT: {"type": "external_select", "selected_option": _option("ec2", "EC2")}
        },
        ids.REQUESTER: {ids.REQUESTER_INPUT: {"type": "plain_text_input", "value": " ana@example.com "}},
        ids.CHANNEL: {
            ids.CHANNEL_INPUT: {"type": "conversations_select", "selected_conversation": "C0SUPPORT"}
        },
    }

    assert draft_from_state(values) == FULL


def test_draft_from_state_when_inputs_empty_gives_empty_fields():
    values = {
        ids.SUBJECT: {ids.SUBJECT_INPUT: {"type": "plain_text_input", "value": None}},
        ids.DESCRIPTION: {ids.DESCRIPTION_INPUT: {"type": "plain_text_input", "value": None}},
        ids.SEVERITY: {ids.SEVERITY_INPUT: {"type": "static_select", "selected_option": None}},
        ids.PLATFORM: {ids.PLATFORM_INPUT: {"type": "static_select", "selected_option": None}},
        ids.PRODUCT: {ids.PRODUCT_INPUT: {"type": "external_select", "selected_option": None}},
        ids.CHANNEL: {ids.CHANNEL_INPUT: {"type": "conversations_select", "selected_conversation": None}},
    }

    assert draft_from_state(values, fallback=FULL) == TicketDraft(
        subject="", description="", severity="", requester_email="ana@example.com"
    )


def test_draft_from_state_when_blocks_missing_keeps_fallback_values():
    values = {ids.SUBJECT: {ids.SUBJECT_INPUT: {"type": "plain_text_input", "value": "New subject"}}}

    assert draft_from_state(values, fallback=FULL) == TicketDraft(
        **{**FULL.__dict__, "subject": "New subject"}
    )
    assert draft_from_state({}) == TicketDraft()


def test_validate_draft_when_complete_returns_no_errors():
    assert validate_draft(FULL, ask_requester=True) == {}


def test_validate_draft_when_everything_missing_names_every_input():
    draft = TicketDraft(subject=" ", description="   ", severity="", requester_email="not an email")

    assert validate_draft(draft, ask_requester=True) == {
        ids.SUBJECT: "Write a subject: one line that says what is wrong.",
        ids.DESCRIPTION: "Describe the problem: what happened and what you expected.",
        ids.SEVERITY: "Pick a severity.",
        ids.PLATFORM: "Pick a platform.",
        ids.PRODUCT: "Pick a product.",
        ids.REQUESTER: "Enter the requester's email address, like name@example.com.",
    }


def test_validate_draft_when_description_only_spaces_flags_description_only():
    draft = TicketDraft(**{**FULL.__dict__, "description": " " * 40})

    assert validate_draft(draft, ask_requester=False) == {
        ids.DESCRIPTION: "Describe the problem: what happened and what you expected."
    }


def test_validate_draft_when_requester_not_asked_ignores_email():
    draft = TicketDraft(**{**FULL.__dict__, "requester_email": None})

    assert validate_draft(draft, ask_requester=False) == {}
    assert validate_draft(draft, ask_requester=True) == {
        ids.REQUESTER: "Enter the requester's email address, like name@example.com."
    }


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("ana@example.com", True),
        ("ana.maria+doit@sub.example.co.uk", True),
        ("ana@example", False),
        ("ana example@example.com", False),
        ("@example.com", False),
        ("ana@@example.com", False),
        ("<ana@example.com>", False),
        ("ana@-example.com", False),
        ("a" * 250 + "@example.com", False),
    ],
)
def test_is_valid_email_when_checked_accepts_only_sane_addresses(address, valid):
    assert is_valid_email(address) is valid


def test_filing_modal_when_called_shows_subject_without_submit():
    view = _valid(filing_modal(TicketDraft(subject=HOSTILE)))

    assert "submit" not in view
    assert view["blocks"] == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f":hourglass_flowing_sand: Filing your ticket…\n*{ESCAPED_HOSTILE}*",
            },
        }
    ]


def _ticket(**changes: object) -> Ticket:
    fields: dict[str, object] = {
        "id": 123,
        "subject": "VPN down",
        "status": "new",
        "url": "https://console.doit.com/support/tickets/123",
        "create_time": datetime(2026, 8, 1, tzinfo=UTC),
    }
    fields.update(changes)
    return Ticket(**fields)


def test_filed_modal_when_posted_in_channel_says_where():
    view = _valid(filed_modal(_ticket(), channel_id="C0SUPPORT", note="Mention <here>"))

    assert (view["callback_id"], view["title"], view["close"]) == (
        ids.FILED_CALLBACK,
        _plain("Ticket filed"),
        _plain("Done"),
    )
    assert view["blocks"] == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": ":white_check_mark: Filed DoiT ticket *#123*: "
                "<https://console.doit.com/support/tickets/123|VPN down>\n"
                "Status: :new: New\nI posted the ticket card in <#C0SUPPORT>.",
            },
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Mention &lt;here&gt;"}]},
    ]


@pytest.mark.parametrize("url", [None, "javascript:alert(1)", "ftp://x"])
def test_filed_modal_when_url_unsafe_shows_subject_without_link(url):
    view = _valid(filed_modal(_ticket(url=url, subject=HOSTILE), channel_id=None))

    assert view["blocks"][0]["text"]["text"] == (
        f":white_check_mark: Filed DoiT ticket *#123*: {ESCAPED_HOSTILE}\nStatus: :new: New"
    )


def _products(count: int) -> list[Product]:
    return [Product(id=f"prod-{index:03}", display_name=f"Service {index:03}") for index in range(count)]


def test_product_options_when_150_products_returns_100_and_cuts_long_name():
    long_name = "Aurora " + "L" * 73
    products = [*_products(149), Product(id="aurora", display_name=long_name)]

    options = product_options(products, "")

    assert len(long_name) == 80
    assert len(options) == 100
    assert options[0] == _option("aurora", "Aurora " + "L" * 67 + ELLIPSIS)
    assert slack_length(options[0]["text"]["text"]) == 75
    assert options[1] == _option("prod-000", "Service 000")
    assert options[-1] == _option("prod-098", "Service 098")


def test_product_options_when_typed_matches_case_insensitively_prefix_first():
    products = [
        Product(id="sql", display_name="Cloud SQL"),
        Product(id="ec2", display_name="EC2"),
        Product(id="sqs", display_name="sqs queues"),
        Product(id="bq", display_name="BigQuery"),
        Product(id="sql", display_name="Cloud SQL duplicate"),
    ]

    assert [o["value"] for o in product_options(products, " SQ ")] == ["sqs", "sql"]
    assert product_options(products, "nothing") == []


def test_product_options_when_id_longer_than_150_leaves_it_out():
    products = [Product(id="x" * 151, display_name="Too long"), Product(id="ok", display_name="Fine")]

    assert product_options(products, "") == [_option("ok", "Fine")]
