from bot.blocks import limits
from bot.blocks.limits import message_problems, payload_length, view_problems


def _section(text: str, **extra: object) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def _button(action_id: str, text: str = "Go", **extra: object) -> dict:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, **extra}


def _option(value: str, text: str = "x") -> dict:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def _input(element: dict, block_id: str = "b") -> dict:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": "L"},
        "element": element,
    }


def _modal(blocks: list[dict], **extra: object) -> dict:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": blocks}
    view.update(extra)
    return view


def test_limits_constants_match_slack():
    assert (limits.MAX_MESSAGE_BLOCKS, limits.MAX_VIEW_BLOCKS) == (50, 100)
    assert (limits.SECTION_TEXT, limits.SECTION_FIELD, limits.HEADER_TEXT) == (3000, 2000, 150)
    assert (limits.VIEW_TITLE, limits.PRIVATE_METADATA, limits.OPTIONS) == (24, 3000, 100)
    assert (limits.OPTION_TEXT, limits.OPTION_VALUE, limits.BUTTON_TEXT) == (75, 150, 75)
    assert (limits.BUTTON_URL, limits.BUTTON_VALUE, limits.MESSAGE_TEXT) == (3000, 2000, 40000)
    assert limits.CONTEXT_ELEMENTS == 10


def test_message_problems_when_valid_returns_nothing():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "H"}},
        _section("x", block_id="s"),
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}]},
        {"type": "actions", "elements": [_button("a", value="1"), _button("b", url="https://a.example")]},
    ]

    assert message_problems("hello", blocks) == []


def test_message_problems_when_text_missing_or_blank_says_so():
    expected = ["text: missing top-level text (the notification and screen-reader fallback)"]

    assert message_problems(None, [_section("x")]) == expected
    assert message_problems("  ", [_section("x")]) == expected


def test_message_problems_when_too_many_blocks_counts_them():
    assert message_problems("t", [{"type": "divider"}] * 51) == ["blocks: 51 blocks, limit 50"]


def test_message_problems_when_texts_too_long_or_empty_lists_each():
    blocks = [
        _section("x" * 3001),
        _section(""),
        {"type": "header", "text": {"type": "plain_text", "text": "😀" * 76}},
        {"type": "header", "text": {"type": "mrkdwn", "text": "h"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}] * 11},
        {"type": "section"},
    ]

    assert message_problems("t", blocks) == [
        "blocks[0].text.text: 3001 characters, limit 3000",
        "blocks[1].text.text: empty text",
        "blocks[2].text.text: 152 characters, limit 150",
        "blocks[3].text.type: must be plain_text",
        "blocks[4].fields: 11 fields, limit 10",
        *[f"blocks[4].fields[{index}].text: 2001 characters, limit 2000" for index in range(11)],
        "blocks[5]: a section needs text or fields",
        f"payload: {payload_length(blocks)} characters of JSON, limit 13000",
    ]


def test_message_problems_when_actions_break_rules_lists_each():
    actions = {
        "type": "actions",
        "elements": [
            _button("same", text="x" * 76, value="v" * 2001),
            _button("same", url="https://a.example/" + "x" * 3000),
            _button("", text=""),
        ],
    }

    assert message_problems("t", [actions, {"type": "actions", "elements": []}]) == [
        "blocks[0].elements[0].text.text: 76 characters, limit 75",
        "blocks[0].elements[0].value: 2001 characters, limit 2000",
        "blocks[0].elements[1].action_id: duplicate action_id 'same' in this block",
        "blocks[0].elements[1].url: 3018 characters, limit 3000",
        "blocks[0].elements[2].action_id: empty",
        "blocks[0].elements[2].text.text: empty text",
        "blocks[1].elements: an actions block needs at least one element",
    ]


def test_message_problems_when_context_has_eleven_elements_says_so():
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}

    assert message_problems("t", [context]) == ["blocks[0].elements: 11 elements, limit 10"]


def test_message_problems_when_block_ids_repeat_or_type_unknown_says_so():
    blocks = [_section("a", block_id="x"), _section("b", block_id="x"), {"type": "bogus"}, "nope"]

    assert message_problems("t", blocks) == [  # type: ignore[arg-type]
        "blocks[1].block_id: duplicate block_id 'x'",
        "blocks[2].type: unknown block type 'bogus'",
        "blocks[3]: not an object",
    ]


def test_message_problems_when_payload_over_13000_reports_size():
    blocks = [_section("x" * 2990) for _ in range(5)]
    size = payload_length(blocks)

    assert size > 13000
    assert message_problems("t", blocks) == [f"payload: {size} characters of JSON, limit 13000"]


def test_message_problems_when_text_over_40000_says_so():
    assert message_problems("t" * 40001, [_section("x")]) == ["text: 40001 characters, limit 40000"]


def test_view_problems_when_valid_modal_returns_nothing():
    select = {
        "type": "static_select",
        "action_id": "s",
        "options": [_option("a"), _option("b")],
        "initial_option": _option("b"),
    }
    view = _modal(
        [_input({"type": "plain_text_input", "action_id": "p", "initial_value": "x"}), _input(select, "c")],
        submit={"type": "plain_text", "text": "Go"},
        close={"type": "plain_text", "text": "Cancel"},
        private_metadata="{}",
        callback_id="cb",
    )

    assert view_problems(view) == []


def test_view_problems_when_modal_breaks_rules_lists_each():
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "A title that is far too long"},
        "close": {"type": "plain_text", "text": ""},
        "blocks": [_input({"type": "plain_text_input", "action_id": "p", "initial_value": ""})],
        "private_metadata": "m" * 3001,
    }

    assert view_problems(view) == [
        "title.text: 28 characters, limit 24",
        "close.text: empty text",
        "submit: a modal with input blocks needs a submit button",
        "private_metadata: 3001 characters, limit 3000",
        "blocks[0].element.initial_value: empty initial_value (leave the key out instead)",
    ]


def test_view_problems_when_options_over_limits_lists_each():
    select = {
        "type": "static_select",
        "action_id": "s",
        "options": [_option(str(index)) for index in range(100)]
        + [_option("v" * 151, "t" * 76)]
        + [{**_option("d"), "description": {"type": "plain_text", "text": "d" * 76}}],
        "initial_option": _option("missing"),
    }

    assert view_problems(_modal([_input(select)], submit={"type": "plain_text", "text": "Go"})) == [
        "blocks[0].element.options: 102 options, limit 100",
        "blocks[0].element.options[100].text.text: 76 characters, limit 75",
        "blocks[0].element.options[100].value: 151 characters, limit 150",
        "blocks[0].element.options[101].description.text: 76 characters, limit 75",
        "blocks[0].element.initial_option: value 'missing' is not among the options",
    ]


def test_view_problems_when_text_input_lengths_wrong_lists_each():
    element = {"type": "plain_text_input", "action_id": "p", "max_length": 5, "initial_value": "toolong"}
    too_big = {"type": "plain_text_input", "action_id": "q", "max_length": 3001}
    view = _modal([_input(element), _input(too_big, "c")], submit={"type": "plain_text", "text": "Go"})

    assert view_problems(view) == [
        "blocks[0].element.initial_value: 7 characters, limit 5",
        "blocks[1].element.max_length: 3001 is not a whole number in 0..3000",
    ]


def test_view_problems_when_no_blocks_or_too_many_says_so():
    assert view_problems(_modal([])) == ["blocks: a view needs at least one block"]
    assert view_problems(_modal([{"type": "divider"}] * 101)) == ["blocks: 101 blocks, limit 100"]


def test_view_problems_when_home_has_submit_or_bad_type_says_so():
    home = {"type": "home", "blocks": [_section("x")], "submit": {"type": "plain_text", "text": "Go"}}

    assert view_problems(home) == ["home: a Home tab cannot have submit or close"]
    assert view_problems({"type": "dialog", "blocks": [_section("x")]}) == [
        "type: 'dialog' is not 'modal' or 'home'"
    ]
