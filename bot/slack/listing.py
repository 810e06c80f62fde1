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
from bot.support.models import Ticket
from bot.support.query import ACCEPTED_SYNTAX, QueryError, TicketQuery, parse_query

logger = logging.getLogger(__name__)

PAGE_SIZE = 10
MAX_PAGE_SIZE = 40
"""The most tickets one page asks for; the builder may show fewer to fit Slack's payload limit,
and Next then continues right after the last one shown."""
BUTTON_VALUE_MAX = 2000
PUBLIC_FLAG = re.compile(r"(?<!\S)in:channel(?!\S)", re.IGNORECASE)


@dataclass
class ListState:
    """Everything a Next/Previous click needs, small enough for a button value.

    ``token`` and ``skip`` locate the page's first ticket (DoiT's page token, then how many
    matching tickets of that API page were shown before); ``shown`` counts the tickets on
    earlier pages, for "Showing 21–40" and for ``limit:``.
    """

    query: str
    token: str | None = None
    skip: int = 0
    page: int = 1
    shown: int = 0
    history: list[tuple[str | None, int, int]] = field(default_factory=list)

    def encode(self) -> str:
        history = list(self.history)
        while True:
            value = json.dumps(
                {
                    "q": self.query,
                    "t": self.token,
                    "s": self.skip,
                    "p": self.page,
                    "n": self.shown,
                    "h": history,
                },
                separators=(",", ":"),
                ensure_ascii=False,
            )
            if len(value) <= BUTTON_VALUE_MAX or not history:
                return value
            history.pop(0)  # the oldest pages become unreachable by Previous

    @classmethod
    def decode(cls, value: str) -> ListState:
        """Read a button value; raises ValueError for anything this module did not write."""
        try:
            data = json.loads(value)
            history = [(_token(entry[0]), _count(entry[1]), _count(entry[2])) for entry in data.get("h", [])]
            return cls(
                query=_text(data["q"]),
                token=_token(data.get("t")),
                skip=_count(data.get("s", 0)),
                page=max(1, _count(data.get("p", 1))),
                shown=_count(data.get("n", 0)),
                history=history,
            )
        except (LookupError, TypeError, AttributeError, ArithmeticError) as exc:
            raise ValueError("not a list page value") from exc

    def previous(self) -> ListState | None:
        if not self.history:
            return None
        token, skip, shown = self.history[-1]
        return ListState(self.query, token, skip, max(1, self.page - 1), shown, self.history[:-1])


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _token(value: Any) -> str | None:
    return None if value is None else _text(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise TypeError("expected a small whole number")
    return value


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
    # limit:N caps the whole listing; pages of it are as big as a message allows.
    wanted = PAGE_SIZE if query.limit is None else min(query.limit - state.shown, MAX_PAGE_SIZE)
    if wanted <= 0:
        return empty_ticket_list(query.describe(names))
    try:
        page = _fetch(services, query, state, wanted=wanted, email=email)
    except SupportError as exc:
        return error_message(sentences.for_support_error(exc))
    description = query.describe(names)
    if not page.tickets:
        return empty_ticket_list(description)
    previous = state.previous()

    def next_value(count: int) -> str | None:
        following = page.after(count)
        if following is None or (query.limit is not None and following.shown >= query.limit):
            return None
        return following.encode()

    return ticket_list(
        page.tickets,
        description=description,
        page=state.page,
        shown_from=state.shown + 1,
        next_value=next_value,
        previous_value=previous.encode() if previous else None,
        platform_names=names,
    )


@dataclass(frozen=True)
class _Page:
    """The tickets of one listing page, and how to continue after any number of them."""

    state: ListState
    tickets: list[Ticket]
    matching_on_api_page: int
    next_token: str | None

    def after(self, count: int) -> ListState | None:
        """Where the next page starts when the message showed the first ``count`` tickets."""
        state = self.state
        history = [*state.history, (state.token, state.skip, state.shown)]
        if state.skip + count < self.matching_on_api_page:
            return ListState(
                state.query, state.token, state.skip + count, state.page + 1, state.shown + count, history
            )
        if self.next_token:
            return ListState(state.query, self.next_token, 0, state.page + 1, state.shown + count, history)
        return None


def _fetch(
    services: Services, query: TicketQuery, state: ListState, *, wanted: int, email: str | None
) -> _Page:
    api_page = services.support.list_tickets(
        filter=query.api_filter,
        min_creation_ms=query.min_creation_ms,
        max_creation_ms=query.max_creation_ms,
        # Local terms drop tickets after DoiT answered, so ask for a full page to have enough;
        # otherwise just enough for the tickets skipped on this API page plus this page's.
        page_size=PAGE_SIZE_MAX if query.local_terms() else min(PAGE_SIZE_MAX, state.skip + wanted),
        page_token=state.token,
        budget=INTERACTIVE_BUDGET,
    )
    matching = [t for t in api_page.tickets if query.matches(t, user_email=email)]
    shown = matching[state.skip : state.skip + wanted]
    return _Page(state, shown, len(matching), api_page.next_page_token)


def register(app: App, services: Services) -> None:
    @app.action(ids.LIST_NEXT)
    @app.action(ids.LIST_PREVIOUS)
    def handle_page_button(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        try:
            state = ListState.decode(str(action.get("value") or ""))
        except ValueError:
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
