"""`/doit show <id>`: one ticket with its description, status and latest comments."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.blocks.help import error_message
from bot.blocks.message import Message
from bot.blocks.tickets import ticket_detail
from bot.services import Services
from bot.slack import sentences
from bot.slack.requests import CommandRequest
from bot.support.client import INTERACTIVE_BUDGET
from bot.support.errors import SupportError
from bot.support.models import ticket_id_from

logger = logging.getLogger(__name__)


def parse_ticket_id(text: str) -> int | None:
    """`123`, `#123` or a pasted ticket link's last number; None when there is none."""
    word = text.strip().split("/")[-1].lstrip("#") if text.strip() else ""
    return ticket_id_from(word)


def show_command(req: CommandRequest) -> None:
    ticket_id = parse_ticket_id(req.text)
    if ticket_id is None:
        req.reply(error_message("Which ticket? Use `/doit show 12345` with the ticket's number."))
        return
    req.reply(ticket_message(req.client, req.services, ticket_id))


def ticket_message(client: WebClient, services: Services, ticket_id: int) -> Message:
    """The detail card for ``ticket_id``, or the sentence that says why it can't be shown."""
    try:
        ticket = services.support.get_ticket(ticket_id, budget=INTERACTIVE_BUDGET)
        comments = services.support.list_comments(ticket_id, budget=INTERACTIVE_BUDGET)
    except SupportError as exc:
        return error_message(sentences.for_support_error(exc, ticket_id=ticket_id))
    requester_id = services.directory.user_for_email(client, ticket.requester)
    return ticket_detail(
        ticket,
        comments,
        platform_names=services.catalog.cached_platform_names(),
        requester_user_id=requester_id,
    )
