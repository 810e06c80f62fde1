"""The create-ticket modal: the form, reading it back, checking it, and the views around filing.

Flow: open :func:`loading_modal` within the trigger's 3 seconds, then ``views.update`` to
:func:`create_modal`; on submit read :func:`draft_from_state`, answer :func:`validate_draft`'s
errors in the ack, else show :func:`filing_modal` and then :func:`filed_modal`.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.limits import OPTION_DESCRIPTION, OPTION_TEXT, OPTION_VALUE, OPTIONS, SECTION_TEXT, VIEW_TITLE
from bot.blocks.text import channel_mention, link, mrkdwn, plain, truncate
from bot.blocks.tickets import SEVERITY_NAMES, status_with_emoji
from bot.support.models import SEVERITIES, SEVERITY_MEANINGS, Platform, Product, Ticket
from bot.support.platforms import KNOWN_PLATFORMS

logger = logging.getLogger(__name__)

SUBJECT_MAX = 150
"""DoiT documents no subject cap; 150 keeps a subject whole in a Slack header (150) and a card."""
DESCRIPTION_MAX = 3000
"""The most a ``plain_text_input`` may take (its ``max_length`` limit)."""
EMAIL_MAX = 254
"""The longest address SMTP can deliver to (RFC 5321)."""
TITLE = "New DoiT ticket"

# Deliberately simple: catches typos and pasted names, lets DoiT judge the rest.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


@dataclass(frozen=True)
class TicketDraft:
    """What the user has typed so far; every field may be empty."""

    subject: str = ""
    description: str = ""
    severity: str = "normal"
    platform: str | None = None
    product: str | None = None
    product_label: str | None = None
    requester_email: str | None = None
    notify_channel: str | None = None

    def to_json(self) -> str:
        """Compact JSON: fields at their default are left out."""
        defaults = TicketDraft()
        changed = {key: value for key, value in asdict(self).items() if value != getattr(defaults, key)}
        return json.dumps(changed, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> TicketDraft:
        """Read :meth:`to_json` output; unknown keys and values of the wrong type are ignored.

        Raises:
            ValueError: ``text`` is not a JSON object.
        """
        if not text.strip():
            return cls()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError("A ticket draft must be a JSON object") from exc
        if not isinstance(data, dict):
            raise ValueError("A ticket draft must be a JSON object")
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known and isinstance(value, str)})


def loading_modal(title: str = TITLE) -> dict:
    """A placeholder modal to open while the trigger id is fresh; no submit button."""
    view = View(
        type="modal",
        callback_id=ids.LOADING_CALLBACK,
        title=plain(title, VIEW_TITLE, placeholder=TITLE),
        close="Cancel",
        blocks=[SectionBlock(text=":hourglass_flowing_sand: Loading…")],
    )
    return view.to_dict()


def _option(value: str, text: str, description: str | None = None) -> Option:
    shown = plain(text, OPTION_TEXT, placeholder=value)
    if description:
        return Option(value=value, text=shown, description=truncate(description, OPTION_DESCRIPTION))
    return Option(value=value, text=shown)


def _severity_options() -> list[Option]:
    return [
        _option(severity, SEVERITY_NAMES[severity], SEVERITY_MEANINGS.get(severity))
        for severity in reversed(SEVERITIES)
    ]


def _platform_options(platforms: Sequence[Platform]) -> list[Option]:
    catalog: Mapping[str, str] = {p.id: p.display_name for p in platforms} or KNOWN_PLATFORMS
    options = []
    for platform_id, name in catalog.items():
        if len(platform_id) > OPTION_VALUE:
            logger.warning(
                "Platform id of %d characters cannot be an option value; left out", len(platform_id)
            )
            continue
        options.append(_option(platform_id, name))
    if len(options) > OPTIONS:
        logger.warning("%d platforms; the form shows the first %d", len(options), OPTIONS)
    return options[:OPTIONS]


def _initial(options: list[Option], value: str | None) -> Option | None:
    return next((option for option in options if value and option.value == value), None)


def _text_input(action_id: str, value: str, max_length: int, **extra: Any) -> PlainTextInputElement:
    # Slack rejects an empty initial_value, so a blank draft field sends none.
    initial = truncate(value, max_length) if value.strip() else None
    return PlainTextInputElement(action_id=action_id, initial_value=initial, max_length=max_length, **extra)


def _subject_block(draft: TicketDraft) -> InputBlock:
    element = _text_input(
        ids.SUBJECT_INPUT, draft.subject, SUBJECT_MAX, placeholder="What is wrong, in one line"
    )
    return InputBlock(block_id=ids.SUBJECT, label="Subject", element=element)


def _description_block(draft: TicketDraft) -> InputBlock:
    element = _text_input(
        ids.DESCRIPTION_INPUT,
        draft.description,
        DESCRIPTION_MAX,
        multiline=True,
        placeholder="What happened, what you expected, and what you have tried",
    )
    return InputBlock(block_id=ids.DESCRIPTION, label="Description", element=element)


def _severity_block(draft: TicketDraft) -> InputBlock:
    options = _severity_options()
    element = StaticSelectElement(
        action_id=ids.SEVERITY_INPUT,
        placeholder="How bad is it?",
        options=options,
        initial_option=_initial(options, draft.severity),
    )
    return InputBlock(block_id=ids.SEVERITY, label="Severity", element=element)


def _platform_block(draft: TicketDraft, platforms: Sequence[Platform]) -> InputBlock:
    options = _platform_options(platforms)
    element = StaticSelectElement(
        action_id=ids.PLATFORM_CHANGED,
        placeholder="Pick a platform",
        options=options,
        initial_option=_initial(options, draft.platform),
    )
    return InputBlock(block_id=ids.PLATFORM, label="Platform", element=element, dispatch_action=True)


def _product_block(draft: TicketDraft) -> InputBlock:
    initial = None
    if draft.product and len(draft.product) <= OPTION_VALUE:
        initial = _option(draft.product, draft.product_label or draft.product)
    element = ExternalDataSelectElement(
        action_id=ids.PRODUCT_INPUT, placeholder="Search products", min_query_length=0, initial_option=initial
    )
    return InputBlock(
        block_id=ids.PRODUCT, label="Product", element=element, hint="The list follows the platform you pick."
    )


def _requester_block(draft: TicketDraft) -> InputBlock:
    element = _text_input(
        ids.REQUESTER_INPUT, draft.requester_email or "", EMAIL_MAX, placeholder="name@example.com"
    )
    return InputBlock(
        block_id=ids.REQUESTER,
        label="Requester email",
        element=element,
        hint="The DoiT user this ticket is filed for; DoiT writes to them.",
    )


def _channel_block(draft: TicketDraft) -> InputBlock:
    element = ConversationSelectElement(
        action_id=ids.CHANNEL_INPUT,
        placeholder="Pick a channel",
        initial_conversation=draft.notify_channel or None,
        default_to_current_conversation=False,
        response_url_enabled=True,
        filter=ConversationFilter(exclude_bot_users=True),
    )
    return InputBlock(
        block_id=ids.CHANNEL,
        label="Post the ticket card in",
        element=element,
        optional=True,
        hint="Everyone there sees the ticket and its updates.",
    )


def _notice_block(notice: str) -> SectionBlock:
    return SectionBlock(block_id=ids.NOTICE, text=f":warning: {mrkdwn(notice.strip(), SECTION_TEXT - 20)}")


def create_modal(
    draft: TicketDraft,
    *,
    platforms: Sequence[Platform],
    ask_requester: bool,
    notice: str | None = None,
    private_metadata: str = "",
) -> dict:
    """The create form, filled in from ``draft``; ``notice`` (after a failed submit) shows on top.

    Long draft text is cut to the inputs' limits rather than refused. With no ``platforms`` the
    built-in platform table is offered.
    """
    has_notice = bool(notice and notice.strip())
    blocks: list[Any] = [_notice_block(notice or "")] if has_notice else []
    blocks += [
        _subject_block(draft),
        _description_block(draft),
        _severity_block(draft),
        _platform_block(draft, platforms),
        _product_block(draft),
    ]
    if ask_requester:
        blocks.append(_requester_block(draft))
    blocks.append(_channel_block(draft))
    view = View(
        type="modal",
        callback_id=ids.CREATE_CALLBACK,
        title=TITLE,
        submit="Try again" if has_notice else "File ticket",
        close="Cancel",
        blocks=blocks,
        private_metadata=private_metadata or None,
    )
    return view.to_dict()


def _state_element(values: Mapping[str, Any], block_id: str, action_id: str) -> dict | None:
    """The state of one input: None when the block is absent, {} when it holds nothing usable."""
    block = values.get(block_id)
    if not isinstance(block, dict):
        return None
    element = block.get(action_id)
    if element is None and len(block) == 1:
        # Tolerate a renamed action id: an input block holds exactly one element.
        element = next(iter(block.values()))
    return element if isinstance(element, dict) else {}


def _selected(element: dict) -> tuple[str | None, str | None]:
    option = element.get("selected_option")
    if not isinstance(option, dict):
        return None, None
    text = option.get("text")
    label = text.get("text") if isinstance(text, dict) else None
    return _text_or_none(option.get("value")), _text_or_none(label)


def _text_or_none(value: Any) -> str | None:
    # State comes from the network: anything but a non-empty string counts as nothing chosen.
    return value if isinstance(value, str) and value else None


def _typed(element: dict, key: str = "value") -> str:
    value = element.get(key)
    return value if isinstance(value, str) else ""


def draft_from_state(values: Mapping[str, Any], *, fallback: TicketDraft | None = None) -> TicketDraft:
    """Read ``view["state"]["values"]``; a block missing from it keeps ``fallback``'s value."""
    draft = fallback or TicketDraft()
    values = values if isinstance(values, Mapping) else {}
    changes: dict[str, Any] = {}
    if (element := _state_element(values, ids.SUBJECT, ids.SUBJECT_INPUT)) is not None:
        changes["subject"] = _typed(element)
    if (element := _state_element(values, ids.DESCRIPTION, ids.DESCRIPTION_INPUT)) is not None:
        changes["description"] = _typed(element)
    if (element := _state_element(values, ids.SEVERITY, ids.SEVERITY_INPUT)) is not None:
        changes["severity"] = _selected(element)[0] or ""
    if (element := _state_element(values, ids.PLATFORM, ids.PLATFORM_INPUT)) is not None:
        changes["platform"] = _selected(element)[0]
    if (element := _state_element(values, ids.PRODUCT, ids.PRODUCT_INPUT)) is not None:
        changes["product"], changes["product_label"] = _selected(element)
    if (element := _state_element(values, ids.REQUESTER, ids.REQUESTER_INPUT)) is not None:
        changes["requester_email"] = _typed(element).strip() or None
    if (element := _state_element(values, ids.CHANNEL, ids.CHANNEL_INPUT)) is not None:
        changes["notify_channel"] = _typed(element, "selected_conversation") or None
    return TicketDraft(**{**asdict(draft), **changes})


def is_valid_email(address: str) -> bool:
    """A sane check of an email address: something@host.tld, no spaces, at most 254 characters."""
    return len(address) <= EMAIL_MAX and _EMAIL.fullmatch(address) is not None


def has_visible_text(text: str) -> bool:
    """Whether ``text`` holds anything a person can see: not only spaces and invisible characters."""
    return any(not (ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs")) for ch in text)


def validate_draft(draft: TicketDraft, *, ask_requester: bool) -> dict[str, str]:
    """Errors to show under the inputs, keyed by block id; empty when the draft can be filed."""
    errors: dict[str, str] = {}
    if not has_visible_text(draft.subject):
        errors[ids.SUBJECT] = "Write a subject: one line that says what is wrong."
    if not has_visible_text(draft.description):
        errors[ids.DESCRIPTION] = "Describe the problem: what happened and what you expected."
    if draft.severity not in SEVERITIES:
        errors[ids.SEVERITY] = "Pick a severity."
    if not draft.platform:
        errors[ids.PLATFORM] = "Pick a platform."
    if not draft.product:
        errors[ids.PRODUCT] = "Pick a product."
    if ask_requester and not is_valid_email((draft.requester_email or "").strip()):
        errors[ids.REQUESTER] = "Enter the requester's email address, like name@example.com."
    return errors


def filing_modal(draft: TicketDraft) -> dict:
    """Shown while DoiT files the ticket; no submit, so nobody files it twice."""
    subject = mrkdwn(draft.subject.strip() or "(no subject)", 500)
    view = View(
        type="modal",
        callback_id=ids.FILING_CALLBACK,
        title=TITLE,
        close="Close",
        blocks=[SectionBlock(text=f":hourglass_flowing_sand: Filing your ticket…\n*{subject}*")],
    )
    return view.to_dict()


def filed_modal(ticket: Ticket, *, channel_id: str | None, note: str | None = None) -> dict:
    """The ticket is filed: its number, status and link, and where its card went."""
    subject = link(ticket.url, truncate(ticket.subject.strip() or "(no subject)", 500), 1000)
    lines = [
        f":white_check_mark: Filed DoiT ticket *#{ticket.id}*: {subject}",
        f"Status: {status_with_emoji(ticket.status)}",
    ]
    if channel_id:
        lines.append(f"I posted the ticket card in {channel_mention(channel_id)}.")
    blocks: list[Any] = [SectionBlock(text="\n".join(lines))]
    if note and note.strip():
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=mrkdwn(note.strip(), SECTION_TEXT))]))
    view = View(
        type="modal", callback_id=ids.FILED_CALLBACK, title="Ticket filed", close="Done", blocks=blocks
    )
    return view.to_dict()


def product_options(products: Sequence[Product], typed: str) -> list[dict]:
    """Product options whose names contain ``typed``, those starting with it first; at most 100."""
    wanted = typed.strip().casefold()
    seen: set[str] = set()
    matches: list[Product] = []
    for product in products:
        if (
            product.id in seen
            or len(product.id) > OPTION_VALUE
            or wanted not in product.display_name.casefold()
        ):
            continue
        seen.add(product.id)
        matches.append(product)
    matches.sort(key=lambda p: (not p.display_name.casefold().startswith(wanted), p.display_name.casefold()))
    return [_option(product.id, product.display_name).to_dict() for product in matches[:OPTIONS]]
