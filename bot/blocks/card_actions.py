"""What the card's buttons show: the comment echoed in the thread, short replies and notice modals."""

from __future__ import annotations

import logging

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.blocks.limits import SECTION_TEXT, VIEW_TITLE
from bot.blocks.message import Message
from bot.blocks.text import escape, fit_mrkdwn, mention, mrkdwn, plain, slack_length

logger = logging.getLogger(__name__)

ECHO_SECTIONS = 3
"""Sections the echoed comment may take; 3,000 typed characters need more only when most are ``<``,
``>`` or ``&`` (each escapes to four or five), and then the rest is cut with an ellipsis."""


def comment_echo(ticket_id: int, user_id: str, body: str) -> Message:
    """The comment as posted in the card's thread: who wrote it, then the text, escaped."""
    intro = f"{mention(user_id)} added a comment to DoiT ticket #{ticket_id}:"
    blocks = [ContextBlock(elements=[MarkdownTextObject(text=intro)]).to_dict()]
    chunks = _escaped_chunks(body.strip() or "(empty comment)", SECTION_TEXT, ECHO_SECTIONS)
    blocks += [SectionBlock(text=chunk).to_dict() for chunk in chunks]
    text = f"{mention(user_id)} commented on DoiT ticket #{ticket_id}: {mrkdwn(body.strip(), 300)}"
    return Message(text=text, blocks=blocks)


def _escaped_chunks(text: str, limit: int, most: int) -> list[str]:
    """``text`` escaped for mrkdwn in at most ``most`` pieces of at most ``limit``, never splitting
    an entity; what does not fit is cut with an ellipsis."""
    chunks: list[str] = []
    piece: list[str] = []
    size = 0
    for index, character in enumerate(text):
        unit = escape(character)
        if size + slack_length(unit) > limit:
            if len(chunks) == most - 1:
                chunks.append(fit_mrkdwn("".join(piece) + escape(text[index:]), limit))
                return chunks
            chunks.append("".join(piece))
            piece, size = [], 0
        piece.append(unit)
        size += slack_length(unit)
    chunks.append("".join(piece))
    return chunks


def action_reply(text: str, *, ok: bool = True) -> Message:
    """A one-line private answer to a button. ``text`` is mrkdwn the caller built (user text escaped)."""
    emoji = ":white_check_mark:" if ok else ":information_source:"
    shown = fit_mrkdwn(text.strip(), SECTION_TEXT - 25)
    return Message(text=shown, blocks=[SectionBlock(text=f"{emoji} {shown}").to_dict()])


def notice_modal(title: str, text: str, *, emoji: str = ":information_source:") -> dict:
    """A modal with one sentence and a Close button. ``text`` is mrkdwn the caller built."""
    view = View(
        type="modal",
        title=plain(title, VIEW_TITLE),
        close="Close",
        blocks=[SectionBlock(text=f"{emoji} {fit_mrkdwn(text.strip(), SECTION_TEXT - 25)}")],
    )
    return view.to_dict()
