"""The App Home tab: the user's own tickets, a "New ticket" button and the channel subscriptions.

A Home tab holds at most 100 blocks; the layout below stays under 60 whatever the data: at most
:data:`HOME_TICKETS` ticket sections and :data:`HOME_CHANNELS` channel sections, with a line that
says how many were left out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.limits import SECTION_TEXT
from bot.blocks.text import NO_SUBJECT, bold, channel_mention, fit_mrkdwn, link, mrkdwn, slack_date, truncate
from bot.blocks.tickets import severity_with_emoji, status_with_emoji
from bot.support.models import ACTIVE_STATUSES, Ticket

logger = logging.getLogger(__name__)

HOME_TICKETS = 20
"""Ticket sections shown; the rest are one `/doit list mine` away."""
HOME_CHANNELS = 30
"""Channel sections shown in the subscriptions part."""
HOME_ACTIONS = "doit_home_actions"
_SUBJECT_SHOWN = 150
_DESCRIPTION_SHOWN = 300


@dataclass(frozen=True)
class ChannelSubscriptions:
    """One channel's subscriptions: (number, plain-text description) pairs in number order."""

    channel_id: str
    entries: tuple[tuple[int, str], ...]


def home_order(tickets: Sequence[Ticket]) -> list[Ticket]:
    """Tickets still open first, then the rest; within each, the latest update first."""

    def key(ticket: Ticket) -> tuple[bool, float]:
        return (
            ticket.status.strip().lower() not in ACTIVE_STATUSES,
            -_epoch(ticket.update_time or ticket.create_time),
        )

    return sorted(tickets, key=key)


def _epoch(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def home_view(
    *,
    requester_email: str | None,
    tickets: Sequence[Ticket] | None,
    tickets_problem: str | None = None,
    subscriptions: Sequence[ChannelSubscriptions] = (),
    hidden_subscriptions: int = 0,
    subscriptions_problem: str | None = None,
    updated_at: datetime | None = None,
) -> dict:
    """The Home tab view.

    ``tickets`` None means they could not be loaded, and ``tickets_problem`` (a plain sentence)
    says why. ``hidden_subscriptions`` counts subscriptions left out on purpose (private channels).
    """
    blocks: list[Block] = [
        HeaderBlock(text="DoiT support"),
        SectionBlock(
            text="File a ticket, follow the ones you asked for, and see which channels hear about tickets."
        ),
        ActionsBlock(
            block_id=HOME_ACTIONS,
            elements=[ButtonElement(text="New ticket", action_id=ids.HOME_NEW_TICKET, style="primary")],
        ),
        DividerBlock(),
        HeaderBlock(text="Your tickets"),
    ]
    blocks += _ticket_blocks(requester_email, tickets, tickets_problem)
    blocks += [DividerBlock(), HeaderBlock(text="Channel subscriptions")]
    blocks += _subscription_blocks(subscriptions, hidden_subscriptions, subscriptions_problem)
    if updated_at is not None:
        blocks.append(
            _context(f"Tickets as of {slack_date(updated_at)}; they reload when you open this tab.")
        )
    return View(type="home", blocks=blocks).to_dict()


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=fit_mrkdwn(text, SECTION_TEXT))])


def _warning(sentence: str) -> SectionBlock:
    return SectionBlock(text=f":warning: {mrkdwn(sentence.strip(), SECTION_TEXT - 20)}")


def _ticket_blocks(
    requester_email: str | None, tickets: Sequence[Ticket] | None, problem: str | None
) -> list[Block]:
    if tickets is None:
        return [_warning(problem or "Your tickets could not be loaded just now.")]
    who = mrkdwn(requester_email, 320) if requester_email else "you"
    if not tickets:
        return [
            SectionBlock(
                text=f"No recent DoiT tickets were requested by {who}. "
                "Press *New ticket* to file one, or use `/doit list` to look through all tickets."
            )
        ]
    ordered = home_order(tickets)
    blocks: list[Block] = [_context(f"Requested by {who}; open tickets first, then the latest update first.")]
    blocks += [_ticket_section(ticket) for ticket in ordered[:HOME_TICKETS]]
    left_out = len(ordered) - HOME_TICKETS
    if left_out > 0:
        more = "1 more ticket" if left_out == 1 else f"{left_out} more tickets"
        blocks.append(_context(f"{more} not shown here: `/doit list mine` lists them all."))
    return blocks


def _ticket_section(ticket: Ticket) -> SectionBlock:
    title = link(
        ticket.url, truncate(ticket.subject.strip() or NO_SUBJECT, _SUBJECT_SHOWN), SECTION_TEXT - 500
    )
    facts = [status_with_emoji(ticket.status), severity_with_emoji(ticket.severity)]
    moment = ticket.update_time or ticket.create_time
    facts.append(f"last update {slack_date(moment)}" if moment else "no update yet")
    text = f"{bold(title, ticket.subject)}  #{ticket.id}\n" + " · ".join(facts)
    return SectionBlock(text=fit_mrkdwn(text, SECTION_TEXT))


def _subscription_blocks(
    subscriptions: Sequence[ChannelSubscriptions], hidden: int, problem: str | None
) -> list[Block]:
    blocks: list[Block] = []
    if problem:
        blocks.append(_warning(problem))
    elif not subscriptions and not hidden:
        blocks.append(
            SectionBlock(
                text="No channel follows DoiT tickets yet. Run `/doit subscribe [query]` in a channel "
                "to post new and changed tickets there."
            )
        )
    blocks += [_channel_section(channel) for channel in subscriptions[:HOME_CHANNELS]]
    notes = []
    left_out = len(subscriptions) - HOME_CHANNELS
    if left_out > 0:
        notes.append("1 more channel" if left_out == 1 else f"{left_out} more channels")
    if hidden:
        notes.append(
            "1 subscription in a private channel is not shown"
            if hidden == 1
            else f"{hidden} subscriptions in private channels are not shown"
        )
    if notes:
        blocks.append(_context(" · ".join(notes) + ". `/doit subscriptions` in a channel lists its own."))
    return blocks


def _channel_section(channel: ChannelSubscriptions) -> SectionBlock:
    lines = [
        f"{number}. {mrkdwn(description, _DESCRIPTION_SHOWN)}" for number, description in channel.entries
    ]
    text = f"*{channel_mention(channel.channel_id)}*\n" + "\n".join(lines)
    return SectionBlock(text=fit_mrkdwn(text, SECTION_TEXT))


def subscriptions_by_channel(entries: Sequence[tuple[str, int, str]]) -> list[ChannelSubscriptions]:
    """Group (channel id, number, description) rows by channel, channels and numbers in order."""
    grouped: dict[str, list[tuple[int, str]]] = {}
    for channel_id, number, description in entries:
        grouped.setdefault(channel_id, []).append((number, description))
    return [
        ChannelSubscriptions(channel_id, tuple(sorted(found)))
        for channel_id, found in sorted(grouped.items())
    ]
