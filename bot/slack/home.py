"""The App Home tab, published each time someone opens it.

"Your tickets" are those whose requester is the person's Slack email, found among DoiT's newest
tickets (the API cannot filter by requester). They are kept for :data:`HOME_CACHE_SECONDS` per
person, so opening the tab again, or Slack delivering the event twice, does not ask DoiT again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.blocks import ids
from bot.blocks.create_modal import TicketDraft
from bot.blocks.home import ChannelSubscriptions, home_view, subscriptions_by_channel
from bot.notify.subscriptions import Subscription, active_subscriptions
from bot.services import Services
from bot.slack import sentences
from bot.slack.create import open_create_modal
from bot.support.client import PAGE_SIZE_MAX
from bot.support.errors import SupportError
from bot.support.models import Ticket
from bot.support.query import QueryError

logger = logging.getLogger(__name__)

HOME_CACHE_SECONDS = 60.0
HOME_PAGES = 3
"""DoiT pages (of 100, newest first) searched for the person's tickets."""
HOME_TICKETS_KEPT = 50
HOME_BUDGET = 5.0
"""Seconds per DoiT page: the event is acked already, so there is no 3 s limit here."""
CHANNEL_SECONDS = 600.0
"""How long whether a channel is public is remembered."""

NO_EMAIL = (
    "Your Slack profile shows no email address (or the workspace hides it), so I can't tell which "
    "DoiT tickets are yours: DoiT knows requesters by email. `/doit list requester:you@example.com` "
    "shows the tickets of the address you give."
)
NO_SUBSCRIPTIONS = "I couldn't read the channel subscriptions just now. Open this tab again in a minute."


@dataclass(frozen=True)
class _Entry:
    email: str
    tickets: tuple[Ticket, ...]
    loaded_at: float
    as_of: datetime


class HomeCache:
    """Per-person tickets for the Home tab, and which channels are public, for a short while."""

    def __init__(
        self, *, ttl: float = HOME_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._user_locks: dict[str, threading.Lock] = {}
        self._entries: dict[str, _Entry] = {}
        self._public: dict[str, tuple[float, bool]] = {}

    def tickets(
        self, user_id: str, email: str, load: Callable[[], list[Ticket]]
    ) -> tuple[tuple[Ticket, ...], datetime]:
        """The person's tickets and when they were read, loading them when the cache has none."""
        # One load per person at a time: a second open waits and then finds the first one's answer.
        with self._user_lock(user_id):
            entry = self._entries.get(user_id)
            if entry and entry.email == email and self._clock() - entry.loaded_at < self._ttl:
                return entry.tickets, entry.as_of
            tickets = tuple(load())
            self._entries[user_id] = _Entry(email, tickets, self._clock(), datetime.now(UTC))
            return tickets, self._entries[user_id].as_of

    def is_public(self, client: WebClient, channel_id: str) -> bool:
        """Whether ``channel_id`` is a public channel (so anyone may see what it follows)."""
        with self._lock:
            known = self._public.get(channel_id)
        if known and self._clock() - known[0] < CHANNEL_SECONDS:
            return known[1]
        try:
            channel = client.conversations_info(channel=channel_id)["channel"] or {}
            public = not (channel.get("is_private") or channel.get("is_im") or channel.get("is_mpim"))
        except SlackApiError as exc:
            # A channel the bot cannot see is treated as private: never show what we cannot check.
            logger.info("conversations.info for %s failed: %s", channel_id, exc.response.get("error"))
            public = False
        with self._lock:
            self._public[channel_id] = (self._clock(), public)
        return public

    def _user_lock(self, user_id: str) -> threading.Lock:
        with self._lock:
            return self._user_locks.setdefault(user_id, threading.Lock())


def register(app: App, services: Services) -> None:
    cache = HomeCache()

    @app.event("app_home_opened")
    def handle_home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        publish_home(client, services, cache, event["user"])

    @app.action(ids.HOME_NEW_TICKET)
    def handle_new_ticket(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        draft = TicketDraft(notify_channel=services.settings.doit_notify_channel)
        open_create_modal(
            client, services, trigger_id=body["trigger_id"], user_id=body["user"]["id"], draft=draft
        )


def publish_home(client: WebClient, services: Services, cache: HomeCache, user_id: str) -> None:
    """Build and publish ``user_id``'s Home tab."""
    started = time.monotonic()
    email = services.directory.email_of(client, user_id)
    tickets: tuple[Ticket, ...] | None = None
    problem = None
    as_of = None
    if not email:
        problem = NO_EMAIL
    else:
        try:
            tickets, as_of = cache.tickets(user_id, email, lambda: own_tickets(services, email))
        except SupportError as exc:
            logger.warning("Loading the Home tickets of %s failed: %s", user_id, exc)
            problem = sentences.for_support_error(exc)
    channels, hidden, subscriptions_problem = _subscriptions(client, services, cache)
    view = home_view(
        requester_email=email,
        tickets=tickets,
        tickets_problem=problem,
        subscriptions=channels,
        hidden_subscriptions=hidden,
        subscriptions_problem=subscriptions_problem,
        updated_at=as_of,
    )
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        logger.error("Publishing the Home tab of %s failed: %s", user_id, exc.response.get("error"))
        return
    logger.info("Published the Home tab of %s in %.0f ms", user_id, (time.monotonic() - started) * 1000)


def own_tickets(services: Services, email: str) -> list[Ticket]:
    """Tickets requested by ``email`` among DoiT's newest :data:`HOME_PAGES` pages."""
    wanted = email.strip().lower()
    found: list[Ticket] = []
    token = None
    for _ in range(HOME_PAGES):
        page = services.support.list_tickets(page_size=PAGE_SIZE_MAX, page_token=token, budget=HOME_BUDGET)
        found += [ticket for ticket in page.tickets if (ticket.requester or "").strip().lower() == wanted]
        token = page.next_page_token
        if not token or len(found) >= HOME_TICKETS_KEPT:
            break
    return found[:HOME_TICKETS_KEPT]


def _subscriptions(
    client: WebClient, services: Services, cache: HomeCache
) -> tuple[list[ChannelSubscriptions], int, str | None]:
    """The subscriptions of public channels, how many others were left out, or why none could be read."""
    try:
        subscriptions = active_subscriptions(services.store)
    except SQLAlchemyError:
        logger.exception("Reading the subscriptions for the Home tab failed")
        return [], 0, NO_SUBSCRIPTIONS
    names = services.catalog.cached_platform_names()
    shown = [sub for sub in subscriptions if cache.is_public(client, sub.channel_id)]
    rows = [(sub.channel_id, sub.number, _describe(sub, names)) for sub in shown]
    return subscriptions_by_channel(rows), len(subscriptions) - len(shown), None


def _describe(subscription: Subscription, names: dict[str, str] | None) -> str:
    try:
        return subscription.ticket_query(names).describe(names)
    except QueryError:
        return subscription.query or "all tickets"
