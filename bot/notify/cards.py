"""Where each ticket's card lives, so a status change can update it in place and thread under it.

A card is recorded when the bot posts one: by the create flow for a ticket filed through the bot,
and by the watcher when a subscription first posts a ticket in a channel. A ticket has at most one
card per conversation; recording another replaces it (the newest post is the one to follow).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from bot.store import Store, cards

logger = logging.getLogger(__name__)

_IN_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class Card:
    ticket_id: int
    channel_id: str
    message_ts: str
    status: str
    """The status the card shows now."""
    posted_at: float
    filed_by: str | None = None


def record_card(
    store: Store,
    ticket_id: int,
    channel_id: str,
    message_ts: str,
    status: str,
    *,
    filed_by: str | None = None,
    now: float | None = None,
) -> None:
    """Remember that the card of ``ticket_id`` is message ``message_ts`` in ``channel_id``.

    ``filed_by`` (the Slack user who filed the ticket through the bot) is kept so the card still
    says who filed it after the watcher redraws it.
    """
    with store.engine.begin() as conn:
        save_card(conn, ticket_id, channel_id, message_ts, status, filed_by=filed_by, now=now)
    logger.info("Recorded the card of ticket %s in %s (%s)", ticket_id, channel_id, message_ts)


def save_card(
    conn: Connection,
    ticket_id: int,
    channel_id: str,
    message_ts: str,
    status: str,
    *,
    filed_by: str | None = None,
    now: float | None = None,
) -> None:
    """:func:`record_card` inside the caller's transaction."""
    now = time.time() if now is None else now
    where = (cards.c.ticket_id == int(ticket_id), cards.c.channel_id == channel_id)
    previous = conn.execute(select(cards.c.filed_by).where(*where)).first()
    if previous is not None:
        conn.execute(
            cards.update()
            .where(*where)
            .values(
                message_ts=message_ts,
                status=status,
                posted_at=now,
                updated_at=now,
                filed_by=filed_by or previous.filed_by,
            )
        )
        return
    conn.execute(
        insert(cards).values(
            ticket_id=int(ticket_id),
            channel_id=channel_id,
            message_ts=message_ts,
            status=status,
            posted_at=now,
            updated_at=now,
            filed_by=filed_by,
        )
    )


def card_in(store: Store, ticket_id: int, channel_id: str) -> Card | None:
    """The ticket's card in one conversation, if it has one."""
    with store.engine.connect() as conn:
        return find_card(conn, ticket_id, channel_id)


def find_card(conn: Connection, ticket_id: int, channel_id: str) -> Card | None:
    row = (
        conn.execute(
            select(cards).where(cards.c.ticket_id == int(ticket_id), cards.c.channel_id == channel_id)
        )
        .mappings()
        .first()
    )
    return _card(row) if row else None


def cards_of(store: Store, ticket_id: int) -> list[Card]:
    """Every card of one ticket, oldest first."""
    return cards_of_tickets(store, [ticket_id]).get(int(ticket_id), [])


def cards_of_tickets(store: Store, ticket_ids: Iterable[int]) -> dict[int, list[Card]]:
    """ticket id -> its cards (oldest first), for the tickets that have any."""
    with store.engine.connect() as conn:
        return load_cards(conn, ticket_ids)


def load_cards(conn: Connection, ticket_ids: Iterable[int]) -> dict[int, list[Card]]:
    """:func:`cards_of_tickets` inside the caller's connection."""
    ids = sorted({int(ticket_id) for ticket_id in ticket_ids})
    found: dict[int, list[Card]] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        rows = conn.execute(
            select(cards)
            .where(cards.c.ticket_id.in_(ids[start : start + _IN_CHUNK]))
            .order_by(cards.c.ticket_id, cards.c.posted_at)
        ).mappings()
        for row in rows:
            found.setdefault(int(row["ticket_id"]), []).append(_card(row))
    return found


def set_card_status(conn: Connection, ticket_id: int, channel_id: str, status: str, *, now: float) -> None:
    """The card now shows ``status`` (after ``chat.update`` succeeded)."""
    conn.execute(
        cards.update()
        .where(cards.c.ticket_id == int(ticket_id), cards.c.channel_id == channel_id)
        .values(status=status, updated_at=now)
    )


def forget_card(conn: Connection, ticket_id: int, channel_id: str) -> None:
    """Stop following a card Slack no longer has (deleted message, deleted channel)."""
    conn.execute(cards.delete().where(cards.c.ticket_id == int(ticket_id), cards.c.channel_id == channel_id))


def _card(row: Mapping) -> Card:
    return Card(
        ticket_id=int(row["ticket_id"]),
        channel_id=row["channel_id"],
        message_ts=row["message_ts"],
        status=row["status"],
        posted_at=float(row["posted_at"]),
        filed_by=row["filed_by"],
    )
