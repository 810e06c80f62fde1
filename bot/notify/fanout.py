"""Who hears about what: from a cycle's diff to the Slack deliveries it calls for. Pure: no I/O.

* A new ticket is posted once in each channel with a matching subscription (even when two of the
  channel's subscriptions match), except where the ticket already has a card.
* A status change updates every card of the ticket in place and threads a short reply under it;
  a subscribed channel without a card gets the card posted, which then becomes its card. A
  subscription hears about a change when the ticket matches its query before or after the change,
  so "open" also hears that a ticket got solved.
* The requester gets a DM when the ticket becomes solved or pending (they have something to do).

Every delivery has a key that names the event and the target, so recording one twice is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.notify.cards import Card
from bot.notify.snapshots import Change, Diff
from bot.support.models import Ticket
from bot.support.query import TicketQuery

logger = logging.getLogger(__name__)

DM_STATUSES = frozenset({"solved", "pending"})
"""Statuses that ask something of the requester: check the answer, or give one."""


class Kind(StrEnum):
    POST_NEW = "post_new"
    POST_CHANGE = "post_change"
    UPDATE_CARD = "update_card"
    REPLY = "reply"
    DM_REQUESTER = "dm_requester"
    PAUSE_NOTICE = "pause_notice"


POSTING_KINDS = frozenset({Kind.POST_NEW, Kind.POST_CHANGE, Kind.REPLY, Kind.DM_REQUESTER, Kind.PAUSE_NOTICE})
"""Kinds that post a new message: a repeat would show twice, so an uncertain attempt is looked up."""
CARD_POSTS = frozenset({Kind.POST_NEW, Kind.POST_CHANGE})


@dataclass(frozen=True)
class Follower:
    """One subscription of one channel, with its query parsed."""

    channel_id: str
    number: int
    query: TicketQuery


@dataclass(frozen=True)
class Planned:
    """A delivery to record: the Slack call it stands for is made after the record commits."""

    event_key: str
    kind: Kind
    ticket_id: int
    channel_id: str
    """The conversation; empty for a requester DM, whose user is looked up when it is sent."""
    payload: dict[str, Any] = field(default_factory=dict)


def plan_deliveries(
    diff: Diff,
    *,
    followers: Sequence[Follower],
    cards: Mapping[int, Sequence[Card]],
    pending_posts: Mapping[int, frozenset[str]] | None = None,
    notify_requester: bool = True,
    now: float,
) -> list[Planned]:
    """The deliveries for one cycle's diff, in the order they should be made.

    ``pending_posts`` holds, per ticket, channels where a post of its card is recorded but not yet
    made: those channels get the card's updates, not a second card.
    """
    pending_posts = pending_posts or {}
    planned: list[Planned] = []
    for ticket in diff.new:
        planned.extend(_for_new(ticket, followers, cards.get(ticket.id, ()), now))
    for ticket in diff.quiet:
        planned.extend(_follow_up_stale_cards(ticket, cards.get(ticket.id, ()), now))
    for change in diff.changed:
        carded = {card.channel_id for card in cards.get(change.ticket.id, ())}
        carded |= pending_posts.get(change.ticket.id, frozenset())
        planned.extend(_for_change(change, followers, cards.get(change.ticket.id, ()), carded, now))
        if notify_requester:
            planned.extend(_for_requester(change, now))
    return planned


def _matching_channels(tickets: Sequence[Ticket], followers: Sequence[Follower]) -> dict[str, list[int]]:
    """channel -> numbers of its subscriptions that match any of ``tickets``, in first-seen order."""
    channels: dict[str, list[int]] = {}
    for follower in followers:
        if any(_matches(follower.query, ticket) for ticket in tickets):
            channels.setdefault(follower.channel_id, []).append(follower.number)
    return channels


def _matches(query: TicketQuery, ticket: Ticket) -> bool:
    try:
        return query.matches(ticket)
    except ValueError:  # a query that needs the asker's email (`mine`) cannot serve a channel
        logger.warning("Skipping a subscription query that needs a user: %s", query.canonical())
        return False


def _for_new(
    ticket: Ticket, followers: Sequence[Follower], cards: Sequence[Card], now: float
) -> list[Planned]:
    carded = {card.channel_id for card in cards}
    planned = [
        Planned(
            event_key=f"new:{ticket.id}:{channel}",
            kind=Kind.POST_NEW,
            ticket_id=ticket.id,
            channel_id=channel,
            payload={"ticket": _ticket(ticket), "subscriptions": numbers},
        )
        for channel, numbers in _matching_channels([ticket], followers).items()
        if channel not in carded
    ]
    return _follow_up_stale_cards(ticket, cards, now) + planned


def _follow_up_stale_cards(ticket: Ticket, cards: Sequence[Card], now: float) -> list[Planned]:
    """Cards that show another status than the ticket has, for a ticket the watcher sees first."""
    planned: list[Planned] = []
    for card in cards:
        if card.status != ticket.status:
            planned.extend(_card_change(ticket, card.status, 0, card.channel_id, now))
    return planned


def _for_change(
    change: Change, followers: Sequence[Follower], cards: Sequence[Card], carded: set[str], now: float
) -> list[Planned]:
    ticket = change.ticket
    planned: list[Planned] = []
    for channel in [card.channel_id for card in cards] + sorted(carded - {card.channel_id for card in cards}):
        planned.extend(_card_change(ticket, change.old, change.version, channel, now))
    before = ticket.model_copy(update={"status": change.old})
    for channel, numbers in _matching_channels([before, ticket], followers).items():
        if channel in carded:
            continue
        planned.append(
            Planned(
                event_key=f"change:{ticket.id}:v{change.version}:{channel}",
                kind=Kind.POST_CHANGE,
                ticket_id=ticket.id,
                channel_id=channel,
                payload={
                    "ticket": _ticket(ticket),
                    "old": change.old,
                    "changed_at": now,
                    "subscriptions": numbers,
                },
            )
        )
    return planned


def _card_change(ticket: Ticket, old: str, version: int, channel: str, now: float) -> list[Planned]:
    """Redraw the card in place, then thread the short "old → new" reply under it."""
    update = Planned(
        event_key=f"update:{ticket.id}:v{version}:{channel}",
        kind=Kind.UPDATE_CARD,
        ticket_id=ticket.id,
        channel_id=channel,
        payload={"ticket": _ticket(ticket)},
    )
    reply = Planned(
        event_key=f"reply:{ticket.id}:v{version}:{channel}",
        kind=Kind.REPLY,
        ticket_id=ticket.id,
        channel_id=channel,
        payload={"old": old, "new": ticket.status, "changed_at": now},
    )
    return [update, reply]


def _for_requester(change: Change, now: float) -> list[Planned]:
    ticket = change.ticket
    if ticket.status not in DM_STATUSES or not ticket.requester:
        return []
    return [
        Planned(
            event_key=f"dm:{ticket.id}:v{change.version}",
            kind=Kind.DM_REQUESTER,
            ticket_id=ticket.id,
            channel_id="",
            payload={"ticket": _ticket(ticket), "old": change.old, "changed_at": now},
        )
    ]


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return ticket.model_dump(mode="json", exclude={"description", "platform_info"})
