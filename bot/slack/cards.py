"""Posting a ticket's card where it belongs, or privately when the bot may not post there."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.tickets import ticket_card
from bot.services import Services
from bot.slack import sentences
from bot.support.models import Ticket

logger = logging.getLogger(__name__)

CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


@dataclass(frozen=True)
class PostedCard:
    channel_id: str
    message_ts: str
    private: bool
    """True when the card went to the user's DM because the channel refused it."""
    note: str | None = None


def post_card(
    client: WebClient,
    services: Services,
    ticket: Ticket,
    *,
    channel_id: str | None,
    user_id: str,
    thread_ts: str | None = None,
) -> PostedCard | None:
    """Post ``ticket``'s card in ``channel_id``; on a refusal, DM it to ``user_id`` with the reason.

    Returns None only when Slack refused the private copy too (already logged).
    """
    names = services.catalog.cached_platform_names()
    requester_id = services.directory.user_for_email(client, ticket.requester)
    if channel_id:
        card = ticket_card(
            ticket, platform_names=names, requester_user_id=requester_id, filed_by_user_id=user_id
        )
        try:
            response = client.chat_postMessage(
                channel=channel_id, thread_ts=thread_ts, unfurl_links=False, **card.as_kwargs()
            )
            return PostedCard(channel_id=response["channel"], message_ts=response["ts"], private=False)
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error not in CANNOT_POST:
                logger.warning("Posting the card of ticket %s in %s failed: %s", ticket.id, channel_id, error)
            note = sentences.for_cannot_post(channel_id, error)
    else:
        note = "No channel was chosen for this ticket, so here is its card."
    return _post_privately(client, services, ticket, user_id=user_id, requester_id=requester_id, note=note)


def _post_privately(
    client: WebClient,
    services: Services,
    ticket: Ticket,
    *,
    user_id: str,
    requester_id: str | None,
    note: str,
) -> PostedCard | None:
    names = services.catalog.cached_platform_names()
    card = ticket_card(
        ticket, platform_names=names, requester_user_id=requester_id, filed_by_user_id=user_id, note=note
    )
    try:
        dm = client.conversations_open(users=user_id)["channel"]["id"]
        response = client.chat_postMessage(channel=dm, unfurl_links=False, **card.as_kwargs())
    except SlackApiError as exc:
        logger.error(
            "Could not DM the card of ticket %s to %s: %s", ticket.id, user_id, exc.response.get("error")
        )
        return None
    return PostedCard(channel_id=response["channel"], message_ts=response["ts"], private=True, note=note)
