"""Tickets in Slack: the card, the list, the detail view and the link unfurl.

Status and severity are open strings (DoiT adds values): a value we do not know is shown as it
is, escaped, next to a question mark, never dropped and never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks import ids
from bot.blocks.limits import (
    BUTTON_VALUE,
    HEADER_TEXT,
    MAX_MESSAGE_BLOCKS,
    MESSAGE_PAYLOAD,
    SECTION_FIELD,
    SECTION_TEXT,
    payload_length,
)
from bot.blocks.message import Message
from bot.blocks.text import (
    NO_SUBJECT,
    bold,
    escape,
    fit_mrkdwn,
    html_to_text,
    link,
    mention,
    mrkdwn,
    plain,
    safe_url,
    slack_date,
    truncate,
)
from bot.support.models import Comment, Ticket
from bot.support.platforms import display_name

logger = logging.getLogger(__name__)

STATUS_EMOJI: dict[str, str] = {
    "new": ":new:",
    "open": ":large_blue_circle:",
    "pending": ":hourglass_flowing_sand:",
    "hold": ":double_vertical_bar:",
    "solved": ":white_check_mark:",
    "closed": ":lock:",
}
SEVERITY_EMOJI: dict[str, str] = {
    "urgent": ":rotating_light:",
    "high": ":warning:",
    "normal": ":large_yellow_circle:",
    "low": ":white_circle:",
}
UNKNOWN_EMOJI = ":grey_question:"

STATUS_NAMES: dict[str, str] = {
    "new": "New",
    "open": "Open",
    "pending": "Pending (waiting on customer)",
    "hold": "On hold",
    "solved": "Solved",
    "closed": "Closed",
}
SEVERITY_NAMES: dict[str, str] = {"urgent": "Urgent", "high": "High", "normal": "Normal", "low": "Low"}
SEVERITY_PRIORITIES: dict[str, str] = {"urgent": "P1", "high": "P2", "normal": "P3", "low": "P4"}

LIST_MAX_TICKETS = 45
"""Header, context and navigation leave room for 45 ticket sections under the 50-block cap."""
DETAIL_MAX_COMMENTS = 40
CARD_SUBJECT = 250
"""Subjects are cut here in cards: a card is a summary, the whole text is one click away."""
SUMMARY_SUBJECT = 200
LIST_DATE = "{date_short_pretty}"
"""A list shows the day only: 45 full date tokens alone would take a fifth of the payload."""
_LIST_SUBJECT_LIMITS = (150, 100, 60)
_COMMENT_LIMITS = (1500, 750, 300, 120)
"""Comment bodies shrink through these; the description to at most twice as much."""
_DESCRIPTION_HEADING = "*Description*\n"
_READ_MORE = "Read the rest in DoiT"
_UNKNOWN_VALUE_SHOWN = 100


def _key(value: str) -> str:
    return value.strip().lower()


def status_label(status: str) -> str:
    """The status in words, mrkdwn-safe: "Open", or an unknown value as it is."""
    if not status.strip():
        return "unknown status"
    return STATUS_NAMES.get(_key(status)) or mrkdwn(status.strip(), _UNKNOWN_VALUE_SHOWN)


def severity_label(severity: str) -> str:
    """The severity in words with DoiT's priority, mrkdwn-safe: "High (P2)", or an unknown value as it is."""
    key = _key(severity)
    if not key:
        return "unknown severity"
    if key in SEVERITY_NAMES:
        return f"{SEVERITY_NAMES[key]} ({SEVERITY_PRIORITIES[key]})"
    return mrkdwn(severity.strip(), _UNKNOWN_VALUE_SHOWN)


def status_with_emoji(status: str) -> str:
    """The status after its emoji, e.g. ``:large_blue_circle: Open``; unknown ones get a question mark."""
    return f"{STATUS_EMOJI.get(_key(status), UNKNOWN_EMOJI)} {status_label(status)}"


def severity_with_emoji(severity: str) -> str:
    """The severity after its emoji, e.g. ``:warning: High (P2)``; unknown ones get a question mark."""
    return f"{SEVERITY_EMOJI.get(_key(severity), UNKNOWN_EMOJI)} {severity_label(severity)}"


def _subject(ticket: Ticket) -> str:
    return ticket.subject.strip() or NO_SUBJECT


def _platform(ticket: Ticket, platform_names: Mapping[str, str] | None) -> str:
    return escape(display_name(ticket.platform, platform_names))


def _product(ticket: Ticket) -> str:
    return escape(ticket.product.strip()) if ticket.product and ticket.product.strip() else "unknown product"


def _requester(ticket: Ticket, requester_user_id: str | None) -> str:
    if requester_user_id:
        return mention(requester_user_id)
    if ticket.requester and ticket.requester.strip():
        return mrkdwn(ticket.requester.strip(), 320)
    return "unknown requester"


def _title(ticket: Ticket, subject_limit: int) -> str:
    """The subject in bold, linked to the ticket when its URL is safe."""
    subject = truncate(_subject(ticket), subject_limit)
    return bold(link(ticket.url, subject, SECTION_TEXT - 2), subject)


def summary_text(ticket: Ticket) -> str:
    """The one-line notification text: "DoiT ticket #123 (High, open): VPN down"."""
    severity = SEVERITY_NAMES.get(_key(ticket.severity)) or mrkdwn(
        ticket.severity.strip(), _UNKNOWN_VALUE_SHOWN
    )
    severity = severity or "no severity"
    status = mrkdwn(_key(ticket.status), _UNKNOWN_VALUE_SHOWN) or "unknown status"
    return f"DoiT ticket #{ticket.id} ({severity}, {status}): {mrkdwn(_subject(ticket), SUMMARY_SUBJECT)}"


def _field(title: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=fit_mrkdwn(f"*{title}*\n{value}", SECTION_FIELD))


def _fact_fields(
    ticket: Ticket,
    platform_names: Mapping[str, str] | None,
    requester_user_id: str | None,
    number: str,
) -> list[MarkdownTextObject]:
    return [
        _field("Ticket", number),
        _field("Status", status_with_emoji(ticket.status)),
        _field("Severity", severity_with_emoji(ticket.severity)),
        _field("Requester", _requester(ticket, requester_user_id)),
        _field("Platform", _platform(ticket, platform_names)),
        _field("Product", _product(ticket)),
    ]


def _times_line(ticket: Ticket) -> str | None:
    parts = []
    if ticket.create_time:
        parts.append(f"Created {slack_date(ticket.create_time)}")
    if ticket.update_time:
        parts.append(f"Updated {slack_date(ticket.update_time)}")
    return " · ".join(parts) or None


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=fit_mrkdwn(text, SECTION_TEXT))])


def _open_button(ticket: Ticket) -> ButtonElement | None:
    url = safe_url(ticket.url)
    if url is None:
        return None
    return ButtonElement(text="Open in DoiT", action_id=ids.OPEN_TICKET, url=url, value=str(ticket.id))


def _solve_button(ticket: Ticket) -> ButtonElement:
    confirm = ConfirmObject(
        title="Mark this ticket solved?",
        text=f"DoiT will see ticket #{ticket.id} as solved. Everyone following it is told.",
        confirm="Mark solved",
        deny="Keep it open",
    )
    return ButtonElement(text="Mark solved", action_id=ids.CARD_SOLVE, value=str(ticket.id), confirm=confirm)


def _card_buttons(ticket: Ticket) -> list[ButtonElement]:
    comment = ButtonElement(text="Add comment", action_id=ids.CARD_COMMENT, value=str(ticket.id))
    buttons = [_open_button(ticket), comment]
    if _key(ticket.status) not in ("solved", "closed"):
        buttons.append(_solve_button(ticket))
    buttons.append(ButtonElement(text="Refresh", action_id=ids.CARD_REFRESH, value=str(ticket.id)))
    return [button for button in buttons if button is not None]


def _dicts(blocks: Sequence[Block]) -> list[dict]:
    return [block.to_dict() for block in blocks]


def ticket_card(
    ticket: Ticket,
    *,
    platform_names: Mapping[str, str] | None = None,
    requester_user_id: str | None = None,
    filed_by_user_id: str | None = None,
    note: str | None = None,
    actions: bool = True,
) -> Message:
    """The card posted in a channel for one ticket, with its actions."""
    fields = _fact_fields(ticket, platform_names, requester_user_id, f"#{ticket.id}")
    if filed_by_user_id:
        fields.append(_field("Filed by", mention(filed_by_user_id)))
    blocks: list[Block] = [
        SectionBlock(text=_title(ticket, CARD_SUBJECT)),
        SectionBlock(fields=fields),
    ]
    times = _times_line(ticket)
    if times:
        blocks.append(_context(times))
    if note and note.strip():
        blocks.append(_context(f":information_source: {mrkdwn(note.strip(), SECTION_TEXT - 25)}"))
    if actions:
        blocks.append(ActionsBlock(block_id=ids.CARD_ACTIONS, elements=_card_buttons(ticket)))
    return Message(text=summary_text(ticket), blocks=_dicts(blocks))


def _list_section(
    ticket: Ticket, platform_names: Mapping[str, str] | None, subject_limit: int
) -> SectionBlock:
    facts = [
        status_with_emoji(ticket.status),
        severity_with_emoji(ticket.severity),
        f"{_platform(ticket, platform_names)} · {_product(ticket)}",
    ]
    moment = ticket.update_time or ticket.create_time
    if moment:
        facts.append(f"updated {slack_date(moment, LIST_DATE, fallback='%Y-%m-%d')}")
    text = f"{_title(ticket, subject_limit)}  #{ticket.id}\n" + " · ".join(facts)
    return SectionBlock(text=fit_mrkdwn(text, SECTION_TEXT))


def _list_button(text: str, action_id: str, value: str | None) -> ButtonElement | None:
    if not value:
        return None
    if len(value) > BUTTON_VALUE:
        raise ValueError(f"A page value must be at most {BUTTON_VALUE} characters, got {len(value)}")
    return ButtonElement(text=text, action_id=action_id, value=value)


def _range_text(first: int, count: int) -> str:
    return f"Showing {first}" if count == 1 else f"Showing {first}–{first + count - 1}"


def _list_context(
    description: str, page: int, shown_from: int, shown: int, left_out: int, asked_by: str | None
) -> str:
    parts = [f"Asked by {mention(asked_by)}"] if asked_by else []
    parts.append(mrkdwn(description.strip() or "all tickets", 500))
    parts.append(f"{_range_text(shown_from, shown)} (page {page})")
    if left_out:
        parts.append(f"{left_out} more on this page don't fit in one message: narrow the search to see them")
    return " · ".join(parts)


def _build_list(
    tickets: Sequence[Ticket],
    total: int,
    subject_limit: int,
    *,
    description: str,
    page: int,
    shown_from: int,
    navigation: list[ButtonElement],
    platform_names: Mapping[str, str] | None,
    asked_by: str | None,
) -> Message:
    blocks: list[Block] = [
        HeaderBlock(text="DoiT tickets"),
        _context(_list_context(description, page, shown_from, len(tickets), total - len(tickets), asked_by)),
    ]
    blocks.extend(_list_section(ticket, platform_names, subject_limit) for ticket in tickets)
    if navigation:
        blocks.append(ActionsBlock(block_id=ids.LIST_NAVIGATION, elements=navigation))
    searched = mrkdwn(description.strip() or "all tickets", 500)
    text = f"DoiT tickets, {searched}: {_range_text(shown_from, len(tickets)).lower()}"
    return Message(text=text, blocks=_dicts(blocks))


def _fits(message: Message) -> bool:
    return len(message.blocks) <= MAX_MESSAGE_BLOCKS and payload_length(message.blocks) <= MESSAGE_PAYLOAD


def _first_fitting(build: Callable[[int, int], Message], count: int, budgets: Sequence[int]) -> Message:
    """Shorten texts through ``budgets``, then show fewer items, until the message fits Slack."""
    for budget in budgets:
        message = build(count, budget)
        if _fits(message):
            return message
    # Fewer items never make a message longer, so the most that fit can be found by halving.
    low, high, best = 1, count - 1, None
    while low <= high:
        middle = (low + high) // 2
        candidate = build(middle, budgets[-1])
        if _fits(candidate):
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best is not None:
        return best
    logger.warning("Even one item does not fit a Slack message; sending it anyway")
    return build(1, budgets[-1])


def ticket_list(
    tickets: Sequence[Ticket],
    *,
    description: str,
    page: int,
    shown_from: int,
    next_value: str | Callable[[int], str | None] | None,
    previous_value: str | None,
    platform_names: Mapping[str, str] | None = None,
    asked_by: str | None = None,
) -> Message:
    """One page of tickets with Previous / Next buttons; never more than 45 tickets or 50 blocks.

    ``next_value`` and ``previous_value`` are opaque (at most 2,000 characters); a button is left
    out when its value is None or empty. Subjects shrink, then tickets are left out (and the
    context line says how many), until the blocks fit Slack's payload limit. When ``next_value``
    is a function it is called with how many tickets made it into the message, so Next can
    continue right after the last one shown.
    """
    if not tickets:
        return empty_ticket_list(description)

    def navigation(count: int) -> list[ButtonElement]:
        following = next_value(count) if callable(next_value) else next_value
        buttons = (
            _list_button("Previous", ids.LIST_PREVIOUS, previous_value),
            _list_button("Next", ids.LIST_NEXT, following),
        )
        return [button for button in buttons if button is not None]

    def build(count: int, subject_limit: int) -> Message:
        return _build_list(
            tickets[:count],
            count if callable(next_value) else len(tickets),  # continued by Next: nothing is left out
            subject_limit,
            description=description,
            page=page,
            shown_from=shown_from,
            navigation=navigation(count),
            platform_names=platform_names,
            asked_by=asked_by,
        )

    return _first_fitting(build, min(len(tickets), LIST_MAX_TICKETS), _LIST_SUBJECT_LIMITS)


def empty_ticket_list(description: str, *, command: str = "/doit") -> Message:
    """Nothing matched: say so and suggest a broader query."""
    searched = mrkdwn(description.strip() or "your search", 500)
    command = escape(command)
    text = f"No DoiT tickets match your search: {searched}."
    hint = f"Try a broader search, such as `{command} list open`, or drop `since:` to look further back."
    return Message(text=text, blocks=_dicts([SectionBlock(text=f":mag: {text}\n{hint}")]))


_READ_MORE_URL_MAX = 1000


def _description_text(ticket: Ticket, limit: int) -> str:
    body = html_to_text(ticket.description or "")
    if not body:
        return _DESCRIPTION_HEADING + "_No description._"
    url = safe_url(ticket.url)
    # A link longer than this would crowd the description out; the Open in DoiT button has it.
    read_more = f"\n<{url}|{_READ_MORE}>" if url and len(url) <= _READ_MORE_URL_MAX else ""
    room = min(limit, SECTION_TEXT - len(_DESCRIPTION_HEADING) - len(read_more))
    shown = mrkdwn(body, max(room, 1))
    was_cut = shown != escape(body)
    return _DESCRIPTION_HEADING + shown + (read_more if was_cut else "")


def _epoch(moment: datetime | None) -> float:
    if moment is None:
        return float("-inf")
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _attachments_line(comment: Comment) -> str:
    names = []
    for attachment in comment.attachments[:3]:
        name = attachment.file_name or "attachment"
        names.append(link(attachment.content_url, truncate(name, 80), 400))
    more = len(comment.attachments) - len(names)
    if more > 0:
        names.append(f"{more} more")
    return f"\n:paperclip: {', '.join(names)}" if names else ""


def _comment_section(comment: Comment, limit: int) -> SectionBlock:
    author = mrkdwn((comment.author or "").strip() or "Unknown author", 200)
    when = f" · {slack_date(comment.created)}" if comment.created else ""
    body = mrkdwn(html_to_text(comment.body), limit) or "_(empty comment)_"
    text = f"*{author}*{when}\n{body}{_attachments_line(comment)}"
    return SectionBlock(text=fit_mrkdwn(text, SECTION_TEXT))


def _earlier_line(ticket: Ticket, earlier: int) -> str:
    words = "1 earlier comment not shown" if earlier == 1 else f"{earlier} earlier comments not shown"
    url = safe_url(ticket.url)
    return f"{words}. <{url}|See them in DoiT>" if url else f"{words}."


def _detail_buttons(ticket: Ticket) -> list[ButtonElement]:
    comment = ButtonElement(text="Add comment", action_id=ids.SHOW_ADD_COMMENT, value=str(ticket.id))
    return [button for button in (_open_button(ticket), comment) if button is not None]


def ticket_detail(
    ticket: Ticket,
    comments: Sequence[Comment],
    *,
    platform_names: Mapping[str, str] | None = None,
    requester_user_id: str | None = None,
    description_limit: int = 1500,
    comments_shown: int = 5,
) -> Message:
    """A ticket in full: facts, description, the latest comments (newest last) and actions.

    Comment bodies and then the description shrink, then older comments are left out, until
    the blocks fit Slack's payload limit.
    """
    ordered = sorted(comments, key=lambda comment: _epoch(comment.created))
    wanted = max(0, min(comments_shown, DETAIL_MAX_COMMENTS, len(ordered)))
    number = link(ticket.url, f"#{ticket.id}", 400)

    def build(count: int, comment_limit: int) -> Message:
        shown = ordered[len(ordered) - count :] if count else []
        blocks: list[Block] = [
            HeaderBlock(text=plain(ticket.subject, HEADER_TEXT)),
            SectionBlock(fields=_fact_fields(ticket, platform_names, requester_user_id, number)),
        ]
        times = _times_line(ticket)
        if times:
            blocks.append(_context(times))
        blocks.append(SectionBlock(text=_description_text(ticket, min(description_limit, comment_limit * 2))))
        if len(ordered) > count:
            blocks.append(_context(_earlier_line(ticket, len(ordered) - count)))
        blocks.extend(_comment_section(comment, comment_limit) for comment in shown)
        blocks.append(ActionsBlock(block_id=ids.DETAIL_ACTIONS, elements=_detail_buttons(ticket)))
        return Message(text=summary_text(ticket), blocks=_dicts(blocks))

    return _first_fitting(build, wanted, _COMMENT_LIMITS)


def unfurl_card(ticket: Ticket, platform_names: Mapping[str, str] | None = None) -> dict:
    """A compact card for ``chat.unfurl``: subject, status, severity, platform and product."""
    facts = " · ".join(
        [
            f"#{ticket.id}",
            status_with_emoji(ticket.status),
            severity_with_emoji(ticket.severity),
            f"{_platform(ticket, platform_names)} · {_product(ticket)}",
        ]
    )
    return {"blocks": _dicts([SectionBlock(text=_title(ticket, CARD_SUBJECT)), _context(facts)])}
