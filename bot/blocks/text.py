"""Text for Slack: mrkdwn escaping, truncation that Slack's limits agree with, links, dates.

Lengths are measured with :func:`slack_length`, which counts a character outside the Basic
Multilingual Plane (most emoji) as two. Slack counts code points in most places but not
everywhere, so counting the way UTF-16 does keeps a text of 1,600 emoji under a 3,000 limit
whichever way Slack measures it.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

ELLIPSIS = "…"
NO_SUBJECT = "(no subject)"
MAX_URL_LENGTH = 3000

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# One unit of already-built mrkdwn that must never be split: an entity, a <...> token
# (link, mention, date) or a single character.
_MRKDWN_UNIT = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>|.", re.DOTALL)
# Left dangling at the end of a cut they would join the ellipsis to the emoji before them.
_JOINERS = "\u200d\ufe0f\ufe0e"
_FORBIDDEN_IN_URL = re.compile(r"[\s<>|\x00-\x1f\x7f]")
_SLACK_ID = re.compile(r"[A-Z0-9]{2,40}")


def slack_length(text: str) -> int:
    """Length of ``text`` as counted against Slack's limits (astral characters count twice)."""
    # UTF-16 code units: what "astral characters count twice" means, computed in C, not per character.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _char_length(character: str) -> int:
    return 2 if ord(character) > 0xFFFF else 1


def escape(text: str) -> str:
    """Escape mrkdwn's control characters so user text can neither ping nor hide a link."""
    return text.translate(_ESCAPES)


def _end_cut(kept: str) -> str:
    return kept.rstrip().rstrip(_JOINERS).rstrip() + ELLIPSIS


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` (see :func:`slack_length`), ending in an ellipsis when cut."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if slack_length(text) <= limit:
        return text
    budget = limit - slack_length(ELLIPSIS)
    used = 0
    for index, character in enumerate(text):
        used += _char_length(character)
        if used > budget:
            return _end_cut(text[:index])
    return text


def fit_mrkdwn(built: str, limit: int) -> str:
    """Cut mrkdwn we built ourselves to ``limit`` without splitting an entity or a ``<...>`` token."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if slack_length(built) <= limit:
        return built
    budget = limit - slack_length(ELLIPSIS)
    used = 0
    kept: list[str] = []
    for match in _MRKDWN_UNIT.finditer(built):
        unit = match.group()
        used += slack_length(unit)
        if used > budget:
            break
        kept.append(unit)
    return _end_cut("".join(kept))


def mrkdwn(text: str, limit: int) -> str:
    """Escape user text and fit it into ``limit`` without cutting inside ``&amp;``, ``&lt;`` or ``&gt;``."""
    return fit_mrkdwn(escape(text), limit)


def plain(text: str | None, limit: int, *, placeholder: str = NO_SUBJECT) -> str:
    """Text for a ``plain_text`` field: cut to ``limit``, never empty (``placeholder`` when blank)."""
    if text is None or not text.strip():
        return truncate(placeholder, limit)
    return truncate(text.strip(), limit)


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL with a host that is safe inside ``<url|label>``, else None."""
    if not url or len(url) > MAX_URL_LENGTH or _FORBIDDEN_IN_URL.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return url


def link(url: str | None, label: str, limit: int) -> str:
    """``<url|label>`` with the label escaped, or the escaped label alone when the URL is unsafe.

    ``limit`` caps the whole result; a URL too long to leave room for a label drops the link.
    """
    target = safe_url(url)
    shown = label if label.strip() else NO_SUBJECT
    if target is not None:
        room = limit - slack_length(target) - 3
        if room >= min(slack_length(escape(shown)), 10):
            return f"<{target}|{mrkdwn(shown, room)}>"
        logger.debug("Link to a %d-character URL does not fit in %d; showing the label", len(target), limit)
    return mrkdwn(shown, limit)


def slack_date(
    moment: datetime, fmt: str = "{date_short_pretty} at {time}", *, fallback: str = "%Y-%m-%d %H:%M UTC"
) -> str:
    """A ``<!date>`` token: each reader sees ``moment`` in their own time zone.

    ``fallback`` is a ``strftime`` format, applied in UTC, for clients that cannot localise.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    fallback = utc.strftime(fallback)
    return f"<!date^{int(utc.timestamp())}^{fmt}|{fallback}>"


def mention(user_id: str) -> str:
    """A user mention; an id that does not look like a Slack id is shown escaped, never as a mention."""
    if _SLACK_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    logger.warning("Not a Slack user id, showing it as text: %r", user_id[:40])
    return escape(user_id)


def channel_mention(channel_id: str) -> str:
    """A channel link (``<#C123>``); an id that does not look like a Slack id is shown escaped."""
    if _SLACK_ID.fullmatch(channel_id):
        return f"<#{channel_id}>"
    logger.warning("Not a Slack channel id, showing it as text: %r", channel_id[:40])
    return escape(channel_id)


_HTML_TAG = re.compile(r"<[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>|</[a-zA-Z][a-zA-Z0-9]*\s*>")
_LINE_BREAKING_TAGS = frozenset(
    {"br", "p", "div", "tr", "ul", "ol", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_HIDDEN_TAGS = frozenset({"script", "style", "head", "title"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0
        self._pre_depth = 0
        self._links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag == "li":
            self.parts.append("\n• ")
        elif tag in _LINE_BREAKING_TAGS:
            self.parts.append("\n")
        if tag == "pre":
            self._pre_depth += 1
        elif tag == "a":
            self._links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _LINE_BREAKING_TAGS and tag != "br":
            self.parts.append("\n")
        if tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
        elif tag == "a" and self._links:
            # Keep where a link went: the text is plain, so the address follows its label.
            href = self._links.pop()
            if href and safe_url(href) and href not in self.parts[-1:]:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        data = data.replace("\xa0", " ")
        # Line breaks in HTML source are spaces, except inside <pre>, where they are the layout.
        self.parts.append(data if self._pre_depth else re.sub(r"\s+", " ", data))


def html_to_text(body: str) -> str:
    """Readable text from a ticket or comment body, which may be HTML or plain text.

    Text with no HTML tags is kept as it is, so a plain ``a<b`` survives.
    """
    if _HTML_TAG.search(body):
        extractor = _TextExtractor()
        extractor.feed(body)
        extractor.close()
        body = "".join(extractor.parts)
    lines = [line.strip() for line in body.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_FORMATTING = frozenset("*_~`")


def bold(built: str, raw: str) -> str:
    """``built`` (mrkdwn made from ``raw``) in bold, unless ``raw`` has formatting marks of its own.

    Slack has no way to escape ``*``, ``_``, ``~`` or a backtick, and marks typed inside our bold
    pair would end it early and scatter asterisks; such text is shown without the emphasis.
    """
    return built if _FORMATTING.intersection(raw) else f"*{built}*"
