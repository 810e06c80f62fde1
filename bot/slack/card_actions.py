"""The buttons on a ticket's card (Add comment, Mark solved, Refresh) and `/doit show`'s Add comment.

Every click is acked at once; what happened, or why nothing did, comes back privately to the
person who clicked. A changed ticket is redrawn in place on the card they clicked.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import ids
from bot.blocks.card_actions import action_reply, comment_echo, notice_modal
from bot.blocks.comment_modal import (
    COMMENT_MAX,
    CommentTarget,
    comment_from_state,
    comment_modal,
    comment_target,
)
from bot.blocks.create_modal import loading_modal
from bot.blocks.help import error_message
from bot.blocks.message import Message
from bot.blocks.text import channel_mention, escape, mention, slack_length
from bot.blocks.tickets import status_label, ticket_card
from bot.notify.cards import card_in
from bot.services import Services
from bot.slack import sentences
from bot.support.client import INTERACTIVE_BUDGET
from bot.support.errors import SupportError, SupportUnreachable, UnreadableAnswer
from bot.support.models import CLOSED_STATUSES, Ticket, ticket_id_from

logger = logging.getLogger(__name__)

COMMENT_TITLE = "Comment on ticket"
WRITE_BUDGET = 10.0
"""Seconds for adding a comment or marking solved: the click is acked already."""


@dataclass(frozen=True)
class Click:
    """Where a button was clicked, and by whom."""

    ticket_id: int
    user_id: str
    channel_id: str | None
    message_ts: str | None
    thread_ts: str | None
    ephemeral: bool
    trigger_id: str | None

    @classmethod
    def from_body(cls, body: dict[str, Any], action: dict[str, Any]) -> Click | None:
        """The click, or None when the button carries no ticket number (an old or foreign card)."""
        ticket_id = ticket_id_from(str(action.get("value") or ""))
        user_id = (body.get("user") or {}).get("id")
        if ticket_id is None or not user_id:
            return None
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel_id = container.get("channel_id") or (body.get("channel") or {}).get("id")
        message_ts = container.get("message_ts") or message.get("ts")
        return cls(
            ticket_id=ticket_id,
            user_id=user_id,
            channel_id=channel_id,
            message_ts=message_ts,
            thread_ts=message.get("thread_ts") or message_ts,
            ephemeral=bool(container.get("is_ephemeral")),
            trigger_id=body.get("trigger_id"),
        )


ClickHandler = Callable[[WebClient, Services, Click, Respond], None]


def register(app: App, services: Services) -> None:
    def on_click(action_id: str, handle: ClickHandler) -> None:
        @app.action(action_id)
        def handle_click(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
            ack()
            click = Click.from_body(body, action)
            if click is None:
                _tell(respond, error_message(_STALE))
                return
            handle(client, services, click, respond)

    on_click(ids.CARD_COMMENT, partial(open_comment_modal, from_card=True))
    on_click(ids.SHOW_ADD_COMMENT, partial(open_comment_modal, from_card=False))
    on_click(ids.CARD_SOLVE, mark_solved)
    on_click(ids.CARD_REFRESH, refresh)

    @app.view(ids.COMMENT_CALLBACK)
    def handle_comment_submission(ack: Ack, body: dict, client: WebClient) -> None:
        submit_comment(ack, body, client, services)


_STALE = "This button belongs to a card I can no longer read. Use `/doit show <number>` instead."
_NO_FORM = "Slack did not let me open the form in time. Click the button again."


# -- Add comment ------------------------------------------------------------------------------------


def open_comment_modal(
    client: WebClient, services: Services, click: Click, respond: Respond, *, from_card: bool
) -> None:
    """Open the comment modal within the trigger's 3 s, then fill it in once DoiT named the ticket."""
    try:
        opened = client.views_open(trigger_id=click.trigger_id or "", view=loading_modal(COMMENT_TITLE))
    except SlackApiError as exc:
        logger.warning("Opening the comment form failed: %s", exc.response.get("error"))
        _tell(respond, error_message(_NO_FORM))
        return
    view_id = opened["view"]["id"]
    try:
        ticket = services.support.get_ticket(click.ticket_id, budget=INTERACTIVE_BUDGET)
    except SupportError as exc:
        sentence = sentences.for_support_error(exc, ticket_id=click.ticket_id)
        _update_view(client, view_id, notice_modal(COMMENT_TITLE, escape(sentence), emoji=":warning:"))
        return
    if ticket.status.strip().lower() == "closed":
        _update_view(client, view_id, notice_modal(COMMENT_TITLE, _closed_sentence(ticket.id)))
        return
    channel_id, thread_ts = _echo_thread(services, click, from_card=from_card)
    view = comment_modal(ticket.id, ticket.subject, channel_id=channel_id, thread_ts=thread_ts)
    _update_view(client, view_id, view)


def _echo_thread(services: Services, click: Click, *, from_card: bool) -> tuple[str | None, str | None]:
    """Where the comment is echoed: the clicked card's thread, else the ticket's card in that channel."""
    if from_card and not click.ephemeral and click.channel_id and click.thread_ts:
        return click.channel_id, click.thread_ts
    if not click.channel_id:
        return None, None
    card = card_in(services.store, click.ticket_id, click.channel_id)
    return (card.channel_id, card.message_ts) if card else (None, None)


def submit_comment(ack: Ack, body: dict, client: WebClient, services: Services) -> None:
    """Check the comment, ack with "adding", add it through DoiT, then echo it and say so."""
    view = body["view"]
    user_id = body["user"]["id"]
    try:
        target = comment_target(view.get("private_metadata") or "")
    except ValueError:
        ack(response_action="update", view=notice_modal(COMMENT_TITLE, _STALE, emoji=":warning:"))
        return
    text = comment_from_state(view["state"]["values"]).strip()
    problem = comment_problem(text)
    if problem:
        ack(response_action="errors", errors={ids.COMMENT: problem})
        return
    adding = notice_modal(COMMENT_TITLE, _adding_sentence(target.ticket_id), emoji=":hourglass_flowing_sand:")
    key = _comment_key(view, text)
    if services.store.claim_submission(key, user_id) is not None:
        # The same submission again (a double click, a redelivery): the first one adds it.
        ack(response_action="update", view=adding)
        return
    ack(response_action="update", view=adding)

    try:
        services.support.add_comment(
            target.ticket_id, _attributed(client, services, user_id, text), budget=WRITE_BUDGET
        )
    except SupportError as exc:
        logger.warning("Adding a comment to ticket %s failed: %s", target.ticket_id, exc)
        # Sent but unanswered (or answered unreadably): it may be there, so never add it again.
        maybe_added = isinstance(exc, UnreadableAnswer) or (
            isinstance(exc, SupportUnreachable) and exc.maybe_applied
        )
        services.store.finish_submission(key, ticket_id=None, uncertain=maybe_added)
        retry = comment_modal(
            target.ticket_id,
            _subject_of(services, view, target.ticket_id),
            channel_id=target.channel,
            thread_ts=target.thread_ts,
            notice=_comment_failure(exc, target.ticket_id),
            initial_comment=text,
        )
        _update_view(client, view["id"], retry)
        return
    services.store.finish_submission(key, ticket_id=target.ticket_id)
    logger.info("Added a comment from %s to ticket %s", user_id, target.ticket_id)
    echoed = _echo(client, target, user_id, text)
    _update_view(
        client,
        view["id"],
        notice_modal(COMMENT_TITLE, _added_sentence(target, echoed), emoji=":white_check_mark:"),
    )


def _comment_key(view: dict, text: str) -> str:
    """One key per version of the comment form and its text, as for ticket submissions."""
    digest = hashlib.sha256(f"{view.get('hash') or ''}\n{text}".encode()).hexdigest()[:32]
    return f"comment:{view.get('id')}:{digest}"


def comment_problem(text: str) -> str | None:
    """What is wrong with a comment before it goes to DoiT, as a sentence for under the input."""
    if not text:
        return "Write your comment first."
    # Counted as every Slack limit is counted here (UTF-16 units: an emoji is 2), the same way the
    # form is refilled after a failure, so a comment accepted here always comes back whole.
    length = slack_length(text)
    if length > COMMENT_MAX:
        return (
            f"That is {length:,} characters; one comment can take {COMMENT_MAX:,}. Shorten it, or send "
            "the rest as a second comment."
        )
    return None


def _attributed(client: WebClient, services: Services, user_id: str, text: str) -> str:
    # Every comment reaches DoiT as the API key's owner; the signature says who actually wrote it.
    email = services.directory.email_of(client, user_id)
    return f"{text}\n\n— {email}, via Slack" if email else text


def _echo(client: WebClient, target: CommentTarget, user_id: str, text: str) -> bool:
    if not target.channel or not target.thread_ts:
        return False
    message = comment_echo(target.ticket_id, user_id, text)
    try:
        client.chat_postMessage(
            channel=target.channel, thread_ts=target.thread_ts, unfurl_links=False, **message.as_kwargs()
        )
    except SlackApiError as exc:
        logger.warning(
            "Echoing a comment on ticket %s in %s failed: %s",
            target.ticket_id,
            target.channel,
            exc.response.get("error"),
        )
        return False
    return True


def _subject_of(services: Services, view: dict, ticket_id: int) -> str:
    """The subject the modal showed (Slack sends the view's blocks back), else DoiT's."""
    opening = f"Ticket *#{ticket_id}*: "
    for block in view.get("blocks") or []:
        for element in block.get("elements") or [] if block.get("type") == "context" else []:
            shown = element.get("text") if isinstance(element, dict) else None
            if isinstance(shown, str) and shown.startswith(opening):
                return html.unescape(shown.removeprefix(opening))
    try:
        return services.support.get_ticket(ticket_id, budget=INTERACTIVE_BUDGET).subject
    except SupportError:
        return ""


def _comment_failure(error: SupportError, ticket_id: int) -> str:
    if isinstance(error, SupportUnreachable) and "may or may not" in error.message:
        return (
            f"DoiT did not answer in time, so I can't tell whether your comment reached ticket #{ticket_id}. "
            "Look at the ticket in DoiT before sending it again; your text is still here."
        )
    sentence = sentences.for_support_error(error, ticket_id=ticket_id)
    return f"{sentence} Your comment was not added; it is still here."


def _adding_sentence(ticket_id: int) -> str:
    return f"Adding your comment to ticket *#{ticket_id}*…"


def _added_sentence(target: CommentTarget, echoed: bool) -> str:
    sentence = f"Your comment is on DoiT ticket *#{target.ticket_id}*."
    if echoed and target.channel:
        sentence += f" I posted it in the ticket's thread in {channel_mention(target.channel)} too."
    return sentence


def _closed_sentence(ticket_id: int) -> str:
    return (
        f"Ticket *#{ticket_id}* is closed, so DoiT takes no more comments on it. "
        "File a follow-up with `/doit new` and mention the old ticket's number."
    )


# -- Mark solved and Refresh ------------------------------------------------------------------------


def mark_solved(client: WebClient, services: Services, click: Click, respond: Respond) -> None:
    """Solve the ticket when the clicker may, redraw the card, and say what happened."""
    try:
        ticket = services.support.get_ticket(click.ticket_id, budget=INTERACTIVE_BUDGET)
    except SupportError as exc:
        _tell(respond, error_message(sentences.for_support_error(exc, ticket_id=click.ticket_id)))
        return
    if ticket.status.strip().lower() in CLOSED_STATUSES:
        _redraw(client, services, click, respond, ticket)
        already = f"Ticket *#{ticket.id}* is already {status_label(ticket.status).lower()}."
        _tell(respond, action_reply(already, ok=False))
        return
    refusal = _solve_refusal(client, services, click.user_id, ticket)
    if refusal:
        _tell(respond, action_reply(refusal, ok=False))
        return
    try:
        status = services.support.mark_solved(ticket.id, budget=WRITE_BUDGET)
    except SupportError as exc:
        logger.warning("Marking ticket %s solved failed: %s", ticket.id, exc)
        _tell(respond, error_message(sentences.for_support_error(exc, ticket_id=ticket.id)))
        return
    logger.info("%s marked ticket %s solved", click.user_id, ticket.id)
    solved = _fetch_or(services, ticket.model_copy(update={"status": status}))
    _redraw(client, services, click, respond, solved)
    _tell(
        respond,
        action_reply(
            f"You marked ticket *#{ticket.id}* solved. DoiT closes it after a while; a comment before then "
            "reopens it."
        ),
    )


def _solve_refusal(client: WebClient, services: Services, user_id: str, ticket: Ticket) -> str | None:
    """Why ``user_id`` may not solve ``ticket``, or None when they may (requester or admin)."""
    if user_id in services.settings.admin_user_ids:
        return None
    email = services.directory.email_of(client, user_id)
    requester = (ticket.requester or "").strip().lower()
    if email and requester and email == requester:
        return None
    who = _requester_words(client, services, ticket)
    if not email:
        return (
            f"I can't see an email address on your Slack profile, so I can't tell whether you asked for "
            f"ticket *#{ticket.id}*. Only {who} or an admin of this bot can mark it solved."
        )
    return f"Only {who} or an admin of this bot can mark ticket *#{ticket.id}* solved."


def _requester_words(client: WebClient, services: Services, ticket: Ticket) -> str:
    member = services.directory.user_for_email(client, ticket.requester)
    if member:
        return f"its requester, {mention(member)},"
    return "its requester"


def refresh(client: WebClient, services: Services, click: Click, respond: Respond) -> None:
    """Fetch the ticket again and redraw the card with what DoiT says now."""
    try:
        ticket = services.support.get_ticket(click.ticket_id, budget=INTERACTIVE_BUDGET)
    except SupportError as exc:
        _tell(respond, error_message(sentences.for_support_error(exc, ticket_id=click.ticket_id)))
        return
    if _redraw(client, services, click, respond, ticket):
        _tell(respond, action_reply(f"Refreshed ticket *#{ticket.id}*: it is {status_label(ticket.status)}."))
    else:
        _tell(
            respond,
            error_message(
                f"I couldn't redraw this card; ticket #{ticket.id} is {status_label(ticket.status)}."
            ),
        )


def _fetch_or(services: Services, fallback: Ticket) -> Ticket:
    try:
        return services.support.get_ticket(fallback.id, budget=INTERACTIVE_BUDGET)
    except SupportError as exc:
        logger.info("Re-reading ticket %s after solving failed (%s); drawing what we know", fallback.id, exc)
        return fallback


def _redraw(client: WebClient, services: Services, click: Click, respond: Respond, ticket: Ticket) -> bool:
    """Draw ``ticket`` on the clicked card; False when Slack refused (logged)."""
    card = _card_message(client, services, click, ticket)
    if click.ephemeral:
        _tell(respond, card, replace=True)
        return True
    if not click.channel_id or not click.message_ts:
        return False
    try:
        client.chat_update(channel=click.channel_id, ts=click.message_ts, **card.as_kwargs())
    except SlackApiError as exc:
        logger.warning("Redrawing the card of ticket %s failed: %s", ticket.id, exc.response.get("error"))
        return False
    return True


def _card_message(client: WebClient, services: Services, click: Click, ticket: Ticket) -> Message:
    recorded = card_in(services.store, ticket.id, click.channel_id) if click.channel_id else None
    filed_by = recorded.filed_by if recorded and recorded.message_ts == click.message_ts else None
    return ticket_card(
        ticket,
        platform_names=services.catalog.cached_platform_names(),
        requester_user_id=services.directory.user_for_email(client, ticket.requester),
        filed_by_user_id=filed_by,
    )


# -- helpers ----------------------------------------------------------------------------------------


def _tell(respond: Respond, message: Message, *, replace: bool = False) -> None:
    """Answer the clicker privately through the click's response_url."""
    if respond.response_url is None:
        logger.warning("No response_url to answer with: %s", message.text[:200])
        return
    try:
        respond(response_type="ephemeral", replace_original=replace, **message.as_kwargs())
    except OSError:
        # The answer is a courtesy: failing to send it must not hide what already happened.
        logger.exception("Answering through the response_url failed")


def _update_view(client: WebClient, view_id: str, view: dict) -> None:
    try:
        client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        # The person closed the modal meanwhile; nothing is lost that the card does not show.
        logger.warning("views.update of %s failed: %s", view_id, exc.response.get("error"))
