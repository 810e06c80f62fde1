"""`/doit list [query]`: one page of tickets, with Next and Previous buttons.

A page is one DoiT call and one Slack call. The buttons carry a cursor: DoiT's page token plus
how many matching tickets of that API page were already shown (queries with local terms, such as
a platform or free words, match fewer tickets than DoiT returns, so one API page can fill several
of ours). Previous cursors ride along in the button value, oldest dropped first when it grows
beyond what a button may carry.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blocks import ids
from bot.blocks.help import error_message, query_error_message
from bot.blocks.message import Message
from bot.blocks.tickets import empty_ticket_list, ticket_list
from bot.services import Services
from bot.slack import sentences
from bot.slack.requests import CommandRequest
from bot.support.client import INTERACTIVE_BUDGET, PAGE_SIZE_MAX
from bot.support.errors import SupportError
from bot.support.query import ACCEPTED_SYNTAX, QueryError, TicketQuery, parse_query

logger = logging.getLogger(__name__)

PAGE_SIZE = 10
MAX_PAGE_SIZE = 40
"""Tickets one message may show: a header, a context line and navigation leave room for 40+."""
BUTTON_VALUE_MAX = 2000
PUBLIC_FLAG = re.compile(r"(?<!\S)in:channel(?!\S)", re.IGNORECASE)


@dataclass
class ListState:
    """Everything a Next/Previous click needs, small enough for a button value."""

    query: str
    token: str | None = None
    skip: int = 0
    page: int = 1
    history: list[tuple[str | None, int]] = field(default_factory=list)

    def encode(self) -> str:
        history = list(self.history)
        while True:
            value = json.dumps(
                {"q": self.query, "t": self.token, "s": self.skip, "p": self.page, "h": history},
                separators=(",", ":"),
                ensure_ascii=False,
            )
            if len(value) <= BUTTON_VALUE_MAX or not history:
                return value
            history.pop(0)  # the oldest pages become unreachable by Previous; the first stays by "p"

    @classmethod
    def decode(cls, value: str) -> ListState:
        data = json.loads(value)
        history = [(entry[0], int(entry[1])) for entry in data.get("h", [])]
        return cls(
            query=str(data["q"]),
            token=data.get("t"),
            skip=int(data.get("s", 0)),
            page=int(data.get("p", 1)),
            history=history,
        )


def list_command(req: CommandRequest) -> None:
    """Answer `/doit list`, privately unless the text says `in:channel`."""
    public = bool(PUBLIC_FLAG.search(req.text))
    text = PUBLIC_FLAG.sub(" ", req.text).strip()
    message = build_page(req.client, req.services, ListState(query=text), user_id=req.user_id)
    req.reply(message, public=public)


def build_page(client: WebClient, services: Services, state: ListState, *, user_id: str) -> Message:
    """The message for one page of a listing, or the sentence that explains why there is none."""
    names = services.catalog.cached_platform_names()
    try:
        query = parse_query(state.query, platforms=names)
    except QueryError as exc:
        return query_error_message(exc.problem, ACCEPTED_SYNTAX)
    email = None
    if query.needs_user_email:
        email = services.directory.email_of(client, user_id)
        if not email:
            return error_message(sentences.for_missing_email())
    page_size = min(query.limit or PAGE_SIZE, MAX_PAGE_SIZE)
    try:
        shown, next_state = _fetch(services, query, state, page_size=page_size, email=email)
    except SupportError as exc:
        return error_message(sentences.for_support_error(exc))
    description = query.describe(names)
    if not shown:
        return empty_ticket_list(description)
    previous_value = None
    if state.page > 1 and state.history:
        token, skip = state.history[-1]
        previous = ListState(state.query, token, skip, state.page - 1, state.history[:-1])
        previous_value = previous.encode()
    return ticket_list(
        shown,
        description=description,
        page=state.page,
        shown_from=(state.page - 1) * page_size + 1,
        next_value=next_state.encode() if next_state else None,
        previous_value=previous_value,
        platform_names=names,
    )


def _fetch(
    services: Services, query: TicketQuery, state: ListState, *, page_size: int, email: str | None
) -> tuple[list[Any], ListState | None]:
    local_terms = bool(query.local_terms())
    api_page = services.support.list_tickets(
        filter=query.api_filter,
        min_creation_ms=query.min_creation_ms,
        max_creation_ms=query.max_creation_ms,
        page_size=PAGE_SIZE_MAX if local_terms else page_size,
        page_token=state.token,
        budget=INTERACTIVE_BUDGET,
    )
    matching = [t for t in api_page.tickets if query.matches(t, user_email=email)]
    shown = matching[state.skip : state.skip + page_size]
    history = [*state.history, (state.token, state.skip)]
    if state.skip + page_size < len(matching):
        next_state = ListState(state.query, state.token, state.skip + page_size, state.page + 1, history)
    elif api_page.next_page_token:
        next_state = ListState(state.query, api_page.next_page_token, 0, state.page + 1, history)
    else:
        next_state = None
    return shown, next_state


def register(app: App, services: Services) -> None:
    @app.action(ids.LIST_NEXT)
    @app.action(ids.LIST_PREVIOUS)
    def handle_page_button(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        try:
            state = ListState.decode(action["value"])
        except (ValueError, KeyError, TypeError):
            respond(
                **error_message("That list is too old to page through; run the command again.").as_kwargs()
            )
            return
        message = build_page(client, services, state, user_id=body["user"]["id"])
        container = body.get("container") or {}
        # A private list is replaced in place; a list posted for everyone stays, and the clicker
        # gets the next page privately instead of changing it under everyone's eyes.
        respond(
            replace_original=bool(container.get("is_ephemeral")),
            response_type="ephemeral",
            **message.as_kwargs(),
        )
