"""Help, query errors and plain error messages."""

from __future__ import annotations

import logging

from slack_sdk.models.blocks import SectionBlock

from bot.blocks.limits import SECTION_TEXT
from bot.blocks.message import Message
from bot.blocks.text import escape, mrkdwn

logger = logging.getLogger(__name__)

_UNKNOWN_SHOWN = 100


def _usage_lines(command: str) -> list[str]:
    return [
        f"`{command} new [subject]`: file a ticket (a form opens, with the subject filled in)",
        f"`{command} list [query]`: list tickets, for example `{command} list open`, "
        '`severity:high platform:aws`, `since:7d`, `mine` or `"vpn down"`; '
        "add `in:channel` to post the list for everyone here",
        f"`{command} show &lt;id&gt;`: one ticket with its latest comments",
        f"`{command} subscribe [query]`: post new and changed tickets in this channel",
        f"`{command} subscriptions`: this channel's subscriptions, numbered",
        f"`{command} unsubscribe &lt;n|all&gt;`: stop subscription number n, or all of them",
        f"`{command} help`: this message",
    ]


def usage_message(command: str = "/doit", unknown: str | None = None) -> Message:
    """What the command can do; starts with "I don't know `x`." when ``unknown`` is given."""
    command = escape(command.strip() or "/doit")
    opening = f"Here is what `{command}` can do:"
    if unknown is not None and unknown.strip():
        # A backtick in what they typed would end the code span early.
        shown = mrkdwn(unknown.strip().replace("`", "'"), _UNKNOWN_SHOWN)
        opening = f"I don't know `{shown}`. {opening}"
    usage = "\n".join(f"• {line}" for line in _usage_lines(command))
    blocks = [SectionBlock(text=opening), SectionBlock(text=usage)]
    return Message(text=opening, blocks=[block.to_dict() for block in blocks])


def query_error_message(problem: str, accepted_syntax: str) -> Message:
    """A query we could not read: what is wrong and what we accept."""
    sentence = f"I couldn't read that query: {mrkdwn(problem.strip() or 'it is not valid', 1000)}"
    accepted = mrkdwn(accepted_syntax.strip(), SECTION_TEXT - 20)
    blocks = [SectionBlock(text=f":warning: {sentence}")]
    if accepted:
        blocks.append(SectionBlock(text=f"*What works:*\n{accepted}"))
    return Message(text=sentence, blocks=[block.to_dict() for block in blocks])


def error_message(sentence: str) -> Message:
    """One friendly sentence, as a section and as the notification text."""
    text = mrkdwn(sentence.strip() or "Something went wrong. Please try again.", SECTION_TEXT - 20)
    return Message(text=text, blocks=[SectionBlock(text=f":warning: {text}").to_dict()])
