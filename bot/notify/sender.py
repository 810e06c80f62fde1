"""The Slack side of a delivery: draw the message, make the one call, or find an earlier attempt.

Every message the watcher posts carries metadata naming its delivery key (``event_type``
``doit_delivery``). When an attempt may have reached Slack without being marked delivered (the
process died between Slack's answer and the database write), :meth:`Sender.find_posted` looks for
that key in the conversation before anything is posted again. Redrawing a card (``chat.update``)
is idempotent and needs no such care.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.message import Message
from bot.blocks.notifications import (
    ListedSubscription,
    changed_ticket_post,
    new_ticket_post,
    requester_dm,
    status_change_reply,
    subscriptions_paused_notice,
)
from bot.blocks.tickets import ticket_card
from bot.notify.cards import Card
from bot.notify.fanout import Kind
from bot.notify.outbox import Delivery
from bot.services import Services
from bot.support.models import Ticket

logger = logging.getLogger(__name__)

METADATA_EVENT_TYPE = "doit_delivery"
LOOKUP_PAGES = 5
"""History pages (of 200) searched for an earlier attempt; the search starts at the attempt's time."""
LOOKUP_SLACK_SECONDS = 60.0
"""How far before the attempt the search starts, for a Slack clock a little behind ours."""


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: a conversation (or a user id, for a DM) and maybe a thread."""

    conversation: str
    thread_ts: str | None = None
    card_ts: str | None = None
    """The card's ts, for a redraw."""


@dataclass(frozen=True)
class Sent:
    conversation: str
    message_ts: str | None


class Sender:
    """Draws and sends deliveries through one WebClient."""

    def __init__(self, slack: WebClient, services: Services) -> None:
        self.slack = slack
        self.services = services

    # -- drawing -------------------------------------------------------------------------------------

    def message_for(self, delivery: Delivery, card: Card | None) -> Message:
        """The message a delivery posts or the card it redraws."""
        payload = delivery.payload
        names = self.services.catalog.cached_platform_names()
        if delivery.kind is Kind.REPLY:
            return status_change_reply(
                delivery.ticket_id, payload["old"], payload["new"], _moment(payload["changed_at"])
            )
        if delivery.kind is Kind.PAUSE_NOTICE:
            listed = [ListedSubscription(**entry) for entry in payload["subscriptions"]]
            return subscriptions_paused_notice(payload["channel_id"], payload["reason"], listed)
        ticket = Ticket.model_validate(payload["ticket"])
        if delivery.kind is Kind.DM_REQUESTER:
            return requester_dm(ticket, payload["old"], _moment(payload["changed_at"]))
        requester = self.services.directory.user_for_email(self.slack, ticket.requester)
        if delivery.kind is Kind.UPDATE_CARD:
            filed_by = card.filed_by if card else None
            return ticket_card(
                ticket, platform_names=names, requester_user_id=requester, filed_by_user_id=filed_by
            )
        numbers = payload.get("subscriptions") or ()
        if delivery.kind is Kind.POST_CHANGE:
            return changed_ticket_post(
                ticket,
                payload["old"],
                platform_names=names,
                requester_user_id=requester,
                subscription_numbers=numbers,
            )
        return new_ticket_post(
            ticket, platform_names=names, requester_user_id=requester, subscription_numbers=numbers
        )

    # -- sending -------------------------------------------------------------------------------------

    def send(self, delivery: Delivery, target: Target, message: Message) -> Sent:
        """Make the delivery's one Slack call; raises ``SlackApiError`` or a connection error."""
        started = time.monotonic()
        if delivery.kind is Kind.UPDATE_CARD:
            assert target.card_ts is not None
            response = self.slack.chat_update(
                channel=target.conversation, ts=target.card_ts, **message.as_kwargs()
            )
        else:
            response = self.slack.chat_postMessage(
                channel=target.conversation,
                thread_ts=target.thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": delivery.event_key}},
                **message.as_kwargs(),
            )
        logger.info(
            "Slack %s for %s in %s took %.0f ms",
            "chat.update" if delivery.kind is Kind.UPDATE_CARD else "chat.postMessage",
            delivery.event_key,
            target.conversation,
            (time.monotonic() - started) * 1000,
        )
        return Sent(
            conversation=str(response.get("channel") or target.conversation), message_ts=response.get("ts")
        )

    # -- looking for an earlier attempt --------------------------------------------------------------

    def find_posted(self, delivery: Delivery, target: Target, since: float) -> Sent | None:
        """The message an earlier attempt of ``delivery`` posted, if Slack has it; raises on failure."""
        conversation = target.conversation
        if conversation.startswith(("U", "W")):
            # A DM was posted to the user id; its history lives under the DM's own id.
            conversation = self.slack.conversations_open(users=conversation)["channel"]["id"]
        oldest = f"{max(0.0, since - LOOKUP_SLACK_SECONDS):.6f}"
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            response = self._history_page(conversation, target.thread_ts, oldest, cursor)
            for message in response.get("messages") or []:
                if _delivery_key(message) == delivery.event_key:
                    logger.info("Found the earlier post of %s in %s", delivery.event_key, conversation)
                    return Sent(conversation=conversation, message_ts=message.get("ts"))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        logger.warning("Gave up looking for %s after %d pages", delivery.event_key, LOOKUP_PAGES)
        return None

    def _history_page(
        self, conversation: str, thread_ts: str | None, oldest: str, cursor: str | None
    ) -> Mapping[str, Any]:
        arguments: dict[str, Any] = {
            "channel": conversation,
            "oldest": oldest,
            "limit": 200,
            "include_all_metadata": True,
        }
        if cursor:
            arguments["cursor"] = cursor
        if thread_ts:
            return self.slack.conversations_replies(ts=thread_ts, **arguments).data  # type: ignore[return-value]
        return self.slack.conversations_history(**arguments).data  # type: ignore[return-value]


def slack_error(exc: SlackApiError) -> str:
    """The error code of a Slack refusal, such as ``not_in_channel``."""
    response = exc.response
    error = response.get("error") if response is not None else None
    return str(error or "unknown_error")


def _delivery_key(message: Mapping[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT_TYPE:
        return None
    payload = metadata.get("event_payload") or {}
    key = payload.get("key")
    return str(key) if key is not None else None


def _moment(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(float(epoch_seconds), tz=UTC)
