"""The deliveries table: every notification is a row before it is a Slack call.

A row is written in the same transaction as the snapshot change that called for it, and is
marked delivered only once Slack accepted it. In between, ``attempted_at`` says an attempt began
and may have reached Slack: a row found that way after a crash is looked up in Slack (by the key
in its message metadata) before it is posted again.

Outcomes of a finished row: ``sent``; ``found`` (an earlier attempt had reached Slack);
``superseded`` (a newer redraw of the same card, or the card was already there); ``skipped``
(nobody to tell, such as a requester who is not in the workspace); ``dropped`` (Slack refused for
good: the channel is gone or the bot was removed, the message was deleted).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from bot.notify.fanout import CARD_POSTS, Kind, Planned
from bot.store import deliveries

logger = logging.getLogger(__name__)

_IN_CHUNK = 500


@dataclass(frozen=True)
class Delivery:
    id: int
    event_key: str
    kind: Kind
    ticket_id: int
    channel_id: str
    payload: dict[str, Any]
    attempts: int
    attempted_at: float | None
    """When an attempt began that may have reached Slack; None when none may have."""
    created_at: float


def record(conn: Connection, planned: Sequence[Planned], *, now: float) -> int:
    """Insert the planned deliveries not recorded yet; returns the rows written.

    A new redraw of a card makes any older pending redraw of the same card pointless (it would
    only show a stale status for a moment), so those are marked superseded here.
    """
    known = existing_keys(conn, [item.event_key for item in planned])
    fresh = [item for item in planned if item.event_key not in known]
    if not fresh:
        return 0
    written = 0
    for item in fresh:
        if item.kind is Kind.UPDATE_CARD:
            written += _supersede_redraws(conn, item.ticket_id, item.channel_id, now=now)
    conn.execute(
        insert(deliveries),
        [
            {
                "event_key": item.event_key,
                "kind": item.kind.value,
                "ticket_id": item.ticket_id,
                "channel_id": item.channel_id,
                "payload": json.dumps(item.payload, separators=(",", ":")),
                "created_at": now,
                "attempts": 0,
                "next_attempt_at": 0.0,
            }
            for item in fresh
        ],
    )
    return written + len(fresh)


def _supersede_redraws(conn: Connection, ticket_id: int, channel_id: str, *, now: float) -> int:
    result = conn.execute(
        deliveries.update()
        .where(
            deliveries.c.ticket_id == ticket_id,
            deliveries.c.channel_id == channel_id,
            deliveries.c.kind == Kind.UPDATE_CARD.value,
            deliveries.c.delivered_at.is_(None),
        )
        .values(delivered_at=now, outcome="superseded")
    )
    return result.rowcount or 0


def existing_keys(conn: Connection, keys: Iterable[str]) -> set[str]:
    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), _IN_CHUNK):
        rows = conn.execute(
            select(deliveries.c.event_key).where(
                deliveries.c.event_key.in_(wanted[start : start + _IN_CHUNK])
            )
        )
        found.update(row.event_key for row in rows)
    return found


def pending(conn: Connection, *, now: float, limit: int = 1000) -> list[Delivery]:
    """Deliveries due now, oldest first."""
    rows = conn.execute(
        select(deliveries)
        .where(deliveries.c.delivered_at.is_(None), deliveries.c.next_attempt_at <= now)
        .order_by(deliveries.c.id)
        .limit(limit)
    ).mappings()
    return [_delivery(row) for row in rows]


def by_keys(conn: Connection, keys: Sequence[str]) -> list[Delivery]:
    """The deliveries with these keys, oldest first."""
    if not keys:
        return []
    rows = conn.execute(
        select(deliveries).where(deliveries.c.event_key.in_(list(keys))).order_by(deliveries.c.id)
    ).mappings()
    return [_delivery(row) for row in rows]


def count_pending(conn: Connection) -> int:
    rows = conn.execute(select(deliveries.c.id).where(deliveries.c.delivered_at.is_(None))).all()
    return len(rows)


def pending_card_posts(conn: Connection, ticket_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """ticket id -> channels where a post of its card is recorded but not made yet."""
    ids = sorted({int(ticket_id) for ticket_id in ticket_ids})
    found: dict[int, set[str]] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        rows = conn.execute(
            select(deliveries.c.ticket_id, deliveries.c.channel_id).where(
                deliveries.c.ticket_id.in_(ids[start : start + _IN_CHUNK]),
                deliveries.c.kind.in_([kind.value for kind in CARD_POSTS]),
                deliveries.c.delivered_at.is_(None),
            )
        )
        for row in rows:
            found.setdefault(int(row.ticket_id), set()).add(row.channel_id)
    return {ticket_id: frozenset(channels) for ticket_id, channels in found.items()}


def claim(conn: Connection, delivery_id: int, *, now: float) -> bool:
    """Note that an attempt begins now; False when the row was delivered meanwhile."""
    result = conn.execute(
        deliveries.update()
        .where(deliveries.c.id == delivery_id, deliveries.c.delivered_at.is_(None))
        .values(attempts=deliveries.c.attempts + 1, attempted_at=now)
    )
    return result.rowcount == 1


def finish(
    conn: Connection,
    delivery_id: int,
    *,
    now: float,
    outcome: str,
    message_ts: str | None = None,
    channel_id: str | None = None,
    error: str | None = None,
) -> None:
    """Mark the row done: ``sent``, ``found``, ``superseded``, ``skipped`` or ``dropped``."""
    values: dict[str, Any] = {
        "delivered_at": now,
        "outcome": outcome,
        "attempted_at": None,
        "message_ts": message_ts,
        "last_error": error,
    }
    if channel_id:
        values["channel_id"] = channel_id
    conn.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(**values))


def retry_later(
    conn: Connection, delivery_id: int, *, next_attempt_at: float, error: str, in_doubt: bool
) -> None:
    """Leave the row pending until ``next_attempt_at``.

    ``in_doubt`` keeps ``attempted_at`` (the attempt may have reached Slack: look before posting
    again); otherwise Slack answered with an error, so nothing was posted.
    """
    values: dict[str, Any] = {"next_attempt_at": next_attempt_at, "last_error": error[:500]}
    if not in_doubt:
        values["attempted_at"] = None
    conn.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(**values))


def drop_channel(conn: Connection, channel_id: str, *, now: float, error: str) -> int:
    """Give up the pending deliveries to a channel Slack refuses; returns how many."""
    result = conn.execute(
        deliveries.update()
        .where(deliveries.c.channel_id == channel_id, deliveries.c.delivered_at.is_(None))
        .values(delivered_at=now, outcome="dropped", attempted_at=None, last_error=error)
    )
    return result.rowcount or 0


def prune(conn: Connection, *, delivered_before: float) -> int:
    """Forget finished deliveries older than ``delivered_before``; their keys can never recur."""
    result = conn.execute(
        deliveries.delete().where(
            deliveries.c.delivered_at.is_not(None), deliveries.c.delivered_at < delivered_before
        )
    )
    return result.rowcount or 0


def _delivery(row: Mapping[str, Any]) -> Delivery:
    return Delivery(
        id=int(row["id"]),
        event_key=row["event_key"],
        kind=Kind(row["kind"]),
        ticket_id=int(row["ticket_id"]),
        channel_id=row["channel_id"],
        payload=json.loads(row["payload"]),
        attempts=int(row["attempts"]),
        attempted_at=row["attempted_at"],
        created_at=float(row["created_at"]),
    )
