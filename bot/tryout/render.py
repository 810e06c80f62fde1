"""Block Kit as terminal text, and the Block Kit Builder link that shows the real rendering.

Not a full renderer: enough that a person can read in a terminal what the bot would show in Slack.
mrkdwn links ``<url|label>`` become ``label (url)``, mentions ``@name`` and ``#channel``, Slack's
``<!date^...>`` tokens the local time, emoji codes the emoji; buttons read ``[Label]``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

logger = logging.getLogger(__name__)

BUILDER_URL = "https://app.slack.com/block-kit-builder/#"
OPTIONS_SHOWN = 6
"""A select lists this many of its options; the rest are counted."""

EMOJI: dict[str, str] = {
    "warning": "⚠️",
    "white_check_mark": "✅",
    "information_source": "ℹ️",
    "hourglass_flowing_sand": "⏳",
    "pause_button": "⏸️",
    "large_blue_circle": "🔵",
    "large_yellow_circle": "🟡",
    "white_circle": "⚪",
    "rotating_light": "🚨",
    "paperclip": "📎",
    "no_bell": "🔕",
    "bell": "🔔",
    "new": "🆕",
    "mag": "🔍",
    "lock": "🔒",
    "grey_question": "❔",
    "double_vertical_bar": "⏸️",
    "arrow_forward": "▶️",
    "speech_balloon": "💬",
    "link": "🔗",
}

_TOKEN = re.compile(r"<([^<>]*)>")
_EMOJI_CODE = re.compile(r":([a-z0-9_+-]+):")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_DATE = re.compile(r"!date\^(\d+)\^([^^|]*)(?:\^([^|]*))?(?:\|(.*))?", re.DOTALL)


@dataclass(frozen=True)
class Names:
    """How ids become names: ``user("U0DANA") == "dana"``, ``channel("C0SUPPORT") == "support"``."""

    user: Callable[[str], str]
    channel: Callable[[str], str]


def builder_link(payload: dict[str, Any]) -> str:
    """A Block Kit Builder URL that opens ``payload`` (``{"blocks": [...]}`` or a view)."""
    return BUILDER_URL + quote(json.dumps(payload, separators=(",", ":"), ensure_ascii=False), safe="")


def message_payload(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"blocks": blocks}


def view_payload(view: dict[str, Any]) -> dict[str, Any]:
    """The parts of a view the Builder reads; Slack's own fields (id, hash, state) are left out."""
    keys = ("type", "title", "submit", "close", "blocks")
    return {key: view[key] for key in keys if view.get(key) is not None}


# --- mrkdwn -------------------------------------------------------------------------------------------


def mrkdwn_text(text: str, names: Names, *, now: datetime | None = None) -> str:
    """Slack mrkdwn as plain terminal text."""
    converted = _TOKEN.sub(lambda match: _token(match.group(1), names, now), text)
    converted = _BOLD.sub(r"\1", converted)
    converted = _ITALIC.sub(r"\1", converted)
    converted = _EMOJI_CODE.sub(lambda match: EMOJI.get(match.group(1), match.group(0)), converted)
    # Entities last: an escaped "&lt;!channel&gt;" typed by a user must stay text, never a token.
    return converted.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _token(inner: str, names: Names, now: datetime | None) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label or names.user(target[1:]))
    if target.startswith("#"):
        return "#" + (label or names.channel(target[1:]))
    if target.startswith("!date^"):
        return _date_token(inner, now)
    if target.startswith("!subteam^"):
        return label or "@group"
    if target.startswith("!"):
        return "@" + target[1:]
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    if label and label != target:
        return f"{label} ({target})"
    return target


def _date_token(inner: str, now: datetime | None) -> str:
    match = _DATE.fullmatch(inner)
    if match is None:
        return inner.rpartition("|")[2]
    moment = datetime.fromtimestamp(int(match.group(1))).astimezone()
    return format_slack_date(moment, match.group(2), now=now)


def format_slack_date(moment: datetime, template: str, *, now: datetime | None = None) -> str:
    """Fill ``{date_short_pretty}``, ``{time}`` and Slack's other date tokens with ``moment``."""
    now = now or datetime.now().astimezone()
    day = moment.day
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    long_date = f"{moment:%B} {day}{suffix}, {moment.year}"
    short_date = f"{moment:%b} {day}, {moment.year}"
    relative = _relative_day(moment, now)
    values = {
        "date_num": f"{moment:%Y-%m-%d}",
        "date": long_date,
        "date_short": short_date,
        "date_long": f"{moment:%A}, {long_date}",
        "date_pretty": relative or long_date,
        "date_short_pretty": relative or short_date,
        "date_long_pretty": relative or f"{moment:%A}, {long_date}",
        "time": f"{moment:%H:%M}",
        "time_secs": f"{moment:%H:%M:%S}",
        "ago": _ago(moment, now),
    }
    return re.sub(r"\{(\w+)\}", lambda match: values.get(match.group(1), match.group(0)), template)


def _relative_day(moment: datetime, now: datetime) -> str | None:
    days = (moment.date() - now.date()).days
    return {0: "today", -1: "yesterday", 1: "tomorrow"}.get(days)


def _ago(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def text_of(obj: Any, names: Names) -> str:
    """The text of a text object (plain_text or mrkdwn) or of a bare string."""
    if isinstance(obj, str):
        return obj
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text") or "")
    if obj.get("type") == "mrkdwn":
        return mrkdwn_text(text, names)
    return _EMOJI_CODE.sub(lambda match: EMOJI.get(match.group(1), match.group(0)), text)


# --- blocks -------------------------------------------------------------------------------------------


def render_blocks(blocks: Iterable[dict[str, Any]], names: Names) -> list[str]:
    """Lines for a list of blocks, a blank line between blocks that are paragraphs."""
    lines: list[str] = []
    for block in blocks:
        rendered = _BLOCKS.get(str(block.get("type")), _unknown_block)(block, names)
        if lines and rendered and block.get("type") in ("section", "header", "input"):
            lines.append("")
        lines.extend(rendered)
    return lines


def render_message(text: str | None, blocks: list[dict[str, Any]] | None, names: Names) -> list[str]:
    """A message: its blocks, or its text when it has none."""
    if blocks:
        return render_blocks(blocks, names)
    return mrkdwn_text(text or "", names).splitlines() or ["(an empty message)"]


def render_view(view: dict[str, Any], names: Names) -> list[str]:
    """A modal or Home tab: its title, its blocks, and its buttons."""
    title = text_of(view.get("title"), names) or ("Home tab" if view.get("type") == "home" else "Modal")
    lines = [f"┌ {title}", *render_blocks(view.get("blocks") or [], names)]
    buttons = [f"[{text_of(view[key], names)}]" for key in ("close", "submit") if view.get(key)]
    if buttons:
        lines += ["", "  ".join(buttons)]
    return lines


def _section(block: dict[str, Any], names: Names) -> list[str]:
    lines = text_of(block.get("text"), names).splitlines() if block.get("text") else []
    for field in block.get("fields") or []:
        parts = [part.strip() for part in text_of(field, names).splitlines() if part.strip()]
        if parts:
            lines.append(f"  {parts[0]}: {' '.join(parts[1:])}" if len(parts) > 1 else f"  {parts[0]}")
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        shown = _element(accessory, names)
        if lines and len(lines[-1]) + len(shown) < 100:
            lines[-1] = f"{lines[-1]}  {shown}"
        else:
            lines.append(shown)
    return lines


def _header(block: dict[str, Any], names: Names) -> list[str]:
    text = text_of(block.get("text"), names)
    return [text, "═" * min(max(len(text), 3), 80)]


def _context(block: dict[str, Any], names: Names) -> list[str]:
    parts = []
    for element in block.get("elements") or []:
        if element.get("type") == "image":
            parts.append(f"[{element.get('alt_text') or 'image'}]")
        else:
            parts.append(text_of(element, names))
    return [f"  {line}" for line in " · ".join(parts).splitlines()]


def _actions(block: dict[str, Any], names: Names) -> list[str]:
    return ["  ".join(_element(element, names) for element in block.get("elements") or [])]


def _divider(block: dict[str, Any], names: Names) -> list[str]:
    return ["─" * 40]


def _image(block: dict[str, Any], names: Names) -> list[str]:
    return [f"[image: {block.get('alt_text') or block.get('image_url') or ''}]"]


def _rich_text(block: dict[str, Any], names: Names) -> list[str]:
    pieces: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                pieces.append(str(node.get("text") or ""))
            elif node.get("type") == "link":
                pieces.append(str(node.get("text") or node.get("url") or ""))
            elif node.get("type") == "user":
                pieces.append("@" + names.user(str(node.get("user_id"))))
            for child in node.get("elements") or []:
                walk(child)

    walk(block)
    return "".join(pieces).splitlines()


def _input(block: dict[str, Any], names: Names) -> list[str]:
    label = text_of(block.get("label"), names)
    if block.get("optional"):
        label += " (optional)"
    lines = [label, f"  {_element(block.get('element') or {}, names)}"]
    if block.get("hint"):
        lines.append(f"  {text_of(block['hint'], names)}")
    return lines


def _unknown_block(block: dict[str, Any], names: Names) -> list[str]:
    return [f"[a {block.get('type')} block]"]


_BLOCKS: dict[str, Callable[[dict[str, Any], Names], list[str]]] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "divider": _divider,
    "image": _image,
    "rich_text": _rich_text,
    "input": _input,
}


# --- elements -----------------------------------------------------------------------------------------


def _element(element: dict[str, Any], names: Names) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{text_of(element.get('text'), names)}]"
    if kind == "plain_text_input":
        return _text_input(element, names)
    if kind in (
        "static_select",
        "external_select",
        "conversations_select",
        "channels_select",
        "users_select",
    ):
        return _select(element, names)
    if kind == "overflow":
        return "[…]"
    if kind == "image":
        return f"[image: {element.get('alt_text') or ''}]"
    return f"[{kind}]"


def _text_input(element: dict[str, Any], names: Names) -> str:
    value = element.get("initial_value")
    if value:
        shown = " ⏎ ".join(str(value).splitlines())
        return f"[ {shown} ]"
    placeholder = text_of(element.get("placeholder"), names)
    return f"[ ({placeholder}) ]" if placeholder else "[ ]"


def _select(element: dict[str, Any], names: Names) -> str:
    chosen = _chosen(element, names) or text_of(element.get("placeholder"), names) or "Choose"
    shown = f"[{chosen} ▾]"
    options = element.get("options") or []
    if options:
        labels = [text_of(option.get("text"), names) for option in options[:OPTIONS_SHOWN]]
        more = f" +{len(options) - OPTIONS_SHOWN} more" if len(options) > OPTIONS_SHOWN else ""
        shown += f"  options: {' | '.join(labels)}{more}"
    elif element.get("type") == "external_select":
        shown += "  (the bot answers with options as you type)"
    return shown


def _chosen(element: dict[str, Any], names: Names) -> str | None:
    option = element.get("initial_option")
    if isinstance(option, dict):
        return text_of(option.get("text"), names)
    conversation = element.get("initial_conversation") or element.get("initial_channel")
    if conversation:
        return "#" + names.channel(str(conversation))
    if element.get("initial_user"):
        return "@" + names.user(str(element["initial_user"]))
    return None
