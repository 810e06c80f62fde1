"""Slack's size limits, and a validator that lists every way a payload breaks them.

The builders cut text to these limits; the validator is the independent check that tests and
the fake Slack server run on whatever a builder or handler produced. Lengths are counted with
:func:`bot.blocks.text.slack_length`, the same conservative measure the builders use.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from bot.blocks.text import slack_length

logger = logging.getLogger(__name__)

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
SECTION_FIELD = 2000
SECTION_FIELDS = 10
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
VIEW_TITLE = 24
VIEW_SUBMIT = 24
VIEW_CLOSE = 24
PRIVATE_METADATA = 3000
CALLBACK_ID = 255
BLOCK_ID = 255
ACTION_ID = 255
OPTIONS = 100
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTION_DESCRIPTION = 75
PLACEHOLDER = 150
BUTTON_TEXT = 75
BUTTON_URL = 3000
BUTTON_VALUE = 2000
INPUT_LABEL = 2000
INPUT_HINT = 2000
INPUT_MAX_LENGTH = 3000
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
MESSAGE_TEXT = 40000
MESSAGE_PAYLOAD = 13000
"""Slack starts failing messages whose blocks take about this many characters of JSON."""

_SELECTS_WITH_OPTIONS = frozenset({"static_select", "multi_static_select", "radio_buttons", "checkboxes"})
_TEXT_INPUTS = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})


def payload_length(blocks: list[dict]) -> int:
    """Characters of a message's blocks as JSON, the size Slack's 13k payload failures depend on."""
    return slack_length(json.dumps(blocks, ensure_ascii=False))


def message_problems(text: str | None, blocks: list[dict]) -> list[str]:
    """Every way a ``chat.postMessage``-style payload breaks Slack's limits; empty when valid."""
    problems: list[str] = []
    if not isinstance(text, str) or not text.strip():
        problems.append("text: missing top-level text (the notification and screen-reader fallback)")
    elif slack_length(text) > MESSAGE_TEXT:
        problems.append(_too_long("text", text, MESSAGE_TEXT))
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        problems.append(f"blocks: {len(blocks)} blocks, limit {MAX_MESSAGE_BLOCKS}")
    problems.extend(_blocks_problems(blocks))
    size = payload_length(blocks)
    if size > MESSAGE_PAYLOAD:
        problems.append(f"payload: {size} characters of JSON, limit {MESSAGE_PAYLOAD}")
    return problems


def view_problems(view: dict) -> list[str]:
    """Every way a modal or Home tab view breaks Slack's limits; empty when valid."""
    problems: list[str] = []
    view_type = view.get("type")
    blocks = view.get("blocks") or []
    if view_type not in ("modal", "home"):
        problems.append(f"type: {view_type!r} is not 'modal' or 'home'")
    if view_type == "modal":
        problems.extend(_text_object_problems("title", view.get("title"), VIEW_TITLE, plain_only=True))
    elif view_type == "home" and ("submit" in view or "close" in view):
        problems.append("home: a Home tab cannot have submit or close")
    for key, limit in (("submit", VIEW_SUBMIT), ("close", VIEW_CLOSE)):
        if key in view:
            problems.extend(_text_object_problems(key, view[key], limit, plain_only=True))
    if not blocks:
        problems.append("blocks: a view needs at least one block")
    elif len(blocks) > MAX_VIEW_BLOCKS:
        problems.append(f"blocks: {len(blocks)} blocks, limit {MAX_VIEW_BLOCKS}")
    has_inputs = any(isinstance(block, dict) and block.get("type") == "input" for block in blocks)
    if has_inputs and view_type == "modal" and "submit" not in view:
        problems.append("submit: a modal with input blocks needs a submit button")
    problems.extend(_string_problems("private_metadata", view.get("private_metadata"), PRIVATE_METADATA))
    problems.extend(_string_problems("callback_id", view.get("callback_id"), CALLBACK_ID))
    problems.extend(_blocks_problems(blocks))
    return problems


def _too_long(path: str, text: str, limit: int) -> str:
    return f"{path}: {slack_length(text)} characters, limit {limit}"


def _string_problems(path: str, value: Any, limit: int, *, allow_empty: bool = True) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"{path}: not a string"]
    if not allow_empty and not value:
        return [f"{path}: empty"]
    return [_too_long(path, value, limit)] if slack_length(value) > limit else []


def _text_object_problems(path: str, obj: Any, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{path}: missing text object"]
    problems: list[str] = []
    if obj.get("type") not in ("plain_text", "mrkdwn"):
        problems.append(f"{path}.type: {obj.get('type')!r} is not a text object type")
    elif plain_only and obj.get("type") != "plain_text":
        problems.append(f"{path}.type: must be plain_text")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"{path}.text: empty text")
    elif slack_length(text) > limit:
        problems.append(_too_long(f"{path}.text", text, limit))
    return problems


def _blocks_problems(blocks: list[dict]) -> Iterator[str]:
    seen_block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        path = f"blocks[{index}]"
        if not isinstance(block, dict):
            yield f"{path}: not an object"
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen_block_ids:
                yield f"{path}.block_id: duplicate block_id {block_id!r}"
            seen_block_ids.add(block_id)
            yield from _string_problems(f"{path}.block_id", block_id, BLOCK_ID, allow_empty=False)
        yield from _block_problems(path, block)


def _block_problems(path: str, block: dict) -> Iterator[str]:
    block_type = block.get("type")
    checker = _BLOCK_CHECKERS.get(block_type)  # type: ignore[arg-type]
    if checker is None:
        if block_type not in ("divider", "image", "rich_text", "markdown", "file", "video"):
            yield f"{path}.type: unknown block type {block_type!r}"
        return
    yield from checker(path, block)


def _section_problems(path: str, block: dict) -> Iterator[str]:
    text = block.get("text")
    fields = block.get("fields")
    if text is None and not fields:
        yield f"{path}: a section needs text or fields"
    if text is not None:
        yield from _text_object_problems(f"{path}.text", text, SECTION_TEXT)
    if fields:
        if len(fields) > SECTION_FIELDS:
            yield f"{path}.fields: {len(fields)} fields, limit {SECTION_FIELDS}"
        for index, field in enumerate(fields):
            yield from _text_object_problems(f"{path}.fields[{index}]", field, SECTION_FIELD)
    if "accessory" in block:
        yield from _element_problems(f"{path}.accessory", block["accessory"])


def _header_problems(path: str, block: dict) -> Iterator[str]:
    yield from _text_object_problems(f"{path}.text", block.get("text"), HEADER_TEXT, plain_only=True)


def _context_problems(path: str, block: dict) -> Iterator[str]:
    elements = block.get("elements") or []
    if not elements:
        yield f"{path}.elements: a context needs at least one element"
    if len(elements) > CONTEXT_ELEMENTS:
        yield f"{path}.elements: {len(elements)} elements, limit {CONTEXT_ELEMENTS}"
    for index, element in enumerate(elements):
        if element.get("type") in ("plain_text", "mrkdwn"):
            yield from _text_object_problems(f"{path}.elements[{index}]", element, SECTION_TEXT)


def _actions_problems(path: str, block: dict) -> Iterator[str]:
    elements = block.get("elements") or []
    if not elements:
        yield f"{path}.elements: an actions block needs at least one element"
    if len(elements) > ACTIONS_ELEMENTS:
        yield f"{path}.elements: {len(elements)} elements, limit {ACTIONS_ELEMENTS}"
    seen_action_ids: set[str] = set()
    for index, element in enumerate(elements):
        action_id = element.get("action_id")
        if action_id is not None:
            if action_id in seen_action_ids:
                yield f"{path}.elements[{index}].action_id: duplicate action_id {action_id!r} in this block"
            seen_action_ids.add(action_id)
        yield from _element_problems(f"{path}.elements[{index}]", element)


def _input_problems(path: str, block: dict) -> Iterator[str]:
    yield from _text_object_problems(f"{path}.label", block.get("label"), INPUT_LABEL, plain_only=True)
    if "hint" in block:
        yield from _text_object_problems(f"{path}.hint", block["hint"], INPUT_HINT, plain_only=True)
    element = block.get("element")
    if not isinstance(element, dict):
        yield f"{path}.element: missing"
        return
    yield from _element_problems(f"{path}.element", element)


def _element_problems(path: str, element: dict) -> Iterator[str]:
    element_type = element.get("type")
    yield from _string_problems(f"{path}.action_id", element.get("action_id"), ACTION_ID, allow_empty=False)
    if "placeholder" in element:
        yield from _text_object_problems(f"{path}.placeholder", element["placeholder"], PLACEHOLDER)
    if "confirm" in element:
        yield from _confirm_problems(f"{path}.confirm", element["confirm"])
    if element_type == "button":
        yield from _button_problems(path, element)
    elif element_type in _TEXT_INPUTS:
        yield from _text_input_problems(path, element)
    elif element_type in _SELECTS_WITH_OPTIONS:
        yield from _options_problems(path, element)
    elif element_type in ("external_select", "multi_external_select") and "initial_option" in element:
        yield from _option_problems(f"{path}.initial_option", element["initial_option"])


def _button_problems(path: str, button: dict) -> Iterator[str]:
    yield from _text_object_problems(f"{path}.text", button.get("text"), BUTTON_TEXT, plain_only=True)
    yield from _string_problems(f"{path}.url", button.get("url"), BUTTON_URL, allow_empty=False)
    yield from _string_problems(f"{path}.value", button.get("value"), BUTTON_VALUE, allow_empty=False)


def _text_input_problems(path: str, element: dict) -> Iterator[str]:
    max_length = element.get("max_length", INPUT_MAX_LENGTH)
    for key in ("max_length", "min_length"):
        value = element.get(key)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= INPUT_MAX_LENGTH):
            yield f"{path}.{key}: {value!r} is not a whole number in 0..{INPUT_MAX_LENGTH}"
            max_length = INPUT_MAX_LENGTH
    if "initial_value" in element:
        initial = element["initial_value"]
        if not isinstance(initial, str) or not initial:
            yield f"{path}.initial_value: empty initial_value (leave the key out instead)"
        elif slack_length(initial) > max_length:
            yield _too_long(f"{path}.initial_value", initial, max_length)


def _options_problems(path: str, element: dict) -> Iterator[str]:
    options = element.get("options")
    groups = element.get("option_groups")
    if options is None and groups is None:
        yield f"{path}: a select needs options or option_groups"
    all_options = list(options or [])
    for group in groups or []:
        all_options.extend(group.get("options") or [])
    if options is not None and not options:
        yield f"{path}.options: no options"
    if len(options or []) > OPTIONS:
        yield f"{path}.options: {len(options or [])} options, limit {OPTIONS}"
    for index, option in enumerate(options or []):
        yield from _option_problems(f"{path}.options[{index}]", option)
    initial = element.get("initial_option")
    if initial is not None and all(option.get("value") != initial.get("value") for option in all_options):
        yield f"{path}.initial_option: value {initial.get('value')!r} is not among the options"


def _option_problems(path: str, option: dict) -> Iterator[str]:
    yield from _text_object_problems(f"{path}.text", option.get("text"), OPTION_TEXT)
    yield from _string_problems(f"{path}.value", option.get("value"), OPTION_VALUE, allow_empty=False)
    if option.get("value") is None:
        yield f"{path}.value: missing"
    if "description" in option:
        yield from _text_object_problems(f"{path}.description", option["description"], OPTION_DESCRIPTION)


def _confirm_problems(path: str, confirm: dict) -> Iterator[str]:
    yield from _text_object_problems(f"{path}.title", confirm.get("title"), CONFIRM_TITLE, plain_only=True)
    yield from _text_object_problems(f"{path}.text", confirm.get("text"), CONFIRM_TEXT)
    for key in ("confirm", "deny"):
        yield from _text_object_problems(f"{path}.{key}", confirm.get(key), CONFIRM_BUTTON, plain_only=True)


_BLOCK_CHECKERS = {
    "section": _section_problems,
    "header": _header_problems,
    "context": _context_problems,
    "actions": _actions_problems,
    "input": _input_problems,
}
