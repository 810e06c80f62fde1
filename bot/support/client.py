"""A synchronous client for DoiT's Support API.

One pooled ``httpx.Client`` per :class:`SupportClient`, explicit timeouts, and retries that know the
difference between reading and writing:

* reads (GET) retry 429, 502, 503, 504 and connection failures with exponential backoff and jitter,
  honouring ``Retry-After``, bounded both by a number of attempts and by a time budget the caller
  passes (a Slack interaction can afford about 2 s, the background watcher much more);
* writes are retried only when the request provably never left this machine (the connection could
  not be opened). A create that reached DoiT is never sent again: a second POST is a second ticket.

The API key lives only in the pooled client's default headers; it is never logged, and no exception
or repr built here contains it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from bot.support.errors import (
    SupportError,
    SupportHTTPError,
    SupportUnreachable,
    UnreadableAnswer,
    error_class_for,
)
from bot.support.models import (
    Comment,
    KeyOwner,
    NewTicket,
    Platform,
    Product,
    Ticket,
    TicketPage,
)

logger = logging.getLogger(__name__)

_Model = TypeVar("_Model", bound=BaseModel)

DEFAULT_BASE_URL = "https://api.doit.com"
PAGE_SIZE_MAX = 100
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
INTERACTIVE_BUDGET = 2.0
"""Seconds a Slack interaction can spend on DoiT, retries included, and still answer in time."""
BACKGROUND_BUDGET = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """How reads are retried. ``budget`` is the default when a call passes none."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    budget: float = BACKGROUND_BUDGET

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the given 0-based retry number."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)


class SupportClient:
    """DoiT Support API calls. Thread-safe: httpx's client and its pool may be shared."""

    def __init__(
        self,
        api_key: SecretStr | str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        tenant_id: str | None = None,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = "doit-slack",
    ) -> None:
        secret = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key

        def scrub(text: str) -> str:
            # A server or proxy that echoes the Authorization header must not put the key into an
            # error message, which may reach Slack.
            # Only a real key's length: a one-letter test key would blank every "k" in the text.
            return text.replace(secret, "[redacted]") if len(secret) >= 8 else text

        self._secret_scrubber = scrub
        headers = {
            "Authorization": f"Bearer {secret}",
            "Accept": "application/json",
            "User-Agent": user_agent,
        }
        if tenant_id:
            headers["X-Tenant-Id"] = tenant_id
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._timeout = timeout or httpx.Timeout(10.0, connect=3.0)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=self._timeout,
            transport=transport,
            # As many connections as listeners may call at once: a request queued for a free
            # connection would spend the caller's time budget waiting and then time out late.
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    def __repr__(self) -> str:
        return f"SupportClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SupportClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- tickets ---------------------------------------------------------------------------------

    def list_tickets(
        self,
        *,
        filter: str | None = None,
        min_creation_ms: int | None = None,
        max_creation_ms: int | None = None,
        page_size: int = PAGE_SIZE_MAX,
        page_token: str | None = None,
        budget: float | None = None,
    ) -> TicketPage:
        """One page of tickets, newest first."""
        if not 1 <= page_size <= PAGE_SIZE_MAX:
            raise ValueError(f"page_size must be between 1 and {PAGE_SIZE_MAX}")
        params: dict[str, str] = {"maxResults": str(page_size)}
        if filter:
            params["filter"] = filter
        if min_creation_ms is not None:
            params["minCreationTime"] = str(min_creation_ms)
        if max_creation_ms is not None:
            params["maxCreationTime"] = str(max_creation_ms)
        if page_token:
            params["pageToken"] = page_token
        data = self._request("GET", "/support/v1/tickets", params=params, budget=budget)
        return _parse(TicketPage, data)

    def iter_tickets(
        self,
        *,
        filter: str | None = None,
        min_creation_ms: int | None = None,
        max_creation_ms: int | None = None,
        page_size: int = PAGE_SIZE_MAX,
        max_pages: int = 50,
        max_tickets: int | None = None,
        budget: float | None = None,
    ) -> Iterator[Ticket]:
        """Every ticket across pages, stopping at ``max_pages`` pages or ``max_tickets`` tickets.

        The caps matter: older deployments ignore ``maxResults`` and return everything at once, and a
        server that kept handing out the same token would otherwise loop forever.
        """
        token: str | None = None
        seen_tokens: set[str] = set()
        # Offset paging moves a ticket onto the next page when one is filed mid-walk, and an old
        # deployment that ignores the token sends the same page again: yield each id once.
        yielded: set[int] = set()
        for _ in range(max_pages):
            if max_tickets is not None and len(yielded) >= max_tickets:
                return  # the cap was met exactly at a page's end: the next page is not needed
            page = self.list_tickets(
                filter=filter,
                min_creation_ms=min_creation_ms,
                max_creation_ms=max_creation_ms,
                page_size=page_size,
                page_token=token,
                budget=budget,
            )
            for ticket in page.tickets:
                if ticket.id in yielded:
                    continue
                if max_tickets is not None and len(yielded) >= max_tickets:
                    return
                yielded.add(ticket.id)
                yield ticket
            token = page.next_page_token
            if not token or token in seen_tokens:
                return
            seen_tokens.add(token)
        logger.warning("Stopped listing DoiT tickets after %d pages (the cap)", max_pages)

    def create_ticket(
        self, ticket: NewTicket, *, budget: float | None = None, retry_window: float | None = None
    ) -> Ticket:
        """File a ticket. Never repeated once the request may have reached DoiT.

        ``budget`` bounds the whole call (DoiT may take a while to file); ``retry_window`` bounds
        only the time spent retrying connections that could not be opened, so a person hears
        that DoiT is down soon even when a slow create is allowed.
        """
        data = self._request(
            "POST",
            "/support/v1/tickets",
            json=ticket.to_api(),
            budget=budget,
            idempotent=False,
            retry_window=retry_window,
        )
        return _parse(Ticket, data)

    def get_ticket(self, ticket_id: int, *, budget: float | None = None) -> Ticket:
        return _parse(Ticket, self._request("GET", f"/support/v1/tickets/{int(ticket_id)}", budget=budget))

    def mark_solved(self, ticket_id: int, *, budget: float | None = None) -> str:
        """Set the ticket's status to solved (the only change customers may make); returns the status."""
        data = self._request(
            "PATCH",
            f"/support/v1/tickets/{int(ticket_id)}",
            json={"status": "solved"},
            budget=budget,
            idempotent=True,  # setting the same status twice changes nothing
        )
        return str(data.get("status") or "solved") if isinstance(data, dict) else "solved"

    def list_comments(self, ticket_id: int, *, budget: float | None = None) -> list[Comment]:
        data = self._request("GET", f"/support/v1/tickets/{int(ticket_id)}/comments", budget=budget)
        return [_parse(Comment, item) for item in _items(data, "comments")]

    def add_comment(self, ticket_id: int, body: str, *, budget: float | None = None) -> Comment:
        data = self._request(
            "POST",
            f"/support/v1/tickets/{int(ticket_id)}/comments",
            json={"body": body},
            budget=budget,
            idempotent=False,
        )
        return _parse(Comment, data)

    # -- catalogs and the key ----------------------------------------------------------------------

    def list_platforms(self, *, budget: float | None = None) -> list[Platform]:
        data = self._request("GET", "/support/v1/metadata/platforms", budget=budget)
        return [_parse(Platform, item) for item in _items(data, "platforms")]

    def list_products(self, platform_id: str, *, budget: float | None = None) -> list[Product]:
        data = self._request(
            "GET", "/support/v1/metadata/products", params={"platform": platform_id}, budget=budget
        )
        return [_parse(Product, item) for item in _items(data, "products")]

    def validate_key(self, *, budget: float | None = None) -> KeyOwner:
        """Who the key belongs to; raises :class:`BadApiKey` when DoiT refuses it."""
        return _parse(KeyOwner, self._request("GET", "/auth/v1/validate", budget=budget))

    # -- transport ---------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        budget: float | None = None,
        idempotent: bool | None = None,
        retry_window: float | None = None,
    ) -> Any:
        if idempotent is None:
            idempotent = method == "GET"
        deadline = time.monotonic() + (self.retry.budget if budget is None else budget)
        retry_deadline = deadline if retry_window is None else min(deadline, time.monotonic() + retry_window)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self._http.request(
                    method, path, params=params, json=json, timeout=self._timeout_until(deadline)
                )
            except httpx.ConnectError as exc:
                # The connection never opened, so nothing reached DoiT: safe to retry even a create.
                error: SupportError = SupportUnreachable(f"Could not connect to DoiT at {self.base_url}")
                cause: Exception = exc
            except httpx.TimeoutException as exc:
                error = SupportUnreachable(f"DoiT did not answer {method} {path} in time")
                cause = exc
                if not idempotent and not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                    raise SupportUnreachable(
                        f"DoiT did not answer {method} {path} in time; it may or may not have been applied",
                        maybe_applied=True,
                    ) from exc
            except httpx.TransportError as exc:
                error = SupportUnreachable(f"The connection to DoiT failed during {method} {path}")
                cause = exc
                if not idempotent:
                    raise SupportUnreachable(
                        f"The connection to DoiT failed during {method} {path}; "
                        "it may or may not have been applied",
                        maybe_applied=True,
                    ) from exc
            else:
                elapsed_ms = (time.monotonic() - started) * 1000
                request_id = response.headers.get("Request-Id")
                logger.info(
                    "DoiT %s %s -> %d in %.0f ms (request id %s)",
                    method,
                    path,
                    response.status_code,
                    elapsed_ms,
                    request_id or "-",
                )
                if response.is_success:
                    return _json_or_none(response)
                error = _error_from(response, self._secret_scrubber)
                cause = None
                if not idempotent or response.status_code not in RETRYABLE_STATUSES:
                    raise error
            delay = self._retry_delay(error, attempt)
            attempt += 1
            if attempt >= self.retry.attempts or time.monotonic() + delay >= retry_deadline:
                logger.warning("DoiT %s %s failed after %d attempt(s): %s", method, path, attempt, error)
                raise error from cause
            logger.info("Retrying DoiT %s %s in %.2f s after: %s", method, path, delay, error)
            time.sleep(delay)

    def _timeout_until(self, deadline: float) -> httpx.Timeout:
        # One slow attempt must not outlive the caller's budget; keep a floor so a near-spent
        # budget still gets one honest try rather than an instant timeout.
        remaining = max(0.5, deadline - time.monotonic())
        read = min(self._timeout.read or remaining, remaining)
        connect = min(self._timeout.connect or remaining, remaining)
        return httpx.Timeout(read, connect=connect, write=read, pool=connect)

    def _retry_delay(self, error: SupportError, attempt: int) -> float:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return retry_after
        return self.retry.backoff(attempt)


def _parse(model: type[_Model], data: Any) -> _Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = exc.error_count()
        message = f"DoiT sent a {model.__name__} this client cannot read ({problems} problems)"
        raise UnreadableAnswer(message) from exc


def _items(data: Any, key: str) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return data[key]
    raise UnreadableAnswer(f"DoiT's answer has no {key!r} list")


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise UnreadableAnswer(
            f"DoiT answered {response.status_code} with something that is not JSON"
        ) from exc


def _error_from(response: httpx.Response, scrub: Callable[[str], str]) -> SupportHTTPError:
    """Map an error response to the tree, keeping DoiT's own message, code and request id."""
    message, code = _error_message(response)
    message = scrub(message)
    error_class = error_class_for(response.status_code)
    return error_class(
        message,
        status_code=response.status_code,
        request_id=response.headers.get("Request-Id"),
        code=code,
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )


def _error_message(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        # Support endpoints send {"error": "..."}; newer ones RFC 9457 problem+json.
        message = body.get("error") or body.get("detail") or body.get("title") or body.get("message")
        code = body.get("code")
        if isinstance(message, dict):  # some gateways nest {"error": {"message": ...}}
            code = code or message.get("code")
            message = message.get("message")
        if message:
            return str(message)[:500], str(code) if code else None
    text = response.text.strip()
    if text and "<html" not in text[:200].lower():
        return text[:200], None
    return f"DoiT answered {response.status_code} {response.reason_phrase}".strip(), None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header; HTTP dates are rare here and treated as absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
