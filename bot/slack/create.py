"""Filing a ticket: `/doit new`, the create modal, its product options and its submission.

The modal is the user's draft. Whatever goes wrong after they press "File ticket", the same form
comes back with everything they typed and a sentence saying what happened, so nothing is lost;
and one submission files at most one ticket, however often Slack delivers it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import ids
from bot.blocks.create_modal import (
    TicketDraft,
    create_modal,
    draft_from_state,
    filed_modal,
    filing_modal,
    loading_modal,
    product_options,
    validate_draft,
)
from bot.blocks.help import error_message
from bot.config import RequesterMode
from bot.notify.cards import record_card
from bot.services import Services
from bot.slack import sentences
from bot.slack.cards import post_card
from bot.slack.requests import CommandRequest
from bot.support.client import INTERACTIVE_BUDGET
from bot.support.errors import SupportError, SupportUnreachable, UnreadableAnswer
from bot.support.models import NewTicket, Platform, Ticket

logger = logging.getLogger(__name__)

CREATE_BUDGET = 10.0
"""Seconds for the create call: the modal already says "filing", so there is no 3 s limit here."""
OPTIONS_BUDGET = 1.5
"""Options must be in the ack itself, within Slack's 3 s."""


def open_create_modal(
    client: WebClient,
    services: Services,
    *,
    trigger_id: str,
    user_id: str,
    draft: TicketDraft,
    origin_channel: str | None = None,
    thread_ts: str | None = None,
    complete: Callable[[TicketDraft], TicketDraft] | None = None,
) -> None:
    """Open the create modal within the trigger's 3 s, fetching what it needs only after that.

    ``origin_channel`` and ``thread_ts`` say where the card goes after a success when it comes from
    a message shortcut (the message's thread). ``complete`` finishes the draft with slow work
    (a Slack call, say) once the loading view is up, so it never costs the trigger's time.
    """
    metadata = _metadata(origin_channel=origin_channel, thread_ts=thread_ts)
    ask_requester = services.settings.doit_requester is RequesterMode.SLACK_USER
    platforms = services.catalog.fresh_platforms()
    email_known, email = services.directory.known_email_of(user_id)
    if (
        complete is None
        and platforms is not None
        and (email_known or not ask_requester or draft.requester_email)
    ):
        # Everything is cached: one Slack call, the form itself.
        if ask_requester and not draft.requester_email:
            draft = replace(draft, requester_email=email)
        client.views_open(trigger_id=trigger_id, view=_form(draft, platforms, ask_requester, metadata))
        return
    # The trigger dies after 3 s: open a loading view first, then fetch and fill it in.
    view_id = client.views_open(trigger_id=trigger_id, view=loading_modal())["view"]["id"]
    if complete is not None:
        draft = complete(draft)
    if ask_requester and not draft.requester_email:
        draft = replace(draft, requester_email=services.directory.email_of(client, user_id))
    client.views_update(
        view_id=view_id, view=_form(draft, services.catalog.platforms(), ask_requester, metadata)
    )


def _form(draft: TicketDraft, platforms: list[Platform], ask_requester: bool, metadata: str) -> dict:
    notice = None
    if ask_requester and not draft.requester_email:
        notice = "Your Slack profile shows no email address: type the one DoiT should write to."
    return create_modal(
        draft, platforms=platforms, ask_requester=ask_requester, notice=notice, private_metadata=metadata
    )


def new_command(req: CommandRequest) -> None:
    """`/doit new [subject]`."""
    settings = req.services.settings
    channel = req.channel_id
    if not channel or channel.startswith("D"):
        channel = settings.doit_notify_channel
    draft = TicketDraft(subject=req.text.strip(), notify_channel=channel)
    if not req.trigger_id:
        req.reply(error_message("Slack sent no trigger for a form. Try the command again."))
        return
    open_create_modal(req.client, req.services, trigger_id=req.trigger_id, user_id=req.user_id, draft=draft)


def register(app: App, services: Services) -> None:
    @app.view(ids.CREATE_CALLBACK)
    def handle_create_submission(ack: Ack, body: dict, client: WebClient) -> None:
        submit_create(ack, body, client, services)

    @app.options(ids.PRODUCT_INPUT)
    def handle_product_options(ack: Ack, body: dict) -> None:
        ack(options=_product_options(body, services))

    @app.action(ids.PLATFORM_CHANGED)
    def handle_platform_changed(ack: Ack) -> None:
        # The pick only matters to the product options, which read it from the view's state.
        ack()


@dataclass(frozen=True)
class _Outcome:
    ticket: Ticket | None
    problem: str = ""
    uncertain: bool = False
    """The create may have reached DoiT: the same submission must never be filed again."""


def submit_create(ack: Ack, body: dict, client: WebClient, services: Services) -> None:
    """Validate, claim, ack with "filing", create, then show the result in the same modal."""
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    user_id = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else None
    if not user_id or not isinstance(view.get("id"), str):
        # Not what Slack sends; answer rather than crash, and file nothing.
        ack(
            response_action="errors",
            errors={ids.SUBJECT: "Slack sent this form incomplete. Submit it again."},
        )
        return
    settings = services.settings
    ask_requester = settings.doit_requester is RequesterMode.SLACK_USER
    state = view.get("state") if isinstance(view.get("state"), dict) else {}
    draft = draft_from_state(state.get("values") or {}, fallback=None)
    errors = validate_draft(draft, ask_requester=ask_requester)
    if errors:
        ack(response_action="errors", errors=errors)
        return

    key = _submission_key(view["id"], view.get("hash") or "", draft)
    earlier = services.store.claim_submission(key, user_id)
    if earlier is not None:
        # A double click or a redelivery: this submission is already being (or was) filed.
        logger.info("Submission %s delivered again (state %s); not filing twice", key, earlier["state"])
        ack(response_action="update", view=_view_after(earlier, draft, services, view))
        return
    recent = services.store.recent_submissions(user_id, window=settings.doit_create_window)
    if recent > settings.doit_create_limit:
        services.store.finish_submission(key, ticket_id=None)
        ack(
            response_action="errors",
            errors={ids.SUBJECT: sentences.for_slow_down(recent - 1, settings.doit_create_window)},
        )
        return
    ack(response_action="update", view=filing_modal(draft))

    try:
        outcome = _create(services, draft, ask_requester=ask_requester)
    except Exception:
        # Whatever broke, the person must not be left looking at "Filing…", and since the
        # request may have reached DoiT, this submission must not be filed again.
        reference = uuid.uuid4().hex[:8]
        logger.exception("Filing a ticket failed (reference %s)", reference)
        outcome = _Outcome(None, sentences.for_unexpected_create(reference), uncertain=True)
    ticket_id = outcome.ticket.id if outcome.ticket else None
    services.store.finish_submission(key, ticket_id=ticket_id, uncertain=outcome.uncertain)
    if outcome.ticket is None:
        _update_view(client, view["id"], _retry_form(services, draft, view, outcome.problem))
        return
    _post_and_show(client, services, outcome.ticket, draft=draft, view=view, user_id=user_id)


def _view_after(earlier: Mapping[str, Any], draft: TicketDraft, services: Services, view: dict) -> dict:
    """What a repeated delivery of a submission shows, by how the first one went."""
    if earlier["state"] == "filed" and earlier["ticket_id"] is not None:
        ticket = Ticket(id=int(earlier["ticket_id"]), subject=draft.subject, status="new")
        return filed_modal(
            ticket, channel_id=None, note="This form was already sent, and the ticket is filed."
        )
    if earlier["state"] == "uncertain":
        return _retry_form(services, draft, view, sentences.for_uncertain_create())
    return filing_modal(draft)


def _retry_form(services: Services, draft: TicketDraft, view: dict, problem: str) -> dict:
    return create_modal(
        draft,
        platforms=services.catalog.platforms(),
        ask_requester=services.settings.doit_requester is RequesterMode.SLACK_USER,
        notice=problem,
        private_metadata=view.get("private_metadata") or "",
    )


def _post_and_show(
    client: WebClient, services: Services, ticket: Ticket, *, draft: TicketDraft, view: dict, user_id: str
) -> None:
    """Post the new ticket's card, remember it for the watcher, and show the result in the modal."""
    metadata = _read_metadata(view.get("private_metadata"))
    channel = draft.notify_channel or metadata.get("origin_channel") or services.settings.doit_notify_channel
    # A ticket filed from a message goes into that message's thread, unless the user picked
    # another channel in the form.
    thread_ts = metadata.get("thread_ts") if channel == metadata.get("origin_channel") else None
    posted = post_card(client, services, ticket, channel_id=channel, user_id=user_id, thread_ts=thread_ts)
    if posted is None:
        note = f"I couldn't post its card anywhere; find it with `/doit show {ticket.id}`."
        _update_view(client, view["id"], filed_modal(ticket, channel_id=None, note=note))
        return
    record_card(
        services.store,
        ticket.id,
        posted.channel_id,
        posted.message_ts,
        ticket.status or "new",
        filed_by=user_id,
    )
    shown_channel = None if posted.private else posted.channel_id
    _update_view(client, view["id"], filed_modal(ticket, channel_id=shown_channel, note=posted.note))


def _create(services: Services, draft: TicketDraft, *, ask_requester: bool) -> _Outcome:
    new_ticket = NewTicket(
        subject=draft.subject.strip(),
        body=draft.description.strip(),
        severity=draft.severity,
        platform=draft.platform or "",
        product=draft.product or "",
        requester=draft.requester_email if ask_requester else None,
    )
    try:
        ticket = services.support.create_ticket(
            new_ticket, budget=CREATE_BUDGET, retry_window=INTERACTIVE_BUDGET
        )
    except SupportUnreachable as exc:
        logger.warning("Creating a ticket failed: %s", exc)
        if exc.maybe_applied:
            return _Outcome(None, sentences.for_uncertain_create(), uncertain=True)
        return _Outcome(None, _keep_text(sentences.for_support_error(exc)))
    except UnreadableAnswer as exc:
        # DoiT said yes but sent something unreadable: the ticket most likely exists.
        logger.warning("DoiT accepted a new ticket but its answer is unreadable: %s", exc)
        return _Outcome(None, sentences.for_uncertain_create(), uncertain=True)
    except SupportError as exc:
        logger.warning("DoiT refused a new ticket: %s", exc)
        return _Outcome(None, _keep_text(sentences.for_support_error(exc)))
    logger.info("Filed DoiT ticket %s", ticket.id)
    return _Outcome(ticket)


def _keep_text(sentence: str) -> str:
    return f"{sentence} Your ticket was not filed; everything you typed is still here."


def _product_options(body: dict, services: Services) -> list[dict]:
    view = body.get("view")
    platform = _chosen_platform(view) if isinstance(view, dict) else None
    if not platform:
        return []
    try:
        products = services.catalog.products(platform, budget=OPTIONS_BUDGET)
    except SupportError as exc:
        logger.warning("Listing products of %s failed: %s", platform, exc)
        return []
    typed = body.get("value")
    return product_options(products, typed if isinstance(typed, str) else "")


def _chosen_platform(view: dict) -> str | None:
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    platform = draft_from_state(values if isinstance(values, dict) else {}).platform
    return platform


def _submission_key(view_id: str, view_hash: str, draft: TicketDraft) -> str:
    """Same view, same version of it and same values: the same submission, however often sent.

    Slack changes a view's hash on every update, so pressing "Try again" on the form shown after
    a failure is a new submission, while a double click or a redelivery is not.
    """
    digest = hashlib.sha256(f"{view_hash}\n{draft.to_json()}".encode()).hexdigest()[:32]
    return f"{view_id}:{digest}"


def _metadata(**values: str | None) -> str:
    return json.dumps({k: v for k, v in values.items() if v}, separators=(",", ":"))


def _read_metadata(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _update_view(client: WebClient, view_id: str, view: dict) -> None:
    try:
        client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        # The user closed the modal meanwhile: the card (or its absence) still tells the story.
        logger.warning("views.update of %s failed: %s", view_id, exc.response.get("error"))
