"""The add-comment modal, and reading its submission back."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.limits import SECTION_TEXT
from bot.blocks.text import mrkdwn, truncate

logger = logging.getLogger(__name__)

COMMENT_MAX = 3000
"""The most a ``plain_text_input`` may take."""


@dataclass(frozen=True)
class CommentTarget:
    """Where a comment goes, and the thread to confirm it in, as carried in ``private_metadata``."""

    ticket_id: int
    channel: str | None = None
    thread_ts: str | None = None


def comment_modal(
    ticket_id: int,
    subject: str,
    *,
    channel_id: str | None = None,
    thread_ts: str | None = None,
    notice: str | None = None,
    initial_comment: str | None = None,
) -> dict:
    """A modal with one multiline input for a comment on ticket ``ticket_id``.

    ``initial_comment`` refills the input after a failed submission, so nothing typed is lost.
    """
    metadata = json.dumps(
        {"ticket_id": ticket_id, "channel": channel_id, "thread_ts": thread_ts}, separators=(",", ":")
    )
    blocks: list[Any] = []
    if notice and notice.strip():
        blocks.append(
            SectionBlock(block_id=ids.NOTICE, text=f":warning: {mrkdwn(notice.strip(), SECTION_TEXT - 20)}")
        )
    shown = mrkdwn(subject.strip() or "(no subject)", 500)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Ticket *#{ticket_id}*: {shown}")]))
    element = PlainTextInputElement(
        action_id=ids.COMMENT_INPUT,
        multiline=True,
        max_length=COMMENT_MAX,
        placeholder="Your reply to DoiT support",
        # Slack rejects an empty initial_value: leave the key out instead.
        initial_value=truncate(initial_comment, COMMENT_MAX)
        if initial_comment and initial_comment.strip()
        else None,
    )
    blocks.append(InputBlock(block_id=ids.COMMENT, label="Comment", element=element))
    view = View(
        type="modal",
        callback_id=ids.COMMENT_CALLBACK,
        title="Comment on ticket",
        submit="Try again" if notice and notice.strip() else "Add comment",
        close="Cancel",
        blocks=blocks,
        private_metadata=metadata,
    )
    return view.to_dict()


def comment_target(private_metadata: str) -> CommentTarget:
    """Read the ``private_metadata`` :func:`comment_modal` wrote.

    Raises:
        ValueError: it is not what :func:`comment_modal` writes.
    """
    try:
        data = json.loads(private_metadata)
        ticket_id = int(data["ticket_id"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError("The comment modal's private_metadata has no ticket id") from exc
    channel, thread_ts = data.get("channel"), data.get("thread_ts")
    return CommentTarget(
        ticket_id=ticket_id,
        channel=channel if isinstance(channel, str) and channel else None,
        thread_ts=thread_ts if isinstance(thread_ts, str) and thread_ts else None,
    )


def comment_from_state(values: Mapping[str, Any]) -> str:
    """The comment text from ``view["state"]["values"]``; empty when there is none."""
    block = values.get(ids.COMMENT) if isinstance(values, Mapping) else None
    element = block.get(ids.COMMENT_INPUT) if isinstance(block, dict) else None
    value = element.get("value") if isinstance(element, dict) else None
    return value if isinstance(value, str) else ""
