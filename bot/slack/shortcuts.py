"""The shortcuts: "File a DoiT ticket" on a message, and "New DoiT ticket" from anywhere.

Both open the create modal of :mod:`bot.slack.create`. The message shortcut prefills it from the
message (the subject from its first line, the description with the whole text and a link back to
the message) and asks for the card to be posted in that message's thread.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import ids
from bot.blocks.create_modal import DESCRIPTION_MAX, SUBJECT_MAX, TicketDraft
from bot.blocks.text import slack_length, truncate
from bot.services import Services
from bot.slack.create import open_create_modal

logger = logging.getLogger(__name__)

FILE_NAMES_SHOWN = 10
FILE_NAME_SHOWN = 80
"""File names are cut here, so the footer always leaves most of the description to the text."""
_MARKUP = re.compile(r"<([^<>]*)>")
_SPACES = re.compile(r"[ \t\u00a0]+")


def register(app: App, services: Services) -> None:
    @app.shortcut(ids.FILE_FROM_MESSAGE_SHORTCUT)
    def handle_file_from_message(ack: Ack, shortcut: dict, client: WebClient) -> None:
        ack()
        file_from_message(client, services, shortcut)

    @app.shortcut(ids.NEW_TICKET_SHORTCUT)
    def handle_new_ticket(ack: Ack, shortcut: dict, client: WebClient) -> None:
        ack()
        draft = TicketDraft(notify_channel=services.settings.doit_notify_channel)
        open_create_modal(
            client, services, trigger_id=shortcut["trigger_id"], user_id=shortcut["user"]["id"], draft=draft
        )


def file_from_message(client: WebClient, services: Services, shortcut: Mapping[str, Any]) -> None:
    """Open the create modal prefilled from the shortcut's message; the card goes in its thread."""
    message = shortcut.get("message") or {}
    channel_id = (shortcut.get("channel") or {}).get("id") or ""
    message_ts = message.get("ts") or shortcut.get("message_ts") or ""
    origin = channel_id if _can_hold_a_card(channel_id) else None

    def with_message(draft: TicketDraft) -> TicketDraft:
        # Runs once the loading view is open: the permalink costs a Slack call.
        permalink = _permalink(client, channel_id, message_ts)
        return replace(draft_from_message(message, permalink=permalink), notify_channel=draft.notify_channel)

    logger.info("Filing from message %s in %s for %s", message_ts, channel_id, shortcut["user"]["id"])
    open_create_modal(
        client,
        services,
        trigger_id=shortcut["trigger_id"],
        user_id=shortcut["user"]["id"],
        draft=TicketDraft(notify_channel=origin or services.settings.doit_notify_channel),
        origin_channel=origin,
        thread_ts=(message.get("thread_ts") or message_ts) if origin else None,
        complete=with_message,
    )


def _can_hold_a_card(channel_id: str) -> bool:
    # A bot cannot post in a direct message between two people; those cards go to the default
    # notify channel (or the user's DM with the bot) instead.
    return bool(channel_id) and not channel_id.startswith("D")


def _permalink(client: WebClient, channel_id: str, message_ts: str) -> str | None:
    if not channel_id or not message_ts:
        return None
    try:
        return client.chat_getPermalink(channel=channel_id, message_ts=message_ts)["permalink"]
    except SlackApiError as exc:
        # The draft still has the text; only the link back to Slack is missing.
        logger.warning("chat.getPermalink in %s failed: %s", channel_id, exc.response.get("error"))
        return None


def draft_from_message(message: Mapping[str, Any], *, permalink: str | None) -> TicketDraft:
    """Subject and description for a ticket about ``message``.

    The description ends with the permalink, which survives any cut: a long text is shortened
    (with an ellipsis) to leave room for it within :data:`DESCRIPTION_MAX`.
    """
    text = slack_to_plain(message.get("text") or "")
    files = _file_names(message.get("files") or [])
    subject = _first_line(text) or _files_subject(files)
    footer = _footer(files, permalink)
    room = DESCRIPTION_MAX - slack_length(footer)
    body = truncate(text, room) if text else ""
    description = (body + footer).strip()
    return TicketDraft(subject=truncate(subject, SUBJECT_MAX) if subject else "", description=description)


def slack_to_plain(text: str) -> str:
    """Slack message markup as readable text: ``<url|label>`` to ``label (url)``, mentions to ``@id``,
    entities unescaped."""
    return html.unescape(_MARKUP.sub(_plain_token, text)).strip()


def _plain_token(match: re.Match[str]) -> str:
    inside = match.group(1)
    target, _, label = inside.partition("|")
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        # <!here>, <!channel>, <!subteam^S123|@team>, <!date^...|fallback>
        return label or "@" + target[1:].split("^")[0]
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    if label and label != target:
        return f"{label} ({target})"
    return target


def _first_line(text: str) -> str:
    for line in text.splitlines():
        cleaned = _SPACES.sub(" ", line).strip().lstrip(">").strip()
        if cleaned:
            return cleaned
    return ""


def _file_names(files: Sequence[Any]) -> list[str]:
    names = []
    for item in files:
        if isinstance(item, dict):
            name = str(item.get("title") or item.get("name") or "").strip()
            names.append(truncate(name, FILE_NAME_SHOWN) if name else "a file")
    return names


def _files_subject(files: Sequence[str]) -> str:
    if not files:
        return ""
    if len(files) == 1:
        return f"About the file {files[0]}"
    return f"About {len(files)} files: {', '.join(files[:FILE_NAMES_SHOWN])}"


def _footer(files: Sequence[str], permalink: str | None) -> str:
    lines = []
    if files:
        shown = ", ".join(files[:FILE_NAMES_SHOWN])
        more = len(files) - FILE_NAMES_SHOWN
        shown += f" and {more} more" if more > 0 else ""
        lines.append(f"Files attached to the Slack message: {shown}")
    if permalink:
        lines.append(f"Slack message: {permalink}")
    return "\n\n" + "\n".join(lines) if lines else ""
