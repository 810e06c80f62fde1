"""A lease in the database: at most one holder at a time, lapsing when the holder stops renewing.

Several instances share one PostgreSQL database and exactly one of them should run the watcher.
Each tries to take the lease row; the holder renews it well before it expires, and when the holder
dies (crash, SIGKILL, lost host) the lease simply runs out and another instance takes it.

Safe under concurrency on both databases: on PostgreSQL the row is locked (``SELECT ... FOR
UPDATE``) for the decision, and two instances inserting the first row at once collide on the
primary key; on SQLite every write transaction starts with ``BEGIN IMMEDIATE`` and so runs alone.

Times come from the instances' clocks, which are assumed to agree to well within a lease (NTP).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from bot.store import Store, leases

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The lease expired or another holder took it while we were working."""


class Lease:
    """One named lease as seen by one would-be holder."""

    def __init__(
        self,
        store: Store,
        name: str,
        holder: str,
        *,
        seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if seconds <= 0:
            raise ValueError("a lease must last a positive number of seconds")
        self.store = store
        self.name = name
        self.holder = holder
        self.seconds = seconds
        self._clock = clock
        self.expires_at = 0.0
        """When our hold lapses, as far as this process knows; 0 when we do not hold it."""

    def __repr__(self) -> str:
        return f"Lease(name={self.name!r}, holder={self.holder!r})"

    def acquire(self) -> bool:
        """Take the lease, or extend it when we hold it already; True when we hold it now."""
        now = self._clock()
        with self.store.engine.begin() as conn:
            taken = self._take(conn, now)
        if taken:
            if self.expires_at <= now:
                logger.info("%s now holds the %s lease", self.holder, self.name)
            self.expires_at = now + self.seconds
        else:
            if self.expires_at > now:
                logger.warning("%s lost the %s lease", self.holder, self.name)
            self.expires_at = 0.0
        return taken

    renew = acquire

    def _take(self, conn: Connection, now: float) -> bool:
        row = conn.execute(select(leases).where(leases.c.name == self.name).with_for_update()).first()
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(leases).values(
                            name=self.name, holder=self.holder, expires_at=now + self.seconds, acquired_at=now
                        )
                    )
            except IntegrityError:
                return False  # another instance created the row a moment ago: it holds the lease
            return True
        if row.holder != self.holder and row.expires_at > now:
            return False
        acquired_at = row.acquired_at if row.holder == self.holder and row.expires_at > now else now
        conn.execute(
            leases.update()
            .where(leases.c.name == self.name)
            .values(holder=self.holder, expires_at=now + self.seconds, acquired_at=acquired_at)
        )
        return True

    def release(self) -> None:
        """Give the lease up now (a clean shutdown), so another instance need not wait for it to lapse."""
        with self.store.engine.begin() as conn:
            conn.execute(
                leases.update()
                .where(leases.c.name == self.name, leases.c.holder == self.holder)
                .values(expires_at=0.0)
            )
        if self.expires_at:
            logger.info("%s released the %s lease", self.holder, self.name)
        self.expires_at = 0.0

    def remaining(self) -> float:
        """Seconds until our hold lapses (by this process's reckoning); 0 when not held."""
        return max(0.0, self.expires_at - self._clock())

    def check(self, conn: Connection) -> None:
        """Raise :class:`LeaseLost` unless we still hold the lease; inside a write transaction.

        On PostgreSQL the row stays locked until the caller's transaction ends, so nobody can take
        the lease between this check and the caller's commit.
        """
        row = conn.execute(
            select(leases.c.holder, leases.c.expires_at).where(leases.c.name == self.name).with_for_update()
        ).first()
        if row is None or row.holder != self.holder or row.expires_at <= self._clock():
            self.expires_at = 0.0
            raise LeaseLost(f"{self.holder} no longer holds the {self.name} lease")

    def holder_now(self) -> str | None:
        """Who holds the lease at this moment, or None when nobody does."""
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(leases.c.holder, leases.c.expires_at).where(leases.c.name == self.name)
            ).first()
        if row is None or row.expires_at <= self._clock():
            return None
        return str(row.holder)
