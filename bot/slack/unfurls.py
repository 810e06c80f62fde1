"""Link unfurls: a DoiT ticket link pasted in Slack shows the ticket's subject, status and severity.

Links the bot understands (``https://`` only):

* ``console.doit.com/tickets/<id>``
* ``app.doit.com/customers/<customer>/support/tickets/<id>``, and the same path on console.doit.com

A ticket unfurled in a channel less than 30 minutes ago is skipped there, and a ticket the API
key cannot see (404, 403) or that DoiT cannot serve right now unfurls to nothing: Slack then
shows the link as it is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.tickets import unfurl_card
from bot.services import Services
from bot.slack.unfurl_log import claim_unfurl, release_unfurl
from bot.support.client import INTERACTIVE_BUDGET
from bot.support.errors import PermissionDenied, SupportError, TicketNotFound
from bot.support.models import Ticket

logger = logging.getLogger(__name__)

TICKET_HOSTS = frozenset({"console.doit.com", "app.doit.com"})
MAX_TICKETS_PER_MESSAGE = 5
"""Each ticket costs a DoiT call; a message pasting dozens of links gets the first few."""
COMPOSER = "composer"
"""``source`` of a link still in the message box: previewed each time, never logged."""
_TICKET_PATH = re.compile(r"/(?:customers/[^/]+/support/)?tickets/([0-9]{1,12})/?")


def ticket_id_in(url: str) -> int | None:
    """The ticket number a DoiT ticket link points at, or None for any other link."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or (parts.hostname or "").lower() not in TICKET_HOSTS:
        return None
    match = _TICKET_PATH.fullmatch(parts.path)
    return int(match.group(1)) if match else None


def register(app: App, services: Services) -> None:
    @app.event("link_shared")
    def handle_link_shared(event: dict, client: WebClient) -> None:
        unfurl_links(client, services, event)


def unfurl_links(client: WebClient, services: Services, event: dict) -> None:
    """Unfurl the event's DoiT ticket links that were not unfurled in the channel lately."""
    channel_id = str(event.get("channel") or "")
    composer = event.get("source") == COMPOSER
    by_ticket = _links_by_ticket(link.get("url", "") for link in event.get("links") or [])
    unfurls: dict[str, dict] = {}
    claims: list[tuple[int, float]] = []
    for ticket_id, urls in by_ticket.items():
        claimed_at = None
        if not composer:
            claimed_at = claim_unfurl(services.store, channel_id, ticket_id)
            if claimed_at is None:
                logger.info("Ticket %s was unfurled in %s lately; skipping it", ticket_id, channel_id)
                continue
        ticket = _visible_ticket(services, ticket_id)
        if ticket is None:
            if claimed_at is not None:
                release_unfurl(services.store, channel_id, ticket_id, claimed_at)
            continue
        if claimed_at is not None:
            claims.append((ticket_id, claimed_at))
        card = unfurl_card(ticket, services.catalog.cached_platform_names())
        unfurls.update({url: card for url in urls})
    if unfurls and not _send(client, event, unfurls):
        for ticket_id, claimed_at in claims:
            release_unfurl(services.store, channel_id, ticket_id, claimed_at)


def _links_by_ticket(urls: Iterable[str]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for url in urls:
        ticket_id = ticket_id_in(url)
        if ticket_id is None:
            continue
        if ticket_id not in found and len(found) == MAX_TICKETS_PER_MESSAGE:
            logger.info(
                "More than %d DoiT tickets in one message; unfurling the first", MAX_TICKETS_PER_MESSAGE
            )
            break
        found.setdefault(ticket_id, []).append(url)
    return found


def _visible_ticket(services: Services, ticket_id: int) -> Ticket | None:
    try:
        return services.support.get_ticket(ticket_id, budget=INTERACTIVE_BUDGET)
    except (TicketNotFound, PermissionDenied):
        # Not this key's ticket (or a typo): unfurling it would tell the channel nothing it may know.
        logger.info("Ticket %s is not visible to this key; leaving its link as it is", ticket_id)
    except SupportError as exc:
        logger.warning("Could not fetch ticket %s for an unfurl: %s", ticket_id, exc)
    return None


def _send(client: WebClient, event: dict, unfurls: dict[str, dict]) -> bool:
    if event.get("source") == COMPOSER and event.get("unfurl_id"):
        target = {"unfurl_id": event["unfurl_id"], "source": COMPOSER}
    else:
        target = {"channel": event.get("channel"), "ts": event.get("message_ts")}
    try:
        client.chat_unfurl(unfurls=unfurls, **target)
    except SlackApiError as exc:
        logger.warning("chat.unfurl in %s failed: %s", event.get("channel"), exc.response.get("error"))
        return False
    logger.info("Unfurled %d DoiT link(s) in %s", len(unfurls), event.get("channel"))
    return True
