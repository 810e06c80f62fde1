"""A channel's subscriptions: which tickets it hears about, numbered the way people refer to them.

A subscription is a query (the language of ``/doit list``) stored in its canonical form, so the
same query typed two ways is recognised as the same subscription. Numbers are per channel and
stay put when another subscription is removed: "unsubscribe 2" always means what the list showed.

A subscription is paused, not deleted, when Slack refuses to post in its channel (the bot was
removed, the channel archived or deleted); subscribing again with the same query resumes it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.store import Store, subscriptions
from bot.support.query import TicketQuery, parse_query

logger = logging.getLogger(__name__)

MAX_PER_CHANNEL = 20
MAX_QUERY_LENGTH = 1000


class SubscriptionError(ValueError):
    """A subscription that cannot be made; the message is one sentence for the person asking."""


class AddOutcome(StrEnum):
    CREATED = "created"
    EXISTS = "exists"
    RESUMED = "resumed"


_STORED_PLATFORM = re.compile(r"(?<!\S)platform:([a-z0-9_]+)(?!\S)")


@dataclass(frozen=True)
class Subscription:
    id: int
    channel_id: str
    number: int
    query: str
    """The canonical query text; empty means every ticket."""
    created_by: str
    created_at: float
    paused_reason: str | None = None
    paused_at: float | None = None

    @property
    def paused(self) -> bool:
        return self.paused_reason is not None

    def ticket_query(self, platforms: Mapping[str, str] | None = None) -> TicketQuery:
        """The stored query parsed again.

        The stored text names platforms by id, and those ids stay valid even when DoiT's catalog
        stops listing one (or is out of reach): a subscription must not fall silent for that.
        """
        stored = {platform_id: platform_id for platform_id in _STORED_PLATFORM.findall(self.query)}
        return parse_query(self.query, platforms={**stored, **(platforms or {})})


@dataclass(frozen=True)
class Added:
    subscription: Subscription
    outcome: AddOutcome


def subscription_query(text: str, *, platforms: Mapping[str, str] | None = None) -> TicketQuery:
    """Parse what follows ``/doit subscribe``.

    Raises :class:`QueryError` when the text is not a query, and :class:`SubscriptionError` when it
    is one that makes no sense for a channel that hears about tickets as they change.
    """
    query = parse_query(text, platforms=platforms)
    problem = _subscription_problem(query)
    if problem:
        raise SubscriptionError(problem)
    if len(query.canonical()) > MAX_QUERY_LENGTH:
        raise SubscriptionError(
            f"That query is longer than {MAX_QUERY_LENGTH} characters; shorten it or split it in two."
        )
    return query


def _subscription_problem(query: TicketQuery) -> str | None:
    if query.mine:
        return (
            "`mine` can't be used in a subscription: a channel has no single “me”. "
            "Name the person instead, e.g. `requester:jane@example.com`."
        )
    if query.since is not None or query.before is not None:
        return (
            "`since:` and `before:` pick a window of past tickets, but a subscription hears about "
            "tickets as they are filed and change: leave them out."
        )
    if query.limit is not None:
        return "`limit:` caps a list, but a subscription posts every matching change: leave it out."
    return None


def add_subscription(
    store: Store, channel_id: str, user_id: str, query: TicketQuery, *, now: float | None = None
) -> Added:
    """Subscribe ``channel_id`` to ``query``; an identical subscription is reported (or resumed)."""
    canonical = query.canonical()
    now = time.time() if now is None else now
    # Two people subscribing in one channel at once may pick the same number; the loser retries.
    for _ in range(5):
        with store.engine.begin() as conn:
            existing = _by_query(conn, channel_id, canonical)
            if existing is not None:
                return _existing(conn, existing)
            count, highest = conn.execute(
                select(func.count(), func.max(subscriptions.c.number)).where(
                    subscriptions.c.channel_id == channel_id
                )
            ).one()
            if count >= MAX_PER_CHANNEL:
                raise SubscriptionError(
                    f"This channel already has {MAX_PER_CHANNEL} subscriptions, the most it can hold. "
                    "Remove one with `/doit unsubscribe <number>` first."
                )
            values = {
                "channel_id": channel_id,
                "number": (highest or 0) + 1,
                "query": canonical,
                "created_by": user_id,
                "created_at": now,
            }
            try:
                with conn.begin_nested():
                    new_id = conn.execute(insert(subscriptions).values(**values)).inserted_primary_key[0]
            except IntegrityError:
                continue
        logger.info("Channel %s subscribed to %r (number %d)", channel_id, canonical, values["number"])
        return Added(Subscription(id=int(new_id), **values), AddOutcome.CREATED)  # type: ignore[arg-type]
    raise SubscriptionError("Several subscriptions were being added here at once; please try again.")


def _by_query(conn: Connection, channel_id: str, canonical: str) -> Subscription | None:
    row = (
        conn.execute(
            select(subscriptions).where(
                subscriptions.c.channel_id == channel_id, subscriptions.c.query == canonical
            )
        )
        .mappings()
        .first()
    )
    return _subscription(row) if row else None


def _existing(conn: Connection, existing: Subscription) -> Added:
    if not existing.paused:
        return Added(existing, AddOutcome.EXISTS)
    conn.execute(
        subscriptions.update()
        .where(subscriptions.c.id == existing.id)
        .values(paused_reason=None, paused_at=None)
    )
    logger.info("Resumed subscription %d of %s", existing.number, existing.channel_id)
    resumed = replace(existing, paused_reason=None, paused_at=None)
    return Added(resumed, AddOutcome.RESUMED)


def list_subscriptions(store: Store, channel_id: str) -> list[Subscription]:
    """The channel's subscriptions by number, paused ones included."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(subscriptions)
            .where(subscriptions.c.channel_id == channel_id)
            .order_by(subscriptions.c.number)
        ).mappings()
        return [_subscription(row) for row in rows]


def active_subscriptions(store: Store) -> list[Subscription]:
    """Every subscription that is not paused, in every channel."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(subscriptions)
            .where(subscriptions.c.paused_reason.is_(None))
            .order_by(subscriptions.c.channel_id, subscriptions.c.number)
        ).mappings()
        return [_subscription(row) for row in rows]


def remove_subscription(store: Store, channel_id: str, number: int) -> Subscription | None:
    """Remove subscription ``number`` of the channel; None when it has no such number."""
    with store.engine.begin() as conn:
        row = (
            conn.execute(
                select(subscriptions).where(
                    subscriptions.c.channel_id == channel_id, subscriptions.c.number == number
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        conn.execute(subscriptions.delete().where(subscriptions.c.id == row["id"]))
    logger.info("Channel %s unsubscribed from number %d", channel_id, number)
    return _subscription(row)


def remove_all_subscriptions(store: Store, channel_id: str) -> list[Subscription]:
    """Remove every subscription of the channel; returns what was removed."""
    with store.engine.begin() as conn:
        rows = conn.execute(
            select(subscriptions)
            .where(subscriptions.c.channel_id == channel_id)
            .order_by(subscriptions.c.number)
        ).mappings()
        removed = [_subscription(row) for row in rows]
        conn.execute(subscriptions.delete().where(subscriptions.c.channel_id == channel_id))
    logger.info("Channel %s removed all %d subscriptions", channel_id, len(removed))
    return removed


def pause_channel(
    store: Store, channel_id: str, reason: str, *, now: float | None = None
) -> list[Subscription]:
    """Pause the channel's active subscriptions because of ``reason``; returns those just paused."""
    with store.engine.begin() as conn:
        return pause_channel_in(conn, channel_id, reason, now=now)


def pause_channel_in(
    conn: Connection, channel_id: str, reason: str, *, now: float | None = None
) -> list[Subscription]:
    """:func:`pause_channel` inside the caller's transaction."""
    now = time.time() if now is None else now
    rows = conn.execute(
        select(subscriptions)
        .where(subscriptions.c.channel_id == channel_id, subscriptions.c.paused_reason.is_(None))
        .order_by(subscriptions.c.number)
    ).mappings()
    paused = [_subscription(row) for row in rows]
    if paused:
        conn.execute(
            subscriptions.update()
            .where(subscriptions.c.id.in_([sub.id for sub in paused]))
            .values(paused_reason=reason, paused_at=now)
        )
        logger.warning("Paused %d subscription(s) of %s: %s", len(paused), channel_id, reason)
    return [replace(sub, paused_reason=reason, paused_at=now) for sub in paused]


def resume_channel(store: Store, channel_id: str) -> list[Subscription]:
    """Resume every paused subscription of the channel (e.g. when the bot is invited back)."""
    with store.engine.begin() as conn:
        rows = conn.execute(
            select(subscriptions).where(
                subscriptions.c.channel_id == channel_id, subscriptions.c.paused_reason.is_not(None)
            )
        ).mappings()
        resumed = [_subscription(row) for row in rows]
        if resumed:
            conn.execute(
                subscriptions.update()
                .where(subscriptions.c.id.in_([sub.id for sub in resumed]))
                .values(paused_reason=None, paused_at=None)
            )
    if resumed:
        logger.info("Resumed %d subscription(s) of %s", len(resumed), channel_id)
    return [replace(sub, paused_reason=None, paused_at=None) for sub in resumed]


def _subscription(row: Mapping) -> Subscription:
    return Subscription(
        id=int(row["id"]),
        channel_id=row["channel_id"],
        number=int(row["number"]),
        query=row["query"],
        created_by=row["created_by"],
        created_at=float(row["created_at"]),
        paused_reason=row["paused_reason"],
        paused_at=row["paused_at"],
    )
