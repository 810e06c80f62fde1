"""The DoiT Support client against the sandbox over real loopback HTTP.

Every call, paging, each error class, both error bodies, the retry rules (reads retried within a count
and a time budget, a create that reached the server never sent twice) and the API key kept out of
every repr, error message and log record.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import SecretStr

from bot.support.client import RetryPolicy, SupportClient
from bot.support.errors import (
    BadApiKey,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    SupportError,
    SupportHTTPError,
    SupportUnavailable,
    SupportUnreachable,
    TicketNotFound,
    UnreadableAnswer,
)
from bot.support.models import Comment, KeyOwner, NewTicket, Platform, Product, Ticket
from bot.support.sandbox import PLATFORMS, PRODUCTS, Sandbox

API_KEY = "dk-test-3f9c2a7e5b41d08c6a"
"""Distinctive, so that any leak into a message or a log record is found by a plain search."""

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.04, budget=5.0)
ONCE = RetryPolicy(attempts=1, budget=5.0)
TIMEOUT = httpx.Timeout(2.0, connect=1.0)
REQUEST_ID = re.compile(r"sbx-[0-9a-f]{32}")
TICKETS = "/support/v1/tickets"
NEW_TICKET = NewTicket(
    subject="Pods restart every few minutes",
    body="<p>One of our <b>GKE</b> pods keeps restarting &amp; we see no reason.</p>",
    severity="high",
    platform="google_cloud_platform",
    product="containers___kubernetes__google_gke",
    requester="sam.okafor@example.com",
)

_E = TypeVar("_E", bound=SupportError)


@pytest.fixture(autouse=True)
def no_key_in_any_log_record(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test here runs with every logger at DEBUG, and no record may contain the key."""
    caplog.set_level(logging.DEBUG)
    yield
    # In teardown caplog.records holds only this phase's records: read the earlier phases explicitly.
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        text = record.getMessage() + repr(record.args)
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        assert API_KEY not in text, f"the API key leaked into a {record.name} log record"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tickets=25, api_key=API_KEY) as running:
        yield running


def make_client(base_url: str, **options: Any) -> SupportClient:
    options.setdefault("retry", FAST)
    options.setdefault("timeout", TIMEOUT)
    return SupportClient(API_KEY, base_url=base_url, **options)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[SupportClient]:
    with make_client(sandbox.base_url) as support:
        yield support


def expect(error_class: type[_E], call: Callable[[], object]) -> _E:
    """Run ``call``, which must raise exactly ``error_class``; the key is in no part of the error."""
    with pytest.raises(error_class) as caught:
        call()
    error = caught.value
    assert type(error) is error_class
    shown = str(error) + repr(error) + "".join(traceback.format_exception(error))
    assert API_KEY not in shown
    return error


def list_ids(sandbox: Sandbox) -> list[int]:
    return [t["id"] for t in sandbox.tickets()]


def client_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.support.client"]


def closed_port() -> int:
    """A loopback port nothing listens on: bound, then released, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- a scripted server, for answers the sandbox never gives ------------------------------------


@dataclass
class Scripted:
    """A loopback HTTP server answering every request with ``answer(path_with_query)``."""

    answer: Callable[[str], tuple[int, dict[str, str], bytes]]
    paths: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[str], tuple[int, dict[str, str], bytes]]], Scripted]]:
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Callable[[str], tuple[int, dict[str, str], bytes]]) -> Scripted:
        script = Scripted(answer)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                script.paths.append(self.path)
                status, headers, body = script.answer(self.path)
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        script.server = server
        return script

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def json_answer(body: Any, status: int = 200, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


# --- listing ------------------------------------------------------------------------------------


def test_list_tickets_when_no_arguments_then_one_page_newest_first(
    client: SupportClient, sandbox: Sandbox
) -> None:
    page = client.list_tickets()

    assert [t.id for t in page.tickets] == list_ids(sandbox)
    assert page.next_page_token is None
    assert page.row_count == 25
    assert [r.query for r in sandbox.requests_to("GET", TICKETS)] == [{"maxResults": ["100"]}]


def test_list_tickets_when_filter_and_time_range_then_sent_and_applied(
    client: SupportClient, sandbox: Sandbox
) -> None:
    everything = sandbox.tickets()
    low, high = everything[20]["createTime"], everything[3]["createTime"]
    expected = [
        t["id"] for t in everything if t["status"] in ("open", "closed") and low <= t["createTime"] <= high
    ]
    assert expected, "the seed has no ticket in the range; pick other bounds"

    page = client.list_tickets(
        filter="status:open|status:closed", min_creation_ms=low, max_creation_ms=high, page_size=50
    )

    assert [t.id for t in page.tickets] == expected
    assert sandbox.requests_to("GET", TICKETS)[0].query == {
        "maxResults": ["50"],
        "filter": ["status:open|status:closed"],
        "minCreationTime": [str(low)],
        "maxCreationTime": [str(high)],
    }


def test_list_tickets_when_page_size_and_token_then_next_page(
    client: SupportClient, sandbox: Sandbox
) -> None:
    first = client.list_tickets(page_size=10)
    assert first.next_page_token is not None

    second = client.list_tickets(page_size=10, page_token=first.next_page_token)

    ids = list_ids(sandbox)
    assert [t.id for t in first.tickets] == ids[:10]
    assert [t.id for t in second.tickets] == ids[10:20]
    assert second.row_count == 10
    assert sandbox.requests_to("GET", TICKETS)[1].query == {
        "maxResults": ["10"],
        "pageToken": [first.next_page_token],
    }


@pytest.mark.parametrize("size", [0, 101, -5])
def test_list_tickets_when_page_size_out_of_range_then_value_error_and_no_request(
    client: SupportClient, sandbox: Sandbox, size: int
) -> None:
    with pytest.raises(ValueError, match="page_size must be between 1 and 100"):
        client.list_tickets(page_size=size)

    assert sandbox.requests == []


def test_list_tickets_when_tickets_carry_current_fields_then_parsed(
    client: SupportClient, sandbox: Sandbox
) -> None:
    added = sandbox.add_ticket(
        subject="Café & <BigQuery> — 東京",
        severity="urgent",
        status="pending",
        platform="amazon_web_services",
        product="storage__amazon_s3",
        createTime=1_900_000_000_000,
        updateTime=1_900_000_360_000,
        tags=["billing"],
    )

    ticket = client.list_tickets(page_size=1).tickets[0]

    assert ticket.id == added["id"]
    assert ticket.subject == "Café & <BigQuery> — 東京"
    assert (ticket.severity, ticket.status) == ("urgent", "pending")
    assert (ticket.platform, ticket.product) == ("amazon_web_services", "Amazon S3")
    assert ticket.url == added["urlUI"]
    assert ticket.create_time is not None and ticket.update_time is not None
    assert int(ticket.create_time.timestamp() * 1000) == 1_900_000_000_000
    assert int(ticket.update_time.timestamp() * 1000) == 1_900_000_360_000
    assert ticket.tags == ("billing",)
    assert ticket.requester == "dana@example.com"


def test_iter_tickets_when_several_pages_then_every_ticket_exactly_once(
    client: SupportClient, sandbox: Sandbox
) -> None:
    ids = [t.id for t in client.iter_tickets(page_size=10)]

    assert ids == list_ids(sandbox)
    assert len(set(ids)) == 25
    assert len(sandbox.requests_to("GET", TICKETS)) == 3


def test_iter_tickets_when_filter_then_kept_on_every_page(client: SupportClient, sandbox: Sandbox) -> None:
    expected = [t["id"] for t in sandbox.tickets() if t["status"] == "closed"]
    assert len(expected) > 3

    ids = [t.id for t in client.iter_tickets(filter="status:closed", page_size=3)]

    assert ids == expected
    assert {r.query["filter"][0] for r in sandbox.requests_to("GET", TICKETS)} == {"status:closed"}


def test_iter_tickets_when_max_pages_reached_then_stops_and_warns(
    client: SupportClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [t.id for t in client.iter_tickets(page_size=10, max_pages=2)]

    assert ids == list_ids(sandbox)[:20]
    assert len(sandbox.requests_to("GET", TICKETS)) == 2
    assert "Stopped listing DoiT tickets after 2 pages (the cap)" in client_records(caplog)


def test_iter_tickets_when_max_tickets_inside_a_page_then_stops_there(
    client: SupportClient, sandbox: Sandbox
) -> None:
    ids = [t.id for t in client.iter_tickets(page_size=10, max_tickets=15)]

    assert ids == list_ids(sandbox)[:15]
    assert len(sandbox.requests_to("GET", TICKETS)) == 2


def test_iter_tickets_when_max_tickets_fills_a_page_then_no_further_request(
    client: SupportClient, sandbox: Sandbox
) -> None:
    ids = [t.id for t in client.iter_tickets(page_size=10, max_tickets=10)]

    assert ids == list_ids(sandbox)[:10]
    assert len(sandbox.requests_to("GET", TICKETS)) == 1


def test_iter_tickets_when_ticket_created_mid_walk_then_no_ticket_twice(
    client: SupportClient, sandbox: Sandbox
) -> None:
    walk = client.iter_tickets(page_size=10)
    first_page = [next(walk).id for _ in range(10)]
    # Offset paging: the newcomer pushes the last ticket of page 1 onto page 2.
    sandbox.add_ticket(subject="Filed during the walk", createTime=1_900_000_000_000)

    ids = first_page + [t.id for t in walk]

    assert ids == list_ids(sandbox)[1:]
    assert len(ids) == len(set(ids)) == 25


def test_iter_tickets_when_server_repeats_its_token_then_stops(
    scripted: Callable[..., Scripted],
) -> None:
    def answer(path: str) -> tuple[int, dict[str, str], bytes]:
        page = [{"id": 2}, {"id": 1}] if "pageToken" not in path else [{"id": 4}, {"id": 3}]
        return json_answer({"tickets": page, "pageToken": "same-again", "rowCount": 2})

    server = scripted(answer)
    with make_client(server.base_url) as support:
        ids = [t.id for t in support.iter_tickets(page_size=2)]

    assert ids == [2, 1, 4, 3]
    assert len(server.paths) == 2


def test_iter_tickets_when_server_ignores_the_token_then_no_ticket_twice(
    scripted: Callable[..., Scripted],
) -> None:
    # An older deployment ignores maxResults and pageToken: every answer is the same whole list.
    server = scripted(lambda path: json_answer({"tickets": [{"id": 9}, {"id": 8}], "pageToken": "t1"}))
    with make_client(server.base_url) as support:
        ids = [t.id for t in support.iter_tickets(page_size=1)]

    assert ids == [9, 8]
    assert len(server.paths) == 2


# --- the other calls ----------------------------------------------------------------------------


def test_create_ticket_when_accepted_then_201_and_current_field_names_sent(
    client: SupportClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    ticket = client.create_ticket(NEW_TICKET)

    [posted] = sandbox.requests_to("POST", TICKETS)
    assert posted.json == {
        "ticket": {
            "subject": "Pods restart every few minutes",
            "body": "<p>One of our <b>GKE</b> pods keeps restarting &amp; we see no reason.</p>",
            "severity": "high",
            "platform": "google_cloud_platform",
            "product": "containers___kubernetes__google_gke",
            "requester": "sam.okafor@example.com",
        }
    }
    stored = sandbox.ticket(ticket.id)
    assert ticket == Ticket(
        id=stored["id"],
        subject="Pods restart every few minutes",
        severity="high",
        status="new",
        requester="sam.okafor@example.com",
        platform="google_cloud_platform",
        product="Google Kubernetes Engine (GKE)",
        url=f"https://app.doit.com/customers/sandboxCustomer01/support/tickets/{stored['id']}",
        create_time=ticket.create_time,
    )
    assert ticket.create_time is not None
    assert int(ticket.create_time.timestamp() * 1000) == stored["createTime"]
    assert any(m.startswith("DoiT POST /support/v1/tickets -> 201 in ") for m in client_records(caplog))


def test_create_ticket_when_requester_none_then_key_left_out() -> None:
    with Sandbox(tickets=0, api_key=API_KEY, requester_policy="personal") as personal:
        with make_client(personal.base_url) as support:
            ticket = support.create_ticket(NEW_TICKET.model_copy(update={"requester": None}))

        [posted] = personal.requests_to("POST", TICKETS)
    assert "requester" not in posted.json["ticket"]
    assert sorted(posted.json["ticket"]) == ["body", "platform", "product", "severity", "subject"]
    assert ticket.requester == "dana@example.com"


def test_create_ticket_when_body_rejected_then_api_message(client: SupportClient, sandbox: Sandbox) -> None:
    bad = NEW_TICKET.model_copy(update={"platform": "Google Cloud"})

    error = expect(RequestRejected, lambda: client.create_ticket(bad))

    assert error.message == (
        "Invalid platform 'Google Cloud': expected a platform id; "
        "'Google Cloud' is a display name, send its id google_cloud_platform"
    )
    assert len(sandbox.requests_to("POST", TICKETS)) == 1


def test_get_ticket_when_exists_then_detail_fields(client: SupportClient, sandbox: Sandbox) -> None:
    stored = sandbox.tickets()[4]

    ticket = client.get_ticket(stored["id"])

    assert ticket.id == stored["id"]
    assert ticket.subject == stored["subject"]
    assert ticket.description == stored["description"]
    assert ticket.platform_info == stored["platform_info"]
    assert (ticket.status, ticket.severity) == (stored["status"], stored["severity"])
    assert ticket.product == stored["product"]
    assert ticket.is_public is stored["is_public"]
    assert ticket.tags == tuple(stored["tags"])


def test_mark_solved_when_open_then_patch_body_and_status(client: SupportClient, sandbox: Sandbox) -> None:
    ticket_id = sandbox.add_ticket(status="open")["id"]

    status = client.mark_solved(ticket_id)

    assert status == "solved"
    [patch] = sandbox.requests_to("PATCH", f"{TICKETS}/{ticket_id}")
    assert patch.json == {"status": "solved"}
    assert sandbox.ticket(ticket_id)["status"] == "solved"


def test_mark_solved_when_closed_then_rejected_with_api_message(
    client: SupportClient, sandbox: Sandbox
) -> None:
    ticket_id = sandbox.add_ticket(status="closed")["id"]

    error = expect(RequestRejected, lambda: client.mark_solved(ticket_id))

    assert error.message == f"Ticket {ticket_id} is closed and can no longer be updated"


def test_list_comments_when_ticket_has_some_then_all_in_order(
    client: SupportClient, sandbox: Sandbox
) -> None:
    stored = next(t for t in sandbox.tickets() if len(sandbox.comments(t["id"])) >= 2)

    comments = client.list_comments(stored["id"])

    assert comments == [Comment.model_validate(c) for c in sandbox.comments(stored["id"])]
    assert [c.body for c in comments] == [c["body"] for c in sandbox.comments(stored["id"])]


def test_add_comment_when_open_then_201_and_body_sent(client: SupportClient, sandbox: Sandbox) -> None:
    ticket_id = sandbox.add_ticket(status="open")["id"]

    comment = client.add_comment(ticket_id, "Here are the logs <b>&</b> the graphs")

    [posted] = sandbox.requests_to("POST", f"{TICKETS}/{ticket_id}/comments")
    assert posted.json == {"body": "Here are the logs <b>&</b> the graphs"}
    assert comment.body == "Here are the logs <b>&</b> the graphs"
    assert comment.author == "dana@example.com"
    assert comment.id == sandbox.comments(ticket_id)[-1]["id"]


def test_list_platforms_when_called_then_catalog_ids_and_names(client: SupportClient) -> None:
    assert client.list_platforms() == [Platform(id=p, display_name=name) for p, name in PLATFORMS.items()]


def test_list_products_when_platform_then_its_products(client: SupportClient, sandbox: Sandbox) -> None:
    products = client.list_products("amazon_web_services")

    assert products == [
        Product(id=product_id, display_name=name, platform="amazon_web_services")
        for product_id, name in PRODUCTS["amazon_web_services"]
    ]
    assert sandbox.requests_to("GET", "/support/v1/metadata/products")[0].query == {
        "platform": ["amazon_web_services"]
    }


def test_list_products_when_unknown_platform_then_rejected(client: SupportClient) -> None:
    error = expect(RequestRejected, lambda: client.list_products("Google Cloud"))

    assert error.message == "Invalid platform 'Google Cloud': expected a platform id"


def test_validate_key_when_valid_then_owner(client: SupportClient) -> None:
    assert client.validate_key() == KeyOwner(domain="example.com", email="dana@example.com")


def test_client_when_key_is_secret_str_then_sent_as_bearer(sandbox: Sandbox) -> None:
    with SupportClient(SecretStr(API_KEY), base_url=sandbox.base_url + "/", retry=ONCE) as support:
        assert support.validate_key().email == "dana@example.com"
        assert repr(support) == f"SupportClient(base_url={sandbox.base_url!r})"


# --- error classes ------------------------------------------------------------------------------


def test_wrong_key_when_any_call_then_bad_api_key(sandbox: Sandbox) -> None:
    with SupportClient("not-the-key", base_url=sandbox.base_url, retry=FAST) as wrong:
        error = expect(BadApiKey, wrong.validate_key)

    assert (error.status_code, error.message) == (401, "Invalid API key")
    assert REQUEST_ID.fullmatch(error.request_id or "")
    assert len(sandbox.requests) == 1


@pytest.mark.parametrize(
    ("status", "error_class", "message"),
    [
        (400, RequestRejected, "Bad Request"),
        (403, PermissionDenied, "Forbidden"),
        (404, TicketNotFound, "Not Found"),
        (429, RateLimited, "Too many requests, slow down"),
        (502, SupportUnavailable, "The upstream ticket system returned an error that a retry will not fix"),
        (503, SupportUnavailable, "The upstream support system is temporarily unavailable"),
        (504, SupportUnavailable, "The upstream support system did not answer in time"),
        (500, SupportUnavailable, "Internal Server Error"),
        (409, RequestRejected, "Conflict"),
    ],
)
def test_injected_status_when_read_then_error_class_status_and_message(
    client: SupportClient, sandbox: Sandbox, status: int, error_class: type[SupportHTTPError], message: str
) -> None:
    sandbox.inject(status=status, times=-1)

    error = expect(error_class, client.validate_key)

    assert (error.status_code, error.message, error.code) == (status, message, None)
    assert REQUEST_ID.fullmatch(error.request_id or "")


def test_unknown_ticket_when_get_then_not_found_with_api_message(client: SupportClient) -> None:
    error = expect(TicketNotFound, lambda: client.get_ticket(1))

    assert (error.status_code, error.message) == (404, "Ticket 1 not found")


@pytest.mark.parametrize(
    ("filter_text", "message"),
    [
        ("x:1", "Invalid filter key: x"),
        (
            "status:new|status:open|severity:high|severity:low",
            "Filter has more than one key that repeats more than once",
        ),
    ],
)
def test_bad_filter_when_listing_then_rejected_once_with_api_message(
    client: SupportClient, sandbox: Sandbox, filter_text: str, message: str
) -> None:
    error = expect(RequestRejected, lambda: client.list_tickets(filter=filter_text))

    assert (error.status_code, error.message, error.code) == (400, message, None)
    assert str(error) == f"{message} (request id {error.request_id})"
    assert len(sandbox.requests_to("GET", TICKETS)) == 1


def test_problem_json_when_error_then_detail_and_code(client: SupportClient, sandbox: Sandbox) -> None:
    sandbox.inject(status=503, problem_json=True, times=-1)

    error = expect(SupportUnavailable, client.list_platforms)

    assert error.message == "The upstream support system is temporarily unavailable"
    assert error.code == "upstream_unavailable"
    assert REQUEST_ID.fullmatch(error.request_id or "")


def test_problem_json_when_rejected_then_detail_and_code(client: SupportClient, sandbox: Sandbox) -> None:
    sandbox.inject(status=403, problem_json=True, message="The key may not read tickets of this tenant")

    error = expect(PermissionDenied, client.validate_key)

    assert (error.message, error.code) == ("The key may not read tickets of this tenant", "permission_denied")


def test_request_id_when_error_then_on_the_error_and_in_the_log_line(
    client: SupportClient, caplog: pytest.LogCaptureFixture
) -> None:
    error = expect(TicketNotFound, lambda: client.get_ticket(7))

    assert error.request_id is not None
    matching = [m for m in client_records(caplog) if error.request_id in m]
    assert len(matching) == 1
    assert re.fullmatch(
        rf"DoiT GET /support/v1/tickets/7 -> 404 in \d+ ms \(request id {error.request_id}\)", matching[0]
    )


def test_error_body_when_html_then_status_and_reason(scripted: Callable[..., Scripted]) -> None:
    server = scripted(
        lambda path: (502, {"Content-Type": "text/html"}, b"<html><body>Bad gateway</body></html>")
    )
    with make_client(server.base_url, retry=ONCE) as support:
        error = expect(SupportUnavailable, support.validate_key)

    assert (error.status_code, error.message, error.request_id) == (
        502,
        "DoiT answered 502 Bad Gateway",
        None,
    )


def test_error_body_when_nested_error_object_then_its_message_and_code(
    scripted: Callable[..., Scripted],
) -> None:
    body = {"error": {"message": "pageToken expired", "code": "invalid_page_token"}}
    server = scripted(lambda path: json_answer(body, 400, **{"Request-Id": "req-42"}))
    with make_client(server.base_url) as support:
        error = expect(RequestRejected, support.list_tickets)

    assert (error.message, error.code, error.request_id) == (
        "pageToken expired",
        "invalid_page_token",
        "req-42",
    )
    assert str(error) == "pageToken expired (request id req-42)"


def test_success_body_when_not_json_then_unreadable_answer(scripted: Callable[..., Scripted]) -> None:
    server = scripted(lambda path: (200, {"Content-Type": "text/plain"}, b"hello"))
    with make_client(server.base_url) as support:
        error = expect(UnreadableAnswer, support.validate_key)

    assert error.message == "DoiT answered 200 with something that is not JSON"


def test_success_body_when_wrong_shape_then_unreadable_answer(scripted: Callable[..., Scripted]) -> None:
    server = scripted(lambda path: json_answer({"tickets": "not a list"}))
    with make_client(server.base_url) as support:
        error = expect(UnreadableAnswer, support.list_tickets)

    assert error.message == "DoiT sent a TicketPage this client cannot read (1 problems)"


def test_page_with_one_unreadable_ticket_keeps_the_others(
    scripted: Callable[..., Scripted], caplog: pytest.LogCaptureFixture
) -> None:
    server = scripted(
        lambda path: json_answer({"tickets": [{"subject": "no id"}, {"id": 7, "subject": "ok"}]})
    )
    with make_client(server.base_url) as support:
        page = support.list_tickets()

    assert [ticket.id for ticket in page.tickets] == [7]
    assert any("Leaving out a ticket" in record.getMessage() for record in caplog.records)


def test_closed_port_when_read_then_unreachable_after_retries() -> None:
    port = closed_port()
    with make_client(f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=2, base_delay=0.01)) as support:
        error = expect(SupportUnreachable, support.validate_key)

    assert error.message == f"Could not connect to DoiT at http://127.0.0.1:{port}"
    assert isinstance(error.__cause__, httpx.ConnectError)


def test_dropped_connection_when_read_then_retried_and_answered(
    client: SupportClient, sandbox: Sandbox
) -> None:
    sandbox.inject(drop_connection=True, times=1)

    assert client.validate_key().email == "dana@example.com"
    assert len(sandbox.requests_to("GET", "/auth/v1/validate")) == 2


def test_dropped_connection_when_every_read_then_unreachable(client: SupportClient, sandbox: Sandbox) -> None:
    sandbox.inject(drop_connection=True, times=-1)

    error = expect(SupportUnreachable, client.validate_key)

    assert error.message == "The connection to DoiT failed during GET /auth/v1/validate"
    assert len(sandbox.requests_to("GET", "/auth/v1/validate")) == FAST.attempts


def test_slow_answer_when_read_then_timed_out_and_retried(sandbox: Sandbox) -> None:
    sandbox.inject(latency=0.5, times=1)
    with make_client(sandbox.base_url, timeout=httpx.Timeout(0.15)) as support:
        started = time.monotonic()
        owner = support.validate_key()
        elapsed = time.monotonic() - started

    # Two requests prove the first was given up on: waiting out the 0.5 s would have got an answer.
    assert owner.email == "dana@example.com"
    assert len(sandbox.requests_to("GET", "/auth/v1/validate")) == 2
    assert elapsed >= 0.15


def test_slow_answer_when_every_read_then_unreachable(sandbox: Sandbox) -> None:
    sandbox.inject(latency=0.5, times=-1)
    policy = RetryPolicy(attempts=2, base_delay=0.01)
    with make_client(sandbox.base_url, timeout=httpx.Timeout(0.15), retry=policy) as support:
        error = expect(SupportUnreachable, support.validate_key)

    assert error.message == "DoiT did not answer GET /auth/v1/validate in time"
    assert isinstance(error.__cause__, httpx.ReadTimeout)
    assert len(sandbox.requests_to("GET", "/auth/v1/validate")) == 2


# --- retries ------------------------------------------------------------------------------------


def test_503_with_retry_after_when_read_then_waits_that_long_and_succeeds(
    client: SupportClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.inject(status=503, retry_after=0.3, times=1)

    started = time.monotonic()
    platforms = client.list_platforms()
    elapsed = time.monotonic() - started

    assert len(platforms) == len(PLATFORMS)
    assert 0.3 <= elapsed < 1.0
    assert len(sandbox.requests_to("GET", "/support/v1/metadata/platforms")) == 2
    retried = [m for m in client_records(caplog) if m.startswith("Retrying")]
    assert len(retried) == 1
    assert retried[0].startswith(
        "Retrying DoiT GET /support/v1/metadata/platforms in 0.30 s after: "
        "The upstream support system is temporarily unavailable (request id sbx-"
    )


@dataclass(frozen=True)
class RecordingPolicy(RetryPolicy):
    """Backoff as usual, noting each (retry number, delay) it hands out."""

    handed_out: list[tuple[int, float]] = field(default_factory=list)

    def backoff(self, attempt: int) -> float:
        delay = super().backoff(attempt)
        self.handed_out.append((attempt, delay))
        return delay


def test_429_without_retry_after_when_read_then_exponential_backoff(sandbox: Sandbox) -> None:
    sandbox.inject(status=429, times=2)
    policy = RecordingPolicy(attempts=4, base_delay=0.05, max_delay=1.0)
    with make_client(sandbox.base_url, retry=policy) as support:
        started = time.monotonic()
        support.validate_key()
        elapsed = time.monotonic() - started

    assert [attempt for attempt, _ in policy.handed_out] == [0, 1]
    (_, first), (_, second) = policy.handed_out
    assert 0.025 <= first <= 0.05
    assert 0.05 <= second <= 0.1
    assert elapsed >= first + second
    assert len(sandbox.requests_to("GET", "/auth/v1/validate")) == 3


def test_429_with_retry_after_when_read_then_retry_after_not_backoff(sandbox: Sandbox) -> None:
    sandbox.inject(status=429, retry_after=0.1, times=1)
    policy = RecordingPolicy(attempts=4, base_delay=0.05)
    with make_client(sandbox.base_url, retry=policy) as support:
        support.validate_key()

    assert policy.handed_out == []
    assert len(sandbox.requests) == 2


def test_backoff_when_attempts_grow_then_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0, 4.0]):
        delays = [policy.backoff(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempt
        assert len(set(delays)) > 1  # jittered


def test_unavailable_when_persistent_then_bounded_by_attempts(sandbox: Sandbox) -> None:
    sandbox.inject(status=503, times=-1)
    with make_client(sandbox.base_url, retry=RetryPolicy(attempts=3, base_delay=0.01)) as support:
        expect(SupportUnavailable, support.validate_key)

    assert len(sandbox.requests_to("GET", "/auth/v1/validate")) == 3


def test_unavailable_when_persistent_then_bounded_by_budget(client: SupportClient, sandbox: Sandbox) -> None:
    sandbox.inject(status=503, retry_after=0.3, times=-1)

    started = time.monotonic()
    error = expect(SupportUnavailable, lambda: client.validate_key(budget=0.5))
    elapsed = time.monotonic() - started

    # First answer at ~0, wait 0.3, second at ~0.3; a third would start at ~0.6, past the budget.
    assert len(sandbox.requests_to("GET", "/auth/v1/validate")) == 2
    assert 0.3 <= elapsed < 0.6  # a second wait would have made it at least 0.6
    assert error.retry_after == 0.3


def test_retry_after_when_longer_than_budget_then_gives_up_at_once(
    client: SupportClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.inject(status=503, retry_after=5, times=-1)

    started = time.monotonic()
    error = expect(SupportUnavailable, lambda: client.validate_key(budget=1.0))

    assert time.monotonic() - started < 0.5
    assert error.retry_after == 5.0
    assert len(sandbox.requests) == 1
    assert any(
        m.startswith("DoiT GET /auth/v1/validate failed after 1 attempt(s): ") for m in client_records(caplog)
    )


def test_default_budget_when_call_passes_none_then_policy_budget(sandbox: Sandbox) -> None:
    sandbox.inject(status=503, retry_after=0.5, times=-1)
    with make_client(sandbox.base_url, retry=RetryPolicy(attempts=9, budget=0.2)) as support:
        expect(SupportUnavailable, support.validate_key)

    assert len(sandbox.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_other_4xx_when_read_then_not_retried(client: SupportClient, sandbox: Sandbox, status: int) -> None:
    sandbox.inject(status=status, times=-1)

    with pytest.raises(SupportHTTPError) as caught:
        client.validate_key()

    assert caught.value.status_code == status
    assert API_KEY not in str(caught.value)
    assert len(sandbox.requests) == 1


def test_patch_when_503_then_retried_because_setting_solved_twice_is_harmless(
    client: SupportClient, sandbox: Sandbox
) -> None:
    ticket_id = sandbox.add_ticket(status="open")["id"]
    sandbox.inject(status=503, method="PATCH", times=1)

    assert client.mark_solved(ticket_id) == "solved"
    assert len(sandbox.requests_to("PATCH", f"{TICKETS}/{ticket_id}")) == 2


# --- a create is never repeated once it may have reached DoiT ------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class"), [(503, SupportUnavailable), (429, RateLimited), (504, SupportUnavailable)]
)
def test_create_when_retryable_status_then_exactly_one_post(
    client: SupportClient, sandbox: Sandbox, status: int, error_class: type[SupportHTTPError]
) -> None:
    sandbox.inject(status=status, retry_after=0.01, method="POST", times=-1)
    before = len(sandbox.tickets())

    expect(error_class, lambda: client.create_ticket(NEW_TICKET))

    assert len(sandbox.requests_to("POST", TICKETS)) == 1
    assert len(sandbox.tickets()) == before


def test_create_when_answer_too_slow_then_unreachable_maybe_applied_and_one_post(sandbox: Sandbox) -> None:
    sandbox.inject(latency=0.5, method="POST", times=-1)
    with make_client(sandbox.base_url, timeout=httpx.Timeout(0.15)) as support:
        error = expect(SupportUnreachable, lambda: support.create_ticket(NEW_TICKET))

    assert error.message == (
        "DoiT did not answer POST /support/v1/tickets in time; it may or may not have been applied"
    )
    assert isinstance(error.__cause__, httpx.ReadTimeout)
    assert len(sandbox.requests_to("POST", TICKETS)) == 1


def test_create_when_connection_dropped_then_unreachable_maybe_applied_and_one_post(
    client: SupportClient, sandbox: Sandbox
) -> None:
    sandbox.inject(drop_connection=True, method="POST", times=-1)

    error = expect(SupportUnreachable, lambda: client.create_ticket(NEW_TICKET))

    assert error.message == (
        "The connection to DoiT failed during POST /support/v1/tickets; it may or may not have been applied"
    )
    assert len(sandbox.requests_to("POST", TICKETS)) == 1


def test_add_comment_when_503_then_exactly_one_post(client: SupportClient, sandbox: Sandbox) -> None:
    ticket_id = sandbox.add_ticket(status="open")["id"]
    sandbox.inject(status=503, method="POST", times=-1)

    expect(SupportUnavailable, lambda: client.add_comment(ticket_id, "ping"))

    assert len(sandbox.requests_to("POST", f"{TICKETS}/{ticket_id}/comments")) == 1
    assert sandbox.comments(ticket_id) == []


class RefusesFirstConnection(httpx.BaseTransport):
    """Fails the first request with ConnectError, then sends every request for real.

    The one place a transport stands in for the network: a loopback port cannot refuse one connection
    and accept the next without a race, and the retry has to land on the running sandbox. Only the
    refused attempt is simulated; the create that succeeds is real HTTP to the sandbox.
    """

    def __init__(self) -> None:
        self.attempts = 0
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.attempts == 1:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def test_create_when_connection_refused_then_retried_and_filed_once(sandbox: Sandbox) -> None:
    transport = RefusesFirstConnection()
    with make_client(sandbox.base_url, transport=transport) as support:
        ticket = support.create_ticket(NEW_TICKET)

    assert transport.attempts == 2
    assert len(sandbox.requests_to("POST", TICKETS)) == 1
    assert sandbox.ticket(ticket.id)["subject"] == "Pods restart every few minutes"


def test_create_when_port_closed_then_unreachable_after_retries() -> None:
    port = closed_port()
    with make_client(f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=2, base_delay=0.01)) as support:
        error = expect(SupportUnreachable, lambda: support.create_ticket(NEW_TICKET))

    assert error.message == f"Could not connect to DoiT at http://127.0.0.1:{port}"


# --- tenants ------------------------------------------------------------------------------------


@pytest.fixture
def multi_tenant() -> Iterator[Sandbox]:
    with Sandbox(tickets=3, api_key=API_KEY, tenants=frozenset({"custA", "custB"})) as running:
        yield running


def test_tenant_id_when_set_then_sent_as_x_tenant_id(multi_tenant: Sandbox) -> None:
    with make_client(multi_tenant.base_url, tenant_id="custB") as support:
        support.validate_key()
        support.list_tickets()

    assert [r.headers.get("x-tenant-id") for r in multi_tenant.requests] == ["custB", "custB"]


def test_tenant_id_when_missing_for_multi_tenant_key_then_rejected_with_code(multi_tenant: Sandbox) -> None:
    with make_client(multi_tenant.base_url) as support:
        error = expect(RequestRejected, support.validate_key)

    assert error.code == "tenant_id_required"
    assert error.message == "This API key can access several customers; send the X-Tenant-Id header"
    assert multi_tenant.requests[0].headers.get("x-tenant-id") is None


def test_tenant_id_when_wrong_then_rejected_with_code(multi_tenant: Sandbox) -> None:
    with make_client(multi_tenant.base_url, tenant_id="custZ") as support:
        error = expect(RequestRejected, support.validate_key)

    assert (error.code, error.message) == (
        "tenant_id_mismatch",
        "X-Tenant-Id 'custZ' is not a tenant of this API key",
    )


def test_tenant_id_when_unset_then_header_not_sent(client: SupportClient, sandbox: Sandbox) -> None:
    client.validate_key()

    assert "x-tenant-id" not in sandbox.requests[0].headers
    assert sandbox.requests[0].headers.get("user-agent") == "doit-slack"


# --- the key stays secret -------------------------------------------------------------------------


def test_repr_when_client_built_then_no_key(client: SupportClient, sandbox: Sandbox) -> None:
    assert repr(client) == f"SupportClient(base_url={sandbox.base_url!r})"
    assert API_KEY not in repr(client) + str(client)


def test_log_check_when_a_call_is_made_then_debug_records_of_every_layer_are_searched(
    client: SupportClient, caplog: pytest.LogCaptureFixture
) -> None:
    client.validate_key()

    names = {r.name for r in caplog.get_records("call")}
    assert {"bot.support.client", "httpx", "httpcore.http11", "bot.support.sandbox"} <= names


def test_error_message_echoing_the_key_is_redacted(sandbox: Sandbox, client: SupportClient) -> None:
    sandbox.inject(status=400, message=f"Bad header Authorization: Bearer {API_KEY}", path_prefix=TICKETS)
    error = expect(RequestRejected, client.list_tickets)
    assert error.message == "Bad header Authorization: Bearer [redacted]"
