"""Which tickets were unfurled in which channel lately, so a link pasted again stays quiet.

A claim is taken before DoiT is asked, so two deliveries of one ``link_shared`` event (Slack
retries) or two people pasting the same link at once unfurl it once. Rows older than the window
are deleted as new claims come in; the table only ever holds the last window's unfurls.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from bot.store import Store, unfurls

logger = logging.getLogger(__name__)

UNFURL_WINDOW = 30 * 60.0
"""Seconds during which the same ticket is not unfurled again in the same channel."""


def claim_unfurl(
    store: Store, channel_id: str, ticket_id: int, *, window: float = UNFURL_WINDOW, now: float | None = None
) -> float | None:
    """Claim the unfurl of ``ticket_id`` in ``channel_id``: the claim's time, or None when the ticket
    was unfurled there less than ``window`` seconds ago."""
    now = time.time() if now is None else now
    with store.engine.begin() as conn:
        conn.execute(delete(unfurls).where(unfurls.c.unfurled_at < now - window))
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(unfurls).values(channel_id=channel_id, ticket_id=int(ticket_id), unfurled_at=now)
                )
        except IntegrityError:
            return None
    return now


def release_unfurl(store: Store, channel_id: str, ticket_id: int, claimed_at: float) -> None:
    """Give a claim back (nothing was unfurled after all), so the next paste tries again."""
    with store.engine.begin() as conn:
        conn.execute(
            delete(unfurls).where(
                unfurls.c.channel_id == channel_id,
                unfurls.c.ticket_id == int(ticket_id),
                unfurls.c.unfurled_at == claimed_at,
            )
        )
