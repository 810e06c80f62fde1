"""The query language of ``/doit list`` and ``/doit subscribe``.

A query is terms separated by spaces: ``open severity:high+ platform:aws since:7d vpn``. Different
terms must all hold; a repeated term, or a comma list (``status:new,open``), means any of its values.
Keys are case-insensitive, values may be quoted (``product:"Compute Engine"``), and anything that is
not a term is a word or a quoted phrase the subject must contain.

The API can filter on status and severity only, with one repeated key and exact values, and on
creation time. Everything else is checked here by :meth:`TicketQuery.matches`, which checks the
server-side terms as well, so a deployment that ignores ``filter`` still gives the right answer.

Words with a colon: ``foo:bar`` with an unknown key is an error, so a typo such as ``stauts:open``
does not quietly turn into a subject search. A colon followed by ``//`` (``https://...``) is a URL
and taken as a word; any other text with a colon can be searched for by quoting it.

Time bounds: ``since`` is inclusive and ``before`` exclusive, both compared with the ticket's creation
time; a ticket without a creation time fails any time bound.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.support.models import ACTIVE_STATUSES, CLOSED_STATUSES, SEVERITIES, STATUSES, Ticket
from bot.support.platforms import ALIASES, KNOWN_PLATFORMS, display_name, resolve_platform

logger = logging.getLogger(__name__)

MAX_LIMIT = 100

ACCEPTED_SYNTAX = """\
Terms you can combine (all must hold; a repeated term or a comma list means any of its values):
• `open` or `closed`: open is new, open, pending or hold; closed is solved or closed
• `status:new,pending`: new, open, pending, hold, solved, closed
• `severity:high` or `priority:high`: low, normal, high, urgent; `severity:high+` means high or urgent
• `platform:aws`: aws, gcp, azure, doit, or a name such as `platform:"Google Cloud"`
• `product:"Compute Engine"`: the product's name
• `mine` or `requester:jane@example.com`: who asked
• `since:7d` and `before:2026-11-01`: creation time, as 30m, 24h, 7d or 2w back from now, \
a date (midnight UTC) or an ISO time such as `2026-11-01T09:30Z`
• `limit:20`: at most this many tickets, 1 to 100
• `vpn "connection reset"`: words and quoted phrases the subject must contain
Example: `open severity:high+ platform:aws since:7d vpn`"""

_QUOTES = frozenset('"“”')
_BARE_KEYWORDS = ("open", "closed", "mine")
_KEY = re.compile(r"[A-Za-z]+")
_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")
_RELATIVE = re.compile(
    r"0*([1-9][0-9]{0,6})\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)", re.IGNORECASE
)
_UNITS = {"m": "minute", "h": "hour", "d": "day", "w": "week"}
_SEVERITY_CODES = {"p1": "urgent", "p2": "high", "p3": "normal", "p4": "low"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Keys as typed -> the key they mean; `priority` is what DoiT's overview page calls severity.
_KEYS = {
    "status": "status",
    "is": "is",
    "severity": "severity",
    "priority": "severity",
    "platform": "platform",
    "product": "product",
    "since": "since",
    "before": "before",
    "requester": "requester",
    "limit": "limit",
}
_EXAMPLE_VALUES = {
    "status": "open",
    "is": "open",
    "severity": "high",
    "platform": "aws",
    "product": '"Compute Engine"',
    "since": "7d",
    "before": "2026-11-01",
    "requester": "jane@example.com",
    "limit": "20",
}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class QueryError(ValueError):
    """A query that cannot be understood.

    ``str(err)`` is the problem followed by :data:`ACCEPTED_SYNTAX`; ``problem`` is the sentence alone.
    """

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}\n\n{ACCEPTED_SYNTAX}")
        self.problem = problem


@dataclass(frozen=True)
class TicketQuery:
    """What a user asked to see. Empty fields mean "any".

    ``since`` is inclusive and ``before`` exclusive. ``mine`` and ``requesters`` together are one
    condition: the requester is the asking user or one of ``requesters``. ``since_relative`` and
    ``before_relative`` keep a span as typed ("7d") for :meth:`describe`; they take no part in equality.
    """

    statuses: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    platforms: frozenset[str] = frozenset()
    products: tuple[str, ...] = ()
    mine: bool = False
    requesters: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()
    since: datetime | None = None
    before: datetime | None = None
    limit: int | None = None
    since_relative: str | None = field(default=None, compare=False)
    before_relative: str | None = field(default=None, compare=False)

    # -- what goes to the API -------------------------------------------------------------------

    def server_side_terms(self) -> dict[str, tuple[str, ...]]:
        """Key -> values (ORed) the API can filter on; everything else is left to :meth:`matches`."""
        terms = {
            "status": _sendable(self.statuses, STATUSES),
            "severity": _sendable(self.severities, SEVERITIES),
        }
        terms = {key: values for key, values in terms.items() if values}
        if len(terms) == 2 and all(len(values) > 1 for values in terms.values()):
            # Only one key may repeat. Most tickets ever filed are closed, so a status filter
            # usually cuts more of the pages we would otherwise fetch than a severity one.
            del terms["severity"]
        return terms

    def local_terms(self) -> tuple[str, ...]:
        """Names of the conditions only :meth:`matches` can apply (empty: the API does it all)."""
        server = self.server_side_terms()
        checks = {
            "status": bool(self.statuses) and "status" not in server,
            "severity": bool(self.severities) and "severity" not in server,
            "platform": bool(self.platforms),
            "product": bool(self.products),
            "requester": self.mine or bool(self.requesters),
            "subject": bool(self.words),
        }
        return tuple(name for name, needed in checks.items() if needed)

    @property
    def api_filter(self) -> str | None:
        """The ``filter`` parameter to send, or None when the API has nothing to filter on."""
        segments = [f"{key}:{value}" for key, values in self.server_side_terms().items() for value in values]
        return "|".join(segments) or None

    @property
    def min_creation_ms(self) -> int | None:
        """``minCreationTime``: the first millisecond at or after ``since``."""
        if self.since is None or self.since <= _EPOCH:
            return None  # nothing was filed before 1970: no bound at all, never a negative one
        return _ceil_epoch_ms(self.since)

    @property
    def max_creation_ms(self) -> int | None:
        """``maxCreationTime``: the last millisecond before ``before`` (the API's bound is inclusive)."""
        return None if self.before is None else _ceil_epoch_ms(self.before) - 1

    @property
    def needs_user_email(self) -> bool:
        """True when :meth:`matches` needs the asking user's email (``mine``)."""
        return self.mine

    # -- local checks ---------------------------------------------------------------------------

    def matches(self, ticket: Ticket, *, user_email: str | None = None) -> bool:
        """Whether ``ticket`` meets every condition, the server-side ones included."""
        if self.mine and not user_email:
            raise ValueError("this query uses `mine`: pass the asking user's email")
        return (
            _in(ticket.status, self.statuses)
            and _in(ticket.severity, self.severities)
            and (not self.platforms or ticket.platform in self.platforms)
            and self._matches_product(ticket.product)
            and self._matches_requester(ticket.requester, user_email)
            and self._matches_subject(ticket.subject)
            and self._matches_time(ticket.create_time)
        )

    def _matches_product(self, product: str | None) -> bool:
        if not self.products:
            return True
        return product is not None and _fold(product) in {_fold(wanted) for wanted in self.products}

    def _matches_requester(self, requester: str | None, user_email: str | None) -> bool:
        allowed = set(self.requesters)
        if self.mine and user_email:
            allowed.add(user_email.lower())
        if not allowed:
            return True
        return requester is not None and requester.lower() in allowed

    def _matches_subject(self, subject: str) -> bool:
        folded = _fold(subject)
        return all(_fold(word) in folded for word in self.words)

    def _matches_time(self, created: datetime | None) -> bool:
        if self.since is None and self.before is None:
            return True
        if created is None:
            return False
        created = _as_utc(created)
        return (self.since is None or created >= self.since) and (
            self.before is None or created < self.before
        )

    # -- back into words ------------------------------------------------------------------------

    def describe(self, platform_names: Mapping[str, str] | None = None) -> str:
        """The query in plain English, e.g. "open tickets of high severity on Amazon Web Services"."""
        if self == TicketQuery():
            return "all tickets"
        inline = [
            self._describe_severities(),
            self._describe_platforms(platform_names),
            self._describe_products(),
            self._describe_requesters(),
            self._describe_literal_statuses(),
        ]
        inline = [part for part in inline if part]
        trailing = [part for part in (self._describe_times(), self._describe_words()) if part]
        text = " ".join([self._describe_head(), *inline])
        if trailing:
            text += (", " if inline else " ") + ", ".join(trailing)
        return text

    def _describe_head(self) -> str:
        noun = "ticket" if self.limit == 1 else "tickets"
        group = {ACTIVE_STATUSES: "open", CLOSED_STATUSES: "closed"}.get(self.statuses)
        owner = "your" if self.mine and not self.requesters else None
        count = None
        if self.limit is not None:
            count = "newest" if self.limit == 1 else f"{self.limit} newest"
            owner = owner or "the"
        return " ".join(part for part in (owner, count, group, noun) if part)

    def _describe_literal_statuses(self) -> str | None:
        if not self.statuses or self.statuses in (ACTIVE_STATUSES, CLOSED_STATUSES):
            return None
        return f"with status {_join_or(_ordered(self.statuses, STATUSES))}"

    def _describe_severities(self) -> str | None:
        if not self.severities:
            return None
        return f"of {_join_or(_ordered(self.severities, SEVERITIES))} severity"

    def _describe_platforms(self, platform_names: Mapping[str, str] | None) -> str | None:
        if not self.platforms:
            return None
        names = sorted((display_name(platform, platform_names) for platform in self.platforms), key=str.lower)
        return f"on {_join_or(names)}"

    def _describe_products(self) -> str | None:
        return f"for {_join_or(self.products)}" if self.products else None

    def _describe_requesters(self) -> str | None:
        if not self.requesters:
            return None
        people = (["you"] if self.mine else []) + sorted(self.requesters)
        return f"requested by {_join_or(people)}"

    def _describe_times(self) -> str | None:
        parts = []
        if self.since is not None:
            if self.since_relative:
                parts.append(f"in the last {_describe_span(self.since_relative, drop_one=True)}")
            else:
                parts.append(f"since {_describe_moment(self.since)}")
        if self.before is not None:
            if self.before_relative:
                parts.append(f"more than {_describe_span(self.before_relative)} ago")
            else:
                parts.append(f"before {_describe_moment(self.before)}")
        return "created " + " and ".join(parts) if parts else None

    def _describe_words(self) -> str | None:
        if not self.words:
            return None
        return "whose subject mentions " + _join([f"“{word}”" for word in self.words], "and")

    # -- back into a query ----------------------------------------------------------------------

    def canonical(self) -> str:
        """A normalised query text that :func:`parse_query` turns back into an equal query."""
        terms = [
            *self._canonical_statuses(),
            *self._canonical_severities(),
            *(f"platform:{_quoted_if_needed(platform)}" for platform in sorted(self.platforms)),
            *(f"product:{_quoted_if_needed(product)}" for product in self.products),
            *(["mine"] if self.mine else []),
            *(f"requester:{requester}" for requester in sorted(self.requesters)),
            *([f"since:{_format_moment(self.since)}"] if self.since is not None else []),
            *([f"before:{_format_moment(self.before)}"] if self.before is not None else []),
            *([f"limit:{self.limit}"] if self.limit is not None else []),
            *(_quoted_if_needed(word) for word in self.words),
        ]
        return " ".join(terms)

    def _canonical_statuses(self) -> list[str]:
        if not self.statuses:
            return []
        group = {ACTIVE_STATUSES: "open", CLOSED_STATUSES: "closed"}.get(self.statuses)
        return [group or "status:" + ",".join(_ordered(self.statuses, STATUSES))]

    def _canonical_severities(self) -> list[str]:
        if not self.severities:
            return []
        ordered = _ordered(self.severities, SEVERITIES)
        if len(ordered) > 1 and tuple(ordered) == SEVERITIES[-len(ordered) :]:
            return [f"severity:{ordered[0]}+"]
        return ["severity:" + ",".join(ordered)]


def parse_query(
    text: str, *, now: datetime | None = None, platforms: Mapping[str, str] | None = None
) -> TicketQuery:
    """Parse what a user typed after ``/doit list``; raises :class:`QueryError` when it makes no sense.

    ``now`` anchors relative times (default: the current time); ``platforms`` is the API's catalog,
    id -> display name, when known.
    """
    parser = _Parser(_as_utc(now or datetime.now(UTC)), platforms)
    for token in _tokenize(text):
        parser.feed(token)
    query = parser.result()
    logger.debug("parsed query %r as %r", text, query.canonical())
    return query


# -- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    text: str  # as typed, for messages
    parts: tuple[tuple[str, bool], ...]  # (text, was quoted)


def _tokenize(text: str) -> list[_Token]:
    """Split on whitespace outside quotes; quotes may open anywhere in a token and must close."""
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        token, position = _read_token(text, position)
        tokens.append(token)
    return tokens


def _read_token(text: str, start: int) -> tuple[_Token, int]:
    parts: list[tuple[str, bool]] = []
    plain_start = position = start
    while position < len(text) and not text[position].isspace():
        if text[position] not in _QUOTES:
            position += 1
            continue
        if position > plain_start:
            parts.append((text[plain_start:position], False))
        close = _find_quote(text, position + 1)
        if close < 0:
            raise QueryError(
                f"The quote at {_code(text[position:])} is never closed: add the closing quote or remove it."
            )
        parts.append((text[position + 1 : close], True))
        position = plain_start = close + 1
    if position > plain_start:
        parts.append((text[plain_start:position], False))
    return _Token(text[start:position], tuple(parts)), position


def _find_quote(text: str, start: int) -> int:
    return next((index for index in range(start, len(text)) if text[index] in _QUOTES), -1)


# -- the parser ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    key: str  # what it means: status, severity...
    typed_key: str  # as typed, lowercased: priority
    value: str
    text: str  # the whole token as typed


@dataclass
class _Bound:
    moment: datetime
    relative: str | None
    text: str


class _Parser:
    """Collects terms one token at a time; :meth:`result` checks what needs them all."""

    def __init__(self, now: datetime, platforms: Mapping[str, str] | None) -> None:
        self.now = now
        self.catalog = platforms
        self.statuses: set[str] = set()
        self.severities: set[str] = set()
        self.platforms: set[str] = set()
        self.products: list[str] = []
        self.mine = False
        self.requesters: set[str] = set()
        self.words: list[str] = []
        self.since: _Bound | None = None
        self.before: _Bound | None = None
        self.limit: int | None = None
        self.limit_text: str | None = None

    def feed(self, token: _Token) -> None:
        """Take one token: a ``key:value`` term, a bare keyword or a word."""
        first, was_quoted = token.parts[0]
        word = "".join(part for part, _ in token.parts)
        if not was_quoted and ":" in first:
            typed_key, _, rest = first.partition(":")
            # A URL (https://...) is a word, not a term with an unknown key.
            if _KEY.fullmatch(typed_key) and (typed_key.lower() in _KEYS or not rest.startswith("//")):
                self._feed_term(typed_key.lower(), word[len(typed_key) + 1 :], token.text)
                return
        if len(token.parts) == 1 and not was_quoted and word.lower() in _BARE_KEYWORDS:
            self._flag(word.lower())
        else:
            self._add_word(word)

    def _feed_term(self, typed_key: str, value: str, text: str) -> None:
        key = _KEYS.get(typed_key)
        if key is None:
            raise QueryError(
                f"Unknown term {_code(text)}: `{typed_key}:` is not a filter I know. "
                "To look for this text in subjects, put it in double quotes."
            )
        if not value.strip():
            raise QueryError(
                f"`{typed_key}:` needs a value right after the colon, "
                f"e.g. `{typed_key}:{_EXAMPLE_VALUES[key]}`."
            )
        getattr(self, f"_term_{key}")(_Term(key, typed_key, value, text))

    def _flag(self, keyword: str) -> None:
        if keyword == "open":
            self.statuses |= ACTIVE_STATUSES
        elif keyword == "closed":
            self.statuses |= CLOSED_STATUSES
        else:
            self.mine = True

    def _add_word(self, word: str) -> None:
        word = " ".join(word.split())
        if word and _fold(word) not in {_fold(seen) for seen in self.words}:
            self.words.append(word)

    def _term_is(self, term: _Term) -> None:
        for piece in _pieces(term.value):
            if piece.lower() not in _BARE_KEYWORDS:
                raise QueryError(
                    f"{_code(term.text)} is not something I can check: "
                    "use `is:open`, `is:closed` or `is:mine`."
                )
            self._flag(piece.lower())

    def _term_status(self, term: _Term) -> None:
        for piece in _pieces(term.value):
            if piece.lower() not in STATUSES:
                raise QueryError(
                    f"{_code(piece)} is not a status (in {_code(term.text)}). Statuses are "
                    f"{_join_or(STATUSES)}; `open` alone means new, open, pending or hold, "
                    "and `closed` alone means solved or closed."
                )
            self.statuses.add(piece.lower())

    def _term_severity(self, term: _Term) -> None:
        for piece in _pieces(term.value):
            severities = _severities_for(piece.lower())
            if not severities:
                raise QueryError(
                    f"{_code(piece)} is not a severity (in {_code(term.text)}). Severities are "
                    f"{_join_or(SEVERITIES)}; add + for that level and above, e.g. `{term.typed_key}:high+`."
                )
            self.severities |= severities

    def _term_platform(self, term: _Term) -> None:
        for piece in _pieces(term.value):
            platform = resolve_platform(piece, self.catalog)
            if platform is None:
                raise QueryError(
                    f"{_code(piece)} is not a platform I know (in {_code(term.text)}). "
                    f"Known platforms: {_known_platforms(self.catalog)}."
                )
            self.platforms.add(platform)

    def _term_product(self, term: _Term) -> None:
        product = " ".join(term.value.split())
        if _fold(product) not in {_fold(seen) for seen in self.products}:
            self.products.append(product)

    def _term_requester(self, term: _Term) -> None:
        for piece in _pieces(term.value):
            if not _EMAIL.fullmatch(piece):
                raise QueryError(
                    f"{_code(piece)} is not an email address (in {_code(term.text)}), "
                    "e.g. `requester:jane@example.com`."
                )
            self.requesters.add(piece.lower())

    def _term_limit(self, term: _Term) -> None:
        if self.limit is not None:
            raise _given_twice("limit", self.limit_text, term.text)
        value = term.value.strip()
        number = int(value) if re.fullmatch(r"[0-9]{1,4}", value) else 0
        if not 1 <= number <= MAX_LIMIT:
            raise QueryError(
                f"{_code(term.text)} is not a limit I can use: give a whole number from 1 to {MAX_LIMIT}."
            )
        self.limit, self.limit_text = number, term.text

    def _term_since(self, term: _Term) -> None:
        if self.since is not None:
            raise _given_twice("since", self.since.text, term.text)
        self.since = self._bound(term)

    def _term_before(self, term: _Term) -> None:
        if self.before is not None:
            raise _given_twice("before", self.before.text, term.text)
        self.before = self._bound(term)

    def _bound(self, term: _Term) -> _Bound:
        value = term.value.strip()
        relative = _RELATIVE.fullmatch(value)
        try:
            if relative:
                amount, unit = int(relative.group(1)), relative.group(2)[0].lower()
                span = timedelta(**{f"{_UNITS[unit]}s": amount})
                return _Bound(self.now - span, f"{amount}{unit}", term.text)
            return _Bound(_as_utc(datetime.fromisoformat(value)), None, term.text)
        except OverflowError:
            raise QueryError(
                f"{_code(term.text)} reaches outside the calendar: pick a nearer time."
            ) from None
        except ValueError:
            raise QueryError(
                f"{_code(term.text)} is not a time I understand. Use a span back from now such as "
                "`30m`, `24h`, `7d` or `2w`, a date such as `2026-11-01` (midnight UTC) "
                "or an ISO time such as `2026-11-01T09:30Z`."
            ) from None

    def result(self) -> TicketQuery:
        """The query, once every token is in."""
        if self.before and self.before.moment <= _EPOCH:
            raise QueryError(f"{_code(self.before.text)} is before 1970: DoiT has no tickets that old.")
        if self.since and self.before and self.since.moment >= self.before.moment:
            raise QueryError(
                f"{_code(self.since.text)} is not earlier than {_code(self.before.text)}, "
                "so no ticket could match both."
            )
        return TicketQuery(
            statuses=frozenset(self.statuses),
            severities=frozenset(self.severities),
            platforms=frozenset(self.platforms),
            products=tuple(self.products),
            mine=self.mine,
            requesters=frozenset(self.requesters),
            words=tuple(self.words),
            since=self.since.moment if self.since else None,
            before=self.before.moment if self.before else None,
            limit=self.limit,
            since_relative=self.since.relative if self.since else None,
            before_relative=self.before.relative if self.before else None,
        )


# -- helpers ------------------------------------------------------------------------------------


def _given_twice(key: str, first: str | None, second: str) -> QueryError:
    return QueryError(f"`{key}:` can only be given once, but there are {_code(first)} and {_code(second)}.")


def _pieces(value: str) -> list[str]:
    """The items of a comma list; blank ones are dropped."""
    return [piece.strip() for piece in value.split(",") if piece.strip()]


def _severities_for(text: str) -> frozenset[str]:
    at_least = text.endswith("+")
    name = text[:-1] if at_least else text
    name = _SEVERITY_CODES.get(name, name)
    if name not in SEVERITIES:
        return frozenset()
    return frozenset(SEVERITIES[SEVERITIES.index(name) :] if at_least else (name,))


def _known_platforms(catalog: Mapping[str, str] | None) -> str:
    names = {**KNOWN_PLATFORMS, **(catalog or {})}
    short_names: dict[str, str] = {}
    for alias, platform in ALIASES.items():
        short_names.setdefault(platform, alias)
    entries = sorted(names.items(), key=lambda entry: entry[1].lower())
    return ", ".join(f"{name} (`{short_names.get(platform, platform)}`)" for platform, name in entries)


def _sendable(values: frozenset[str], known: tuple[str, ...]) -> tuple[str, ...]:
    """The values in API order, or nothing when one of them cannot go to the API as it is.

    Sending only some of an OR would hide the tickets that have the others.
    """
    if not values or not values <= set(known):
        return ()
    return tuple(_ordered(values, known))


def _in(value: str, wanted: frozenset[str]) -> bool:
    return not wanted or value.lower() in wanted


def _ordered(values: Iterable[str], order: tuple[str, ...]) -> list[str]:
    """Known values in ``order``, then unknown ones alphabetically."""
    values = set(values)
    return [value for value in order if value in values] + sorted(values - set(order))


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _as_utc(moment: datetime) -> datetime:
    # A time without a zone is taken as UTC, the zone the API and the query syntax use.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _ceil_epoch_ms(moment: datetime) -> int:
    # Exact integer arithmetic: float timestamps can be a millisecond off.
    microseconds = (_as_utc(moment) - _EPOCH) // timedelta(microseconds=1)
    return -(-microseconds // 1000)


def _format_moment(moment: datetime) -> str:
    moment = _as_utc(moment)
    if moment.time() == datetime.min.time():
        return moment.date().isoformat()
    return moment.replace(tzinfo=None).isoformat() + "Z"


def _describe_moment(moment: datetime) -> str:
    moment = _as_utc(moment)
    if moment.time() == datetime.min.time():
        return moment.date().isoformat()
    clock = "%H:%M:%S" if moment.second else "%H:%M"
    return f"{moment.date().isoformat()} {moment.strftime(clock)} UTC"


def _describe_span(relative: str, *, drop_one: bool = False) -> str:
    amount, unit = int(relative[:-1]), _UNITS[relative[-1]]
    if amount == 1:
        return unit if drop_one else f"1 {unit}"
    return f"{amount} {unit}s"


def _quoted_if_needed(text: str) -> str:
    plain = (
        text
        and text.lower() not in _BARE_KEYWORDS
        and not any(character.isspace() or character in _QUOTES or character in ":," for character in text)
    )
    return text if plain else f'"{text}"'


def _code(text: str | None, width: int = 40) -> str:
    """User text shown as `code`: backticks would end the span, and long text is cut short."""
    text = (text or "").replace("`", "'")
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f"`{text}`"


def _join(items: Iterable[str], conjunction: str) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _join_or(items: Iterable[str]) -> str:
    return _join(items, "or")
