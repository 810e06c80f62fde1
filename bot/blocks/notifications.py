"""What the watcher and the subscription commands post: pure builders, data in, messages out.

The card itself comes from :func:`bot.blocks.tickets.ticket_card`; here are the short messages
around it: the threaded "open → pending" reply, the requester's DM, the notice that a channel's
subscriptions were paused, and the answers to ``/doit subscribe``, ``subscriptions`` and
``unsubscribe``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.blocks.limits import SECTION_TEXT
from bot.blocks.message import Message
from bot.blocks.text import (
    NO_SUBJECT,
    channel_mention,
    escape,
    fit_mrkdwn,
    link,
    mention,
    mrkdwn,
    slack_date,
    truncate,
)
from bot.blocks.tickets import STATUS_EMOJI, UNKNOWN_EMOJI, status_label, ticket_card
from bot.support.models import Ticket

logger = logging.getLogger(__name__)

SUBJECT_IN_SENTENCE = 150
QUERY_SHOWN = 300

PAUSE_REASONS: dict[str, str] = {
    "not_in_channel": "I'm no longer a member of {channel}",
    "channel_not_found": (
        "I can't see {channel} any more (it was deleted, or it is private and I was removed)"
    ),
    "is_archived": "{channel} was archived",
}


@dataclass(frozen=True)
class ListedSubscription:
    """One line of a channel's subscription list."""

    number: int
    description: str
    """The query in words, e.g. "open tickets of high severity"."""
    query: str
    """The canonical query text; empty for every ticket."""
    paused_reason: str | None = None


def _section(text: str) -> dict:
    return SectionBlock(text=fit_mrkdwn(text, SECTION_TEXT)).to_dict()


def _context(text: str) -> dict:
    return ContextBlock(elements=[MarkdownTextObject(text=fit_mrkdwn(text, SECTION_TEXT))]).to_dict()


def _status_word(status: str) -> str:
    return escape(status.strip().lower()) or "unknown"


def _emoji(status: str) -> str:
    return STATUS_EMOJI.get(status.strip().lower(), UNKNOWN_EMOJI)


def _ticket_link(ticket: Ticket) -> str:
    subject = ticket.subject.strip() or NO_SUBJECT
    # link() escapes the label itself.
    return f"#{ticket.id} {link(ticket.url, truncate(subject, SUBJECT_IN_SENTENCE), 600)}"


def _query_code(query: str) -> str:
    # Backticks inside would close the code span early; nothing else needs care there.
    shown = mrkdwn(query.replace("`", "'"), QUERY_SHOWN)
    return f"`{shown}`" if shown else "_(every ticket)_"


# -- what the watcher posts -------------------------------------------------------------------------


def status_change_reply(ticket_id: int, old: str, new: str, changed_at: datetime) -> Message:
    """The short reply threaded under a card: "open → pending" and when the watcher saw it."""
    change = f"{_status_word(old)} → {_status_word(new)}"
    text = f"Ticket #{ticket_id}: {change}"
    block = _context(f"{_emoji(new)} Status *{change}* · {slack_date(changed_at)}")
    return Message(text=text, blocks=[block])


def new_ticket_post(
    ticket: Ticket,
    *,
    platform_names: Mapping[str, str] | None = None,
    requester_user_id: str | None = None,
    subscription_numbers: Sequence[int] = (),
) -> Message:
    """A subscription's first post of a ticket: its card, saying why it is here."""
    return ticket_card(
        ticket,
        platform_names=platform_names,
        requester_user_id=requester_user_id,
        note=f"New ticket, posted for {_subscriptions_phrase(subscription_numbers)}.",
    )


def changed_ticket_post(
    ticket: Ticket,
    old: str,
    *,
    platform_names: Mapping[str, str] | None = None,
    requester_user_id: str | None = None,
    subscription_numbers: Sequence[int] = (),
) -> Message:
    """The card of a ticket whose status changed, in a subscribed channel that had no card yet."""
    change = f"{old.strip().lower() or 'unknown'} → {ticket.status.strip().lower() or 'unknown'}"
    return ticket_card(
        ticket,
        platform_names=platform_names,
        requester_user_id=requester_user_id,
        note=f"Status changed: {change}. Posted for {_subscriptions_phrase(subscription_numbers)}.",
    )


def _subscriptions_phrase(numbers: Sequence[int]) -> str:
    ordered = sorted(set(numbers))
    if not ordered:
        return "this channel's subscription"
    if len(ordered) == 1:
        return f"this channel's subscription {ordered[0]}"
    return "this channel's subscriptions " + ", ".join(str(number) for number in ordered)


def requester_dm(ticket: Ticket, old: str, changed_at: datetime) -> Message:
    """The DM to a requester whose ticket DoiT solved or is waiting on them for (pending)."""
    status = ticket.status.strip().lower()
    when = slack_date(changed_at)
    if status == "pending":
        text = f"DoiT is waiting for your answer on ticket #{ticket.id}"
        body = (
            f"{_emoji(status)} DoiT is waiting for your answer on {_ticket_link(ticket)} "
            f"(it went from {_status_word(old)} to pending {when}). Reply in DoiT to move it along."
        )
    elif status == "solved":
        text = f"Your DoiT ticket #{ticket.id} was solved"
        body = (
            f"{_emoji(status)} Your ticket {_ticket_link(ticket)} was marked solved {when}. "
            "If the problem is still there, reply in DoiT to reopen it."
        )
    else:
        text = f"Your DoiT ticket #{ticket.id} is now {_status_word(status)}"
        body = f"{_emoji(status)} Your ticket {_ticket_link(ticket)} is now {status_label(status)} ({when})."
    return Message(text=text, blocks=[_section(body)])


def subscriptions_paused_notice(
    channel_id: str, reason: str, subscriptions: Sequence[ListedSubscription]
) -> Message:
    """The DM to whoever subscribed: the channel's subscriptions are paused, why, and how to resume."""
    channel = channel_mention(channel_id)
    why = PAUSE_REASONS.get(reason, "Slack refused my posts there ({reason})").format(
        channel=channel, reason=escape(reason)
    )
    count = len(subscriptions)
    noun = "subscription" if count == 1 else f"{count} subscriptions"
    text = f"I paused {noun} of {channel}: {why}."
    lines = [
        f"• {entry.number}: {mrkdwn(entry.description, 200)} ({_query_code(entry.query)})"
        for entry in subscriptions
    ]
    if reason == "is_archived":
        advice = (
            "Once the channel is unarchived and I'm in it, run `/doit subscribe` with the same query there."
        )
    else:
        advice = (
            "Invite me back with `/invite @DoiT` in the channel, then run `/doit subscribe` "
            "with the same query to resume."
        )
    blocks = [_section(f":pause_button: {text}"), _section("\n".join(lines) or "_(none)_"), _context(advice)]
    return Message(text=text, blocks=blocks)


# -- answers to /doit subscribe, subscriptions, unsubscribe ------------------------------------------


def subscribed(channel_id: str, entry: ListedSubscription, user_id: str) -> Message:
    """A new subscription, announced in the channel."""
    text = (
        f"{mention(user_id)} subscribed {channel_mention(channel_id)} to {mrkdwn(entry.description, 300)} "
        f"(subscription {entry.number})."
    )
    detail = (
        f"New tickets and status changes that match {_query_code(entry.query)} will be posted here. "
        f"`/doit subscriptions` lists them; `/doit unsubscribe {entry.number}` stops this one."
    )
    return Message(text=text, blocks=[_section(f":bell: {text}"), _context(detail)])


def subscription_exists(entry: ListedSubscription) -> Message:
    described = mrkdwn(entry.description, 300)
    text = f"This channel already has that subscription: number {entry.number}, {described}."
    return Message(text=text, blocks=[_section(f":information_source: {text}")])


def subscription_resumed(channel_id: str, entry: ListedSubscription, user_id: str) -> Message:
    text = (
        f"{mention(user_id)} resumed subscription {entry.number} of {channel_mention(channel_id)}: "
        f"{mrkdwn(entry.description, 300)}."
    )
    return Message(text=text, blocks=[_section(f":arrow_forward: {text}")])


def subscriptions_list(channel_id: str, entries: Sequence[ListedSubscription]) -> Message:
    """A channel's subscriptions with their numbers, paused ones marked with why."""
    channel = channel_mention(channel_id)
    if not entries:
        text = f"{channel} has no subscriptions."
        hint = "Start one with `/doit subscribe [query]`, e.g. `/doit subscribe open severity:high+`."
        return Message(text=text, blocks=[_section(text), _context(hint)])
    count = len(entries)
    text = f"{channel} has {count} subscription{'s' if count != 1 else ''}:"
    lines = []
    for entry in entries:
        line = f"*{entry.number}.* {mrkdwn(entry.description, 300)} · {_query_code(entry.query)}"
        if entry.paused_reason:
            line += f"\n      :pause_button: paused: {_pause_phrase(channel_id, entry.paused_reason)}"
        lines.append(line)
    blocks = [_section(text)]
    # Twenty subscriptions with long queries could pass one section's 3,000 characters.
    for start in range(0, len(lines), 10):
        blocks.append(_section("\n".join(lines[start : start + 10])))
    hint = "`/doit unsubscribe <number>` removes one, `/doit unsubscribe all` removes every one."
    if any(entry.paused_reason for entry in entries):
        hint += " Run `/doit subscribe` with a paused query to resume it."
    blocks.append(_context(escape(hint)))
    return Message(text=text, blocks=blocks)


def _pause_phrase(channel_id: str, reason: str) -> str:
    return PAUSE_REASONS.get(reason, "Slack refused my posts ({reason})").format(
        channel=channel_mention(channel_id), reason=escape(reason)
    )


def unsubscribed(channel_id: str, removed: Sequence[ListedSubscription], user_id: str) -> Message:
    """Subscriptions removed, announced in the channel."""
    channel = channel_mention(channel_id)
    if len(removed) == 1:
        entry = removed[0]
        described = mrkdwn(entry.description, 300)
        text = f"{mention(user_id)} removed subscription {entry.number} of {channel}: {described}."
    else:
        text = f"{mention(user_id)} removed all {len(removed)} subscriptions of {channel}."
    return Message(text=text, blocks=[_section(f":no_bell: {text}")])


def no_such_subscription(channel_id: str, wanted: Sequence[int], existing: Sequence[int]) -> Message:
    shown = ", ".join(str(number) for number in wanted)
    plural = "s" if len(wanted) != 1 else ""
    if existing:
        numbers = ", ".join(str(number) for number in existing)
        text = (
            f"{channel_mention(channel_id)} has no subscription{plural} numbered {shown}; "
            f"its numbers are {numbers}."
        )
    else:
        text = f"{channel_mention(channel_id)} has no subscriptions to remove."
    return Message(
        text=text, blocks=[_section(f":warning: {text}"), _context("`/doit subscriptions` lists them.")]
    )


def subscription_problem(sentence: str) -> Message:
    """A reason the subscription command cannot do what was asked, with what to do instead.

    ``sentence`` is mrkdwn we wrote ourselves (it may hold channel links), not user text.
    """
    return Message(text=sentence, blocks=[_section(f":warning: {sentence}")])
