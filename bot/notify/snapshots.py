"""What the watcher last saw of each ticket, and the pure diff between that and what DoiT says now.

A snapshot is kept for every ticket the watcher has seen active (or newly created). Its
``version`` goes up by one with each status change, which makes every change nameable
("ticket 141207, change 3") and so gives each notification a stable, unique key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, Row, Select, select

from bot.store import snapshots
from bot.support.models import Ticket, to_epoch_ms

logger = logging.getLogger(__name__)

_IN_CHUNK = 500
_LEFT_OUT = frozenset({"description", "platform_info"})
"""Large fields a notification never shows; the list endpoint does not send them anyway."""


@dataclass(frozen=True)
class Snapshot:
    ticket_id: int
    status: str
    active: bool
    version: int
    create_time_ms: int | None = None


@dataclass(frozen=True)
class Change:
    """A status change: the ticket as it is now, the status before, and the change's number."""

    ticket: Ticket
    old: str
    version: int


@dataclass
class Diff:
    """What changed since the last cycle, and the snapshot rows to write for it."""

    new: list[Ticket] = field(default_factory=list)
    """First seen, and created since the last cycle: a new ticket to announce."""
    quiet: list[Ticket] = field(default_factory=list)
    """First seen but not new (the baseline, or an old ticket that became active): recorded silently."""
    changed: list[Change] = field(default_factory=list)
    forget: list[int] = field(default_factory=list)
    """Tickets DoiT no longer knows (404 when fetched by id)."""

    @property
    def inserts(self) -> list[Ticket]:
        return [*self.new, *self.quiet]


def diff_tickets(
    known: Mapping[int, Snapshot],
    seen: Iterable[Ticket],
    *,
    created_since_ms: int | None,
    missing: Iterable[int] = (),
) -> Diff:
    """Compare what DoiT says now (``seen``) with the snapshots (``known``). Pure: no I/O.

    ``created_since_ms`` is the creation time from which an unknown ticket counts as new; None
    means this is the baseline cycle, when every ticket is recorded and none is announced.
    """
    diff = Diff()
    for ticket in seen:
        snapshot = known.get(ticket.id)
        if snapshot is None:
            created = _created_ms(ticket)
            is_new = created_since_ms is not None and created is not None and created >= created_since_ms
            (diff.new if is_new else diff.quiet).append(ticket)
        elif snapshot.status != ticket.status:
            diff.changed.append(Change(ticket=ticket, old=snapshot.status, version=snapshot.version + 1))
    diff.forget = sorted({int(ticket_id) for ticket_id in missing if int(ticket_id) in known})
    return diff


def _created_ms(ticket: Ticket) -> int | None:
    return to_epoch_ms(ticket.create_time) if ticket.create_time else None


def ticket_json(ticket: Ticket) -> str:
    """The ticket as stored in a snapshot or a delivery (without its long texts)."""
    return json.dumps(ticket.model_dump(mode="json", exclude=set(_LEFT_OUT)), separators=(",", ":"))


def ticket_from_json(data: str) -> Ticket:
    return Ticket.model_validate(json.loads(data))


def snapshot_row(ticket: Ticket, *, version: int, now: float) -> dict:
    """The values of a ``snapshots`` row for ``ticket``."""
    return {
        "ticket_id": ticket.id,
        "status": ticket.status,
        "active": ticket.is_active,
        "version": version,
        "create_time_ms": _created_ms(ticket),
        "update_time_ms": to_epoch_ms(ticket.update_time) if ticket.update_time else None,
        "data": ticket_json(ticket),
        "seen_at": now,
    }


def load_active(conn: Connection) -> dict[int, Snapshot]:
    """Snapshots of the tickets that were active when last seen."""
    rows = conn.execute(_columns().where(snapshots.c.active.is_(True)))
    return {int(row.ticket_id): _snapshot(row) for row in rows}


def load_some(conn: Connection, ticket_ids: Iterable[int]) -> dict[int, Snapshot]:
    """Snapshots of the given tickets, for those that have one."""
    ids = sorted({int(ticket_id) for ticket_id in ticket_ids})
    found: dict[int, Snapshot] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        rows = conn.execute(_columns().where(snapshots.c.ticket_id.in_(ids[start : start + _IN_CHUNK])))
        found.update({int(row.ticket_id): _snapshot(row) for row in rows})
    return found


def latest_ticket_data(conn: Connection, ticket_id: int) -> dict | None:
    """The ticket as the watcher last saw it (JSON-ready), or None when it has no snapshot."""
    data = conn.execute(select(snapshots.c.data).where(snapshots.c.ticket_id == int(ticket_id))).scalar()
    return json.loads(data) if data else None


def _columns() -> Select:
    return select(
        snapshots.c.ticket_id,
        snapshots.c.status,
        snapshots.c.active,
        snapshots.c.version,
        snapshots.c.create_time_ms,
    )


def _snapshot(row: Row) -> Snapshot:
    return Snapshot(
        ticket_id=int(row.ticket_id),
        status=row.status,
        active=bool(row.active),
        version=int(row.version),
        create_time_ms=row.create_time_ms,
    )
