"""The watcher: one DoiT poll per cycle for every subscription and card, and exactly-once delivery.

A cycle, when this instance holds the lease:

1. **Poll** (BACKGROUND_BUDGET per call): every active ticket (``status:new|open|pending|hold``,
   all pages, capped) and every ticket created since the last cycle (``minCreationTime`` with an
   overlap for clock skew). A ticket that was active and is in neither list left the active set:
   it is fetched by id to learn what it became (404: forgotten). So a cycle costs a few pages plus
   one call per ticket that just closed, however long the history. A DoiT failure skips the rest
   of the poll and writes nothing, so the next cycle sees the same changes again.
2. **Diff and record**, in one transaction that also checks the lease: snapshots take the new
   statuses, and every notification the changes call for becomes a delivery row with a unique key.
   The first cycle only records a baseline.
3. **Deliver** what is due, oldest first, round-robin over conversations and at most one Slack
   write per ``post_interval`` seconds in each. A row is marked delivered only after Slack
   accepted it; a Slack error leaves it pending with a backoff; a refusal that means the bot may
   not post there pauses the channel's subscriptions and tells whoever made them.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Connection, insert
from sqlalchemy.exc import IntegrityError

from bot.notify import outbox
from bot.notify.cards import Card, find_card, forget_card, load_cards, save_card, set_card_status
from bot.notify.fanout import CARD_POSTS, POSTING_KINDS, Follower, Kind, Planned, plan_deliveries
from bot.notify.lease import Lease, LeaseLost
from bot.notify.outbox import Delivery
from bot.notify.sender import Sender, Sent, Target, slack_error
from bot.notify.snapshots import (
    Diff,
    Snapshot,
    diff_tickets,
    latest_ticket_data,
    load_active,
    load_some,
    snapshot_row,
)
from bot.notify.subscriptions import Subscription, active_subscriptions, pause_channel_in
from bot.services import Services
from bot.store import snapshots, watcher_state
from bot.support.client import BACKGROUND_BUDGET, PAGE_SIZE_MAX
from bot.support.errors import SupportError, TicketNotFound
from bot.support.models import Ticket, to_epoch_ms
from bot.support.query import QueryError

logger = logging.getLogger(__name__)

LEASE_NAME = "watcher"
DEFAULT_LEASE_SECONDS = 90.0
ACTIVE_FILTER = "status:new|status:open|status:pending|status:hold"
CREATED_OVERLAP_MS = 5 * 60 * 1000
MAX_ACTIVE_TICKETS = 5000
MAX_NEW_TICKETS = 1000
MAX_DELIVERIES_PER_CYCLE = 1000
MAX_ATTEMPTS = 30
RETRY_MAX_DELAY = 600.0
KEEP_DELIVERED_SECONDS = 14 * 86400.0
PRUNE_EVERY_SECONDS = 3600.0
WATERMARK_KEY = "created_watermark_ms"

PAUSING_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
"""Slack will not take posts in this channel until a person fixes it: pause its subscriptions."""
CARD_GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "thread_not_found"})
REFUSED_ERRORS = frozenset(
    {
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "too_many_attachments",
        "invalid_arguments",
        "user_not_found",
        "cannot_dm_bot",
        "user_disabled",
        "messages_tab_disabled",
        "restricted_action",
    }
)
"""Slack will never accept this delivery as it is: retrying would only repeat the refusal."""


class _Conflict(Exception):
    """The snapshots changed between this cycle's read and its write (another writer)."""


@dataclass
class CycleReport:
    """What one cycle did."""

    leader: bool
    skipped_reason: str | None = None
    baseline: bool = False
    doit_calls: int = 0
    tickets_seen: int = 0
    changes: int = 0
    """New tickets plus status changes found."""
    deliveries_recorded: int = 0
    """Deliveries this cycle's changes called for (each recorded once, whatever a rerun finds)."""
    deliveries_made: int = 0
    """Deliveries Slack accepted this cycle (or that an earlier attempt was found to have made)."""
    deliveries_pending: int = 0
    rows_written: int = 0
    diff_cpu_seconds: float = 0.0
    """CPU time of the pure diff and fan-out, without any I/O."""


@dataclass(frozen=True)
class _Route:
    target: Target | None = None
    card: Card | None = None
    delivery: Delivery | None = None
    """The delivery as it should be sent, when that differs from the recorded one."""
    outcome: str | None = None
    """With no target: finish the delivery with this outcome, or (None) leave it pending."""
    error: str | None = None


@dataclass(frozen=True)
class _Attempt:
    wrote: bool = False
    """A Slack write was made (it counts against the conversation's pace)."""
    paused_conversation: str | None = None
    notices: tuple[Delivery, ...] = ()


def default_holder() -> str:
    """A name for this process as a lease holder: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Watcher:
    """Polls DoiT and delivers notifications; safe to run in every instance (the lease picks one)."""

    def __init__(
        self,
        services: Services,
        slack: WebClient,
        *,
        holder: str,
        interval: float,
        lease_seconds: float,
        post_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        retry_delay: float = 5.0,
        in_flight_seconds: float = 30.0,
    ) -> None:
        """``in_flight_seconds``: how long an unanswered Slack attempt may still land (the client's
        timeout plus its retries); only older ones are looked up before posting again."""
        self.services = services
        self.store = services.store
        self.interval = interval
        self.post_interval = post_interval
        self.retry_delay = retry_delay
        self.in_flight_seconds = in_flight_seconds
        self.lease = Lease(services.store, LEASE_NAME, holder, seconds=lease_seconds, clock=clock)
        self.sender = Sender(slack, services)
        self._clock = clock
        self._sleep = sleep
        self._stop: threading.Event | None = None
        self._cycle_lock = threading.Lock()
        self._last_write: dict[str, float] = {}
        self._last_prune = float("-inf")

    def __repr__(self) -> str:
        return f"Watcher(holder={self.lease.holder!r}, interval={self.interval})"

    # -- the loop ------------------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event) -> None:
        """Run cycles every ``interval`` seconds until ``stop`` is set; give the lease up on the way out."""
        self._stop = stop
        logger.info("Watcher %s started (every %.0f s)", self.lease.holder, self.interval)
        try:
            while not stop.is_set():
                try:
                    _log_report(self.run_cycle())
                except Exception:
                    logger.exception("A watcher cycle failed; the next one will try again")
                self._wait_for_next_cycle(stop)
        finally:
            self._release()
            logger.info("Watcher %s stopped", self.lease.holder)

    def _wait_for_next_cycle(self, stop: threading.Event) -> None:
        # The holder renews while it waits, so the lease never lapses between two cycles.
        deadline = time.monotonic() + self.interval
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.wait(min(remaining, self.lease.seconds / 3)):
                return
            if self.lease.remaining() > 0:
                try:
                    self.lease.renew()
                except Exception:
                    logger.exception("Could not renew the watcher lease")

    def _release(self) -> None:
        if self.lease.remaining() <= 0:
            return
        try:
            self.lease.release()
        except Exception:
            logger.exception("Could not release the watcher lease; it will lapse by itself")

    # -- one cycle -----------------------------------------------------------------------------------

    def run_cycle(self) -> CycleReport:
        """Poll, record and deliver once, if this instance holds (or can take) the lease."""
        with self._cycle_lock:
            if not self.lease.acquire():
                return CycleReport(leader=False, skipped_reason="another instance holds the watcher lease")
            report = CycleReport(leader=True)
            try:
                self._poll_and_record(report)
            except SupportError as exc:
                report.skipped_reason = f"DoiT is unavailable ({exc}); the next cycle tries again"
                logger.warning("Watcher poll skipped: %s", exc)
            except LeaseLost:
                report.leader = False
                report.skipped_reason = "the watcher lease was lost during the cycle"
                return report
            except (_Conflict, IntegrityError):
                report.skipped_reason = "the snapshots changed under this cycle; the next one redoes it"
                logger.warning("Watcher cycle conflicted with another writer; nothing was recorded")
            self._deliver_due(report)
            self._prune(report)
            return report

    # -- poll, diff, record --------------------------------------------------------------------------

    def _poll_and_record(self, report: CycleReport) -> None:
        now = self._clock()
        poll_started_ms = int(now * 1000)
        with self.store.engine.connect() as conn:
            watermark = _read_watermark(conn)
            known = load_active(conn)
        report.baseline = watermark is None
        created_since = None if watermark is None else watermark - CREATED_OVERLAP_MS

        seen, missing = self._poll(known, created_since, report)
        with self.store.engine.connect() as conn:
            known.update(load_some(conn, [ticket_id for ticket_id in seen if ticket_id not in known]))
        started = time.process_time()
        diff = diff_tickets(known, seen.values(), created_since_ms=created_since, missing=missing)
        report.diff_cpu_seconds = time.process_time() - started
        planned = [] if report.baseline else self._plan(diff, report)
        report.tickets_seen = len(seen)
        report.changes = len(diff.new) + len(diff.changed)

        self._keep_lease()
        with self.store.engine.begin() as conn:
            self.lease.check(conn)
            rows = _write_snapshots(conn, diff, now=now)
            recorded = outbox.record(conn, planned, now=now)
            rows += recorded + _write_watermark(conn, poll_started_ms)
        report.deliveries_recorded = len(planned)
        report.rows_written += rows
        if report.baseline:
            logger.info("Watcher baseline recorded: %d tickets, nothing posted", len(diff.inserts))

    def _poll(
        self, known: dict[int, Snapshot], created_since: int | None, report: CycleReport
    ) -> tuple[dict[int, Ticket], list[int]]:
        """What DoiT says now: active tickets, new ones, and what became of those that left."""
        active, truncated = self._list(report, filter=ACTIVE_FILTER, cap=MAX_ACTIVE_TICKETS)
        # Checked here as well: a deployment that ignored the filter must not pass closed tickets as active.
        seen = {ticket.id: ticket for ticket in active if ticket.is_active}
        if created_since is not None:
            recent, _ = self._list(report, min_creation_ms=created_since, cap=MAX_NEW_TICKETS)
            for ticket in recent:
                seen.setdefault(ticket.id, ticket)
        # A capped list is missing its oldest tickets: only those newer than its end can have left.
        horizon = min((_created_ms(ticket) or 0 for ticket in active), default=0) if truncated else None
        missing: list[int] = []
        for ticket_id, snapshot in known.items():
            if ticket_id in seen:
                continue
            if horizon is not None and (snapshot.create_time_ms or 0) < horizon:
                continue
            self._keep_lease()
            report.doit_calls += 1
            try:
                seen[ticket_id] = self.services.support.get_ticket(ticket_id, budget=BACKGROUND_BUDGET)
            except TicketNotFound:
                missing.append(ticket_id)
        return seen, missing

    def _list(
        self, report: CycleReport, *, cap: int, filter: str | None = None, min_creation_ms: int | None = None
    ) -> tuple[list[Ticket], bool]:
        """Every page of a listing, up to ``cap`` tickets; True when the cap cut it short."""
        tickets: list[Ticket] = []
        token: str | None = None
        tokens_seen: set[str] = set()
        while True:
            self._keep_lease()
            page = self.services.support.list_tickets(
                filter=filter,
                min_creation_ms=min_creation_ms,
                page_size=PAGE_SIZE_MAX,
                page_token=token,
                budget=BACKGROUND_BUDGET,
            )
            report.doit_calls += 1
            tickets.extend(page.tickets)
            if len(tickets) >= cap:
                logger.warning("The watcher's listing stopped at %d tickets (the cap)", cap)
                return tickets[:cap], True
            token = page.next_page_token
            if not token or token in tokens_seen:
                return tickets, False
            tokens_seen.add(token)

    def _plan(self, diff: Diff, report: CycleReport) -> list[Planned]:
        involved = [ticket.id for ticket in diff.inserts] + [change.ticket.id for change in diff.changed]
        if not involved:
            return []
        followers = self._followers()
        with self.store.engine.connect() as conn:
            cards = load_cards(conn, involved)
            pending_posts = outbox.pending_card_posts(conn, [change.ticket.id for change in diff.changed])
        started = time.process_time()
        planned = plan_deliveries(
            diff,
            followers=followers,
            cards=cards,
            pending_posts=pending_posts,
            notify_requester=self.services.settings.doit_notify_requester,
            now=self._clock(),
        )
        report.diff_cpu_seconds += time.process_time() - started
        return planned

    def _followers(self) -> list[Follower]:
        names = self.services.catalog.cached_platform_names()
        followers = []
        for subscription in active_subscriptions(self.store):
            try:
                query = subscription.ticket_query(names)
            except QueryError:
                # A customer platform the cache does not know yet: ask DoiT's catalog once.
                try:
                    query = subscription.ticket_query(self.services.catalog.platform_names())
                except (QueryError, SupportError) as exc:
                    logger.warning(
                        "Skipping subscription %d of %s this cycle: %s",
                        subscription.number,
                        subscription.channel_id,
                        getattr(exc, "problem", exc),
                    )
                    continue
            followers.append(Follower(subscription.channel_id, subscription.number, query))
        return followers

    def _keep_lease(self) -> None:
        """Renew the lease when half of it is gone; raise :class:`LeaseLost` when it cannot be."""
        if self.lease.remaining() < self.lease.seconds / 2 and not self.lease.renew():
            raise LeaseLost(f"{self.lease.holder} lost the watcher lease")

    # -- deliver -------------------------------------------------------------------------------------

    def _deliver_due(self, report: CycleReport) -> None:
        with self.store.engine.connect() as conn:
            due = outbox.pending(conn, now=self._clock(), limit=MAX_DELIVERIES_PER_CYCLE)
        queues: dict[str, list[Delivery]] = {}
        for delivery in due:
            queues.setdefault(_pace_key(delivery), []).append(delivery)
        try:
            while queues and not (self._stop and self._stop.is_set()):
                key = min(queues, key=lambda name: (self._next_slot(name), queues[name][0].id))
                wait = self._next_slot(key) - self._clock()
                if wait > 0:
                    self._sleep(wait)
                self._keep_lease()
                delivery = queues[key].pop(0)
                if not queues[key]:
                    del queues[key]
                attempt = self._deliver(delivery, report)
                if attempt.wrote:
                    self._last_write[key] = self._clock()
                if attempt.paused_conversation:
                    queues.pop(attempt.paused_conversation, None)
                for notice in attempt.notices:
                    queues.setdefault(_pace_key(notice), []).append(notice)
        except LeaseLost:
            report.leader = False
            report.skipped_reason = "the watcher lease was lost while delivering"
        with self.store.engine.connect() as conn:
            report.deliveries_pending = outbox.count_pending(conn)

    def _next_slot(self, key: str) -> float:
        return self._last_write.get(key, float("-inf")) + self.post_interval

    def _deliver(self, delivery: Delivery, report: CycleReport) -> _Attempt:
        route = self._route(delivery)
        if route.target is None:
            if route.outcome is not None:
                self._finish(delivery, report, outcome=route.outcome, error=route.error)
            return _Attempt()
        delivery = route.delivery or delivery
        if delivery.kind in POSTING_KINDS and delivery.attempted_at is not None:
            found = self._earlier_attempt(delivery, route.target, report)
            if found is not None:
                return found
        message = self.sender.message_for(delivery, route.card)
        with self.store.engine.begin() as conn:
            self.lease.check(conn)
            if not outbox.claim(conn, delivery.id, now=self._clock()):
                return _Attempt()
        report.rows_written += 1
        try:
            sent = self.sender.send(delivery, route.target, message)
        except SlackApiError as exc:
            return self._refused(delivery, route.target, slack_error(exc), report)
        except (OSError, SlackClientError) as exc:
            self._retry(
                delivery, report, f"{type(exc).__name__}: {exc}", in_doubt=delivery.kind in POSTING_KINDS
            )
            return _Attempt(wrote=True)
        self._delivered(delivery, sent, report, outcome="sent")
        return _Attempt(wrote=True)

    def _route(self, delivery: Delivery) -> _Route:
        """Where the delivery goes now; or why it goes nowhere (an outcome), or not yet (none)."""
        kind = delivery.kind
        if kind is Kind.PAUSE_NOTICE:
            return _Route(Target(delivery.channel_id))
        if kind is Kind.DM_REQUESTER:
            requester = (delivery.payload.get("ticket") or {}).get("requester")
            user_id = self.services.directory.user_for_email(self.sender.slack, requester)
            if not user_id:
                return _Route(outcome="skipped", error="the requester is not a member of this workspace")
            return _Route(Target(user_id))
        latest: dict | None = None
        posts: frozenset[str] = frozenset()
        with self.store.engine.connect() as conn:
            card = find_card(conn, delivery.ticket_id, delivery.channel_id)
            if kind in CARD_POSTS:
                latest = latest_ticket_data(conn, delivery.ticket_id)
            elif card is None:
                posts = outbox.pending_card_posts(conn, [delivery.ticket_id]).get(
                    delivery.ticket_id, frozenset()
                )
        if kind in CARD_POSTS:
            if card is not None:
                return _Route(outcome="superseded", error="the ticket already has a card here")
            # A post that waited (a Slack outage) shows the ticket as it is now, not as it was.
            payload = {**delivery.payload, "ticket": latest or delivery.payload["ticket"]}
            return _Route(Target(delivery.channel_id), delivery=replace(delivery, payload=payload))
        if card is None:
            if delivery.channel_id in posts:
                return _Route()  # the card is still to be posted here: redraw and reply after it
            return _Route(outcome="dropped", error="the card is gone")
        if kind is Kind.UPDATE_CARD:
            return _Route(Target(card.channel_id, card_ts=card.message_ts), card=card)
        return _Route(Target(card.channel_id, thread_ts=card.message_ts), card=card)

    def _earlier_attempt(self, delivery: Delivery, target: Target, report: CycleReport) -> _Attempt | None:
        """Settle an attempt that may have reached Slack: None means post now."""
        assert delivery.attempted_at is not None
        if self._clock() - delivery.attempted_at < self.in_flight_seconds:
            return _Attempt()  # it may still be on its way: look again next cycle
        try:
            found = self.sender.find_posted(delivery, target, since=delivery.attempted_at)
        except SlackApiError as exc:
            # Without history access (a missing scope) a repeat is better than a loss.
            logger.warning(
                "Could not check whether %s was posted already (%s); posting it",
                delivery.event_key,
                slack_error(exc),
            )
            return None
        except (OSError, SlackClientError) as exc:
            self._retry(delivery, report, f"{type(exc).__name__}: {exc}", in_doubt=True)
            return _Attempt()
        if found is None:
            return None
        self._delivered(delivery, found, report, outcome="found")
        return _Attempt()

    def _delivered(self, delivery: Delivery, sent: Sent, report: CycleReport, *, outcome: str) -> None:
        now = self._clock()
        status = (delivery.payload.get("ticket") or {}).get("status")
        with self.store.engine.begin() as conn:
            outbox.finish(
                conn,
                delivery.id,
                now=now,
                outcome=outcome,
                message_ts=sent.message_ts,
                channel_id=sent.conversation if delivery.kind is Kind.DM_REQUESTER else None,
            )
            if delivery.kind in CARD_POSTS and sent.message_ts:
                # Recorded even when DoiT sent no status, or the next change would post a second card.
                save_card(
                    conn, delivery.ticket_id, delivery.channel_id, sent.message_ts, status or "", now=now
                )
                report.rows_written += 1
            elif delivery.kind is Kind.UPDATE_CARD:
                set_card_status(conn, delivery.ticket_id, delivery.channel_id, status or "", now=now)
                report.rows_written += 1
        report.rows_written += 1
        report.deliveries_made += 1

    def _finish(self, delivery: Delivery, report: CycleReport, *, outcome: str, error: str | None) -> None:
        with self.store.engine.begin() as conn:
            outbox.finish(conn, delivery.id, now=self._clock(), outcome=outcome, error=error)
        report.rows_written += 1
        logger.info("Delivery %s %s: %s", delivery.event_key, outcome, error or "-")

    def _retry(self, delivery: Delivery, report: CycleReport, error: str, *, in_doubt: bool) -> None:
        attempts = delivery.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            logger.error("Giving up delivery %s after %d attempts: %s", delivery.event_key, attempts, error)
            self._finish(delivery, report, outcome="dropped", error=error)
            return
        delay = min(RETRY_MAX_DELAY, self.retry_delay * 2 ** (attempts - 1))
        with self.store.engine.begin() as conn:
            outbox.retry_later(
                conn, delivery.id, next_attempt_at=self._clock() + delay, error=error, in_doubt=in_doubt
            )
        report.rows_written += 1
        logger.warning("Delivery %s failed (%s); retrying in %.0f s", delivery.event_key, error, delay)

    def _refused(self, delivery: Delivery, target: Target, error: str, report: CycleReport) -> _Attempt:
        if error in PAUSING_ERRORS and delivery.kind not in (Kind.PAUSE_NOTICE, Kind.DM_REQUESTER):
            notices = self._pause(delivery, target.conversation, error, report)
            return _Attempt(wrote=True, paused_conversation=target.conversation, notices=notices)
        if error in CARD_GONE_ERRORS:
            with self.store.engine.begin() as conn:
                forget_card(conn, delivery.ticket_id, target.conversation)
            self._finish(delivery, report, outcome="dropped", error=error)
        elif error in REFUSED_ERRORS or error in PAUSING_ERRORS:
            logger.error("Slack refused delivery %s for good: %s", delivery.event_key, error)
            self._finish(delivery, report, outcome="dropped", error=error)
        else:
            self._retry(delivery, report, error, in_doubt=False)
        return _Attempt(wrote=True)

    def _pause(
        self, delivery: Delivery, channel_id: str, error: str, report: CycleReport
    ) -> tuple[Delivery, ...]:
        """Slack will not take posts in ``channel_id``: drop what is queued there, pause, tell."""
        now = self._clock()
        with self.store.engine.begin() as conn:
            outbox.finish(conn, delivery.id, now=now, outcome="dropped", error=error)
            dropped = outbox.drop_channel(conn, channel_id, now=now, error=error)
            paused = pause_channel_in(conn, channel_id, error, now=now)
            notices = _pause_notices(channel_id, error, paused, self._describe, now=now)
            written = outbox.record(conn, notices, now=now)
            recorded = outbox.by_keys(conn, [notice.event_key for notice in notices])
        report.rows_written += 1 + dropped + len(paused) + written
        logger.warning(
            "Slack refused posts in %s (%s): dropped %d pending, paused %d subscription(s)",
            channel_id,
            error,
            dropped,
            len(paused),
        )
        return tuple(recorded)

    def _describe(self, subscription: Subscription) -> str:
        names = self.services.catalog.cached_platform_names()
        try:
            return subscription.ticket_query(names).describe(names)
        except QueryError:
            return subscription.query or "all tickets"

    def _prune(self, report: CycleReport) -> None:
        now = self._clock()
        if now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        with self.store.engine.begin() as conn:
            report.rows_written += outbox.prune(conn, delivered_before=now - KEEP_DELIVERED_SECONDS)


# -- helpers ---------------------------------------------------------------------------------------


def _pace_key(delivery: Delivery) -> str:
    if delivery.kind is Kind.DM_REQUESTER and not delivery.channel_id:
        return "requester:" + str((delivery.payload.get("ticket") or {}).get("requester"))
    return delivery.channel_id


def _pause_notices(
    channel_id: str,
    reason: str,
    paused: Sequence[Subscription],
    describe: Callable[[Subscription], str],
    *,
    now: float,
) -> list[Planned]:
    by_person: dict[str, list[Subscription]] = {}
    for subscription in paused:
        by_person.setdefault(subscription.created_by, []).append(subscription)
    return [
        Planned(
            event_key=f"pause:{channel_id}:{person}:{int(now * 1000)}",
            kind=Kind.PAUSE_NOTICE,
            ticket_id=0,
            channel_id=person,
            payload={
                "channel_id": channel_id,
                "reason": reason,
                "subscriptions": [
                    {"number": sub.number, "description": describe(sub), "query": sub.query} for sub in subs
                ],
            },
        )
        for person, subs in by_person.items()
    ]


def _write_snapshots(conn: Connection, diff: Diff, *, now: float) -> int:
    rows = 0
    if diff.inserts:
        conn.execute(insert(snapshots), [snapshot_row(ticket, version=0, now=now) for ticket in diff.inserts])
        rows += len(diff.inserts)
    for change in diff.changed:
        result = conn.execute(
            snapshots.update()
            .where(snapshots.c.ticket_id == change.ticket.id, snapshots.c.version == change.version - 1)
            .values(**snapshot_row(change.ticket, version=change.version, now=now))
        )
        if result.rowcount != 1:
            raise _Conflict(f"ticket {change.ticket.id} moved on under this cycle")
        rows += 1
    if diff.forget:
        result = conn.execute(snapshots.delete().where(snapshots.c.ticket_id.in_(diff.forget)))
        rows += result.rowcount or 0
    return rows


def _read_watermark(conn: Connection) -> int | None:
    row = conn.execute(watcher_state.select().where(watcher_state.c.key == WATERMARK_KEY)).first()
    return int(json.loads(row.value)) if row else None


def _write_watermark(conn: Connection, value_ms: int) -> int:
    value = json.dumps(value_ms)
    result = conn.execute(
        watcher_state.update().where(watcher_state.c.key == WATERMARK_KEY).values(value=value)
    )
    if result.rowcount == 0:
        conn.execute(insert(watcher_state).values(key=WATERMARK_KEY, value=value))
    return 1


def _created_ms(ticket: Ticket) -> int | None:
    return to_epoch_ms(ticket.create_time) if ticket.create_time else None


def _log_report(report: CycleReport) -> None:
    if not report.leader:
        logger.debug("Watcher cycle skipped: %s", report.skipped_reason)
        return
    logger.info(
        "Watcher cycle: %d DoiT calls, %d tickets seen, %d changes, %d delivered, %d pending, "
        "%d rows written%s",
        report.doit_calls,
        report.tickets_seen,
        report.changes,
        report.deliveries_made,
        report.deliveries_pending,
        report.rows_written,
        f" ({report.skipped_reason})" if report.skipped_reason else "",
    )


# -- running it inside `doit-slack run` ------------------------------------------------------------


class WatcherThread(threading.Thread):
    """The watcher on a daemon thread; :meth:`stop` ends it and gives the lease up."""

    def __init__(self, watcher: Watcher) -> None:
        super().__init__(name="doit-watcher", daemon=True)
        self.watcher = watcher
        self.stop_event = threading.Event()

    def run(self) -> None:
        self.watcher.run_forever(self.stop_event)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to end and wait up to ``timeout`` seconds for it."""
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout)


def start_in_thread(
    services: Services,
    slack: WebClient,
    *,
    holder: str | None = None,
    interval: float | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    post_interval: float = 1.0,
) -> WatcherThread:
    """Start the watcher on a daemon thread (``interval`` defaults to ``DOIT_WATCH_INTERVAL``)."""
    watcher = Watcher(
        services,
        slack,
        holder=holder or default_holder(),
        interval=services.settings.doit_watch_interval if interval is None else interval,
        lease_seconds=lease_seconds,
        post_interval=post_interval,
    )
    thread = WatcherThread(watcher)
    thread.start()
    return thread
