"""The DoiT sandbox over real loopback HTTP: auth, every endpoint, filters, paging, faults, controls."""

from __future__ import annotations

import base64
import collections
import json
import logging
import os
import re
import signal
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.support.sandbox import CUSTOMER_ID, DEFAULT_API_KEY, PLATFORMS, Sandbox, serve

NOW = 1_780_000_000.0
NOW_MS = int(NOW * 1000)
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
MISSING_KEY = "Missing API key: send the header 'Authorization: Bearer <API key>'"
LIST_ITEM_FIELDS = {
    "id",
    "subject",
    "severity",
    "status",
    "requester",
    "platform",
    "product",
    "createTime",
    "updateTime",
    "urlUI",
    "is_public",
    "tags",
}
# One TLS context for every client: httpx would otherwise load the CA bundle for each test.
TLS = ssl.create_default_context()
DETAIL_FIELDS = LIST_ITEM_FIELDS | {"description", "platform_info"}
CREATED_FIELDS = {
    "id",
    "subject",
    "requester",
    "severity",
    "platform",
    "product",
    "status",
    "urlUI",
    "created",
}
NEW_TICKET = {
    "subject": "Pods restart every few minutes",
    "body": "<p>One of our <b>GKE</b> pods keeps restarting.</p>",
    "severity": "high",
    "platform": "google_cloud_platform",
    "product": "containers___kubernetes__google_gke",
}


class Clock:
    """A settable clock so that times in answers can be asserted exactly."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(now=clock) as running:
        yield running


def _client(sandbox: Sandbox, **kwargs: Any) -> httpx.Client:
    kwargs.setdefault("headers", AUTH)
    kwargs.setdefault("timeout", 5.0)
    return httpx.Client(base_url=sandbox.base_url, trust_env=False, verify=TLS, **kwargs)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with _client(sandbox) as http:
        yield http


@pytest.fixture
def make_sandbox(clock: Clock) -> Iterator[Any]:
    """Start sandboxes with custom settings; all are stopped after the test."""
    started: list[Sandbox] = []

    def make(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("now", clock)
        running = Sandbox(**kwargs)
        running.start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


def _create(client: httpx.Client, **changes: Any) -> httpx.Response:
    return client.post("/support/v1/tickets", json={"ticket": {**NEW_TICKET, **changes}})


def _walk(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    tickets: list[dict[str, Any]] = []
    token = ""
    while True:
        page = client.get("/support/v1/tickets", params={**params, **({"pageToken": token} if token else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["rowCount"] == len(body["tickets"])
        tickets.extend(body["tickets"])
        token = body["pageToken"]
        if not token:
            return tickets


def _first(sandbox: Sandbox, status: str) -> dict[str, Any]:
    return next(t for t in sandbox.tickets() if t["status"] == status)


# --- auth, request ids, routing -----------------------------------------------------------------

API_CALLS = [
    ("GET", "/auth/v1/validate"),
    ("GET", "/support/v1/tickets"),
    ("POST", "/support/v1/tickets"),
    ("GET", "/support/v1/tickets/1"),
    ("PATCH", "/support/v1/tickets/1"),
    ("GET", "/support/v1/tickets/1/comments"),
    ("POST", "/support/v1/tickets/1/comments"),
    ("GET", "/support/v1/tickets/1/tags"),
    ("GET", "/support/v1/metadata/platforms"),
    ("GET", "/support/v1/metadata/products"),
]


@pytest.mark.parametrize(("method", "path"), API_CALLS)
def test_api_when_authorization_missing_answers_401(sandbox: Sandbox, method: str, path: str) -> None:
    with _client(sandbox, headers={}) as anonymous:
        response = anonymous.request(method, path)

    assert response.status_code == 401
    assert response.json() == {"error": MISSING_KEY}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer wrong-key", "Invalid API key"),
        ("Bearer sandbox-key2", "Invalid API key"),
        ("sandbox-key", MISSING_KEY),
        ("Basic c2FuZGJveC1rZXk=", MISSING_KEY),
        ("Bearer", MISSING_KEY),
    ],
)
def test_api_when_key_wrong_answers_401_without_echoing_it(
    sandbox: Sandbox, header: str, message: str
) -> None:
    with _client(sandbox, headers={"Authorization": header}) as wrong:
        response = wrong.get("/support/v1/tickets")

    assert response.status_code == 401
    assert response.json() == {"error": message}


def test_api_when_custom_key_accepts_only_that_key(make_sandbox: Any) -> None:
    custom = make_sandbox(tickets=3, api_key="other-key")

    with _client(custom, headers={"Authorization": "Bearer other-key"}) as right, _client(custom) as default:
        assert right.get("/auth/v1/validate").status_code == 200
        assert default.get("/auth/v1/validate").status_code == 401


def test_responses_when_several_carry_unique_request_ids(client: httpx.Client) -> None:
    responses = [client.get("/auth/v1/validate"), client.get("/nope"), client.get("/support/v1/tickets/x")]

    ids = [r.headers["Request-Id"] for r in responses]
    assert all(ids)
    assert len(set(ids)) == 3


def test_unknown_path_answers_404(client: httpx.Client) -> None:
    response = client.get("/support/v2/tickets")

    assert response.status_code == 404
    assert response.json() == {"error": "No such endpoint: /support/v2/tickets"}


def test_known_path_when_wrong_method_answers_405_with_allow(client: httpx.Client) -> None:
    response = client.delete("/support/v1/tickets")

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert response.json() == {"error": "Method DELETE is not allowed on /support/v1/tickets; use GET, POST"}


def test_validate_answers_owner_domain_and_email(client: httpx.Client) -> None:
    response = client.get("/auth/v1/validate")

    assert response.status_code == 200
    assert response.json() == {"domain": "example.com", "email": "dana@example.com"}


# --- listing ------------------------------------------------------------------------------------


def test_list_when_no_parameters_answers_100_newest_first(sandbox: Sandbox, client: httpx.Client) -> None:
    body = client.get("/support/v1/tickets").json()

    expected_ids = [t["id"] for t in sandbox.tickets()[:100]]
    assert [t["id"] for t in body["tickets"]] == expected_ids
    assert body["rowCount"] == 100
    times = [t["createTime"] for t in body["tickets"]]
    assert times == sorted(times, reverse=True)
    assert body["pageToken"] != ""


def test_list_items_have_exactly_the_list_item_fields(client: httpx.Client) -> None:
    tickets = _walk(client)

    with_requester = [t for t in tickets if "requester" in t]
    without_requester = [t for t in tickets if "requester" not in t]
    assert all(set(t) == LIST_ITEM_FIELDS for t in with_requester)
    assert without_requester
    assert all(set(t) == LIST_ITEM_FIELDS - {"requester"} for t in without_requester)
    first = tickets[0]
    assert first["urlUI"] == f"https://app.doit.com/customers/{CUSTOMER_ID}/support/tickets/{first['id']}"


def test_list_when_walking_pages_returns_every_ticket_once(sandbox: Sandbox, client: httpx.Client) -> None:
    tickets = _walk(client, maxResults=37)

    assert [t["id"] for t in tickets] == [t["id"] for t in sandbox.tickets()]
    assert len({t["id"] for t in tickets}) == 300


def test_list_when_walking_pages_the_last_one_is_partial(client: httpx.Client) -> None:
    token = ""
    sizes = []
    while True:
        params = {"maxResults": "100", **({"pageToken": token} if token else {})}
        body = client.get("/support/v1/tickets", params=params).json()
        sizes.append(body["rowCount"])
        token = body["pageToken"]
        if not token:
            break

    assert sizes == [100, 100, 100]


@pytest.mark.parametrize("value", ["1", "100"])
def test_list_when_max_results_at_bounds_is_accepted(client: httpx.Client, value: str) -> None:
    body = client.get("/support/v1/tickets", params={"maxResults": value}).json()

    assert body["rowCount"] == int(value)


@pytest.mark.parametrize("value", ["0", "101", "-3", "abc", "1.5", ""])
def test_list_when_max_results_invalid_answers_400(client: httpx.Client, value: str) -> None:
    response = client.get("/support/v1/tickets", params={"maxResults": value})

    assert response.status_code == 400
    assert response.json() == {"error": f"Invalid maxResults {value!r}: expected an integer from 1 to 100"}


def _token(client: httpx.Client, **params: Any) -> str:
    return client.get("/support/v1/tickets", params={"maxResults": 5, **params}).json()["pageToken"]


def test_list_when_page_token_garbage_answers_400(client: httpx.Client) -> None:
    for token in ["garbage", "!!!!", base64.urlsafe_b64encode(b'{"offset": 5}').decode()]:
        response = client.get("/support/v1/tickets", params={"pageToken": token})

        assert response.status_code == 400
        assert response.json() == {"error": "Invalid page token"}


def test_list_when_page_token_edited_answers_400(client: httpx.Client) -> None:
    token = _token(client)
    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    payload["offset"] = 0
    edited = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")

    response = client.get("/support/v1/tickets", params={"pageToken": edited})

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid page token"}


def test_list_when_page_token_from_other_sandbox_answers_400(client: httpx.Client, make_sandbox: Any) -> None:
    other = make_sandbox(tickets=20)
    with _client(other) as other_client:
        token = _token(other_client)

    response = client.get("/support/v1/tickets", params={"pageToken": token})

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid page token"}


def test_list_when_page_token_used_with_other_filter_answers_400(client: httpx.Client) -> None:
    token = _token(client, filter="status:closed")

    response = client.get("/support/v1/tickets", params={"pageToken": token, "filter": "status:open"})

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid page token: it belongs to a different filter or time range"}


def test_list_when_page_token_alone_keeps_its_filter(sandbox: Sandbox, client: httpx.Client) -> None:
    token = _token(client, filter="status:closed")

    body = client.get("/support/v1/tickets", params={"pageToken": token, "maxResults": 100}).json()

    closed = [t["id"] for t in sandbox.tickets() if t["status"] == "closed"]
    assert [t["id"] for t in body["tickets"]] == closed[5:105]


def _ids(client: httpx.Client, filter_text: str) -> list[int]:
    return [t["id"] for t in _walk(client, filter=filter_text)]


def _ids_where(sandbox: Sandbox, predicate: Any) -> list[int]:
    return [t["id"] for t in sandbox.tickets() if predicate(t)]


def test_list_filter_when_one_value_matches_exactly(sandbox: Sandbox, client: httpx.Client) -> None:
    expected = _ids_where(sandbox, lambda t: t["severity"] == "high")

    assert _ids(client, "severity:high") == expected
    assert expected


def test_list_filter_when_key_repeated_ors(sandbox: Sandbox, client: httpx.Client) -> None:
    expected = _ids_where(sandbox, lambda t: t["status"] in ("new", "open"))

    assert _ids(client, "status:new|status:open") == expected
    assert len(expected) > len(_ids(client, "status:open"))


def test_list_filter_when_keys_differ_ands(sandbox: Sandbox, client: httpx.Client) -> None:
    expected = _ids_where(sandbox, lambda t: t["status"] == "open" and t["severity"] == "high")

    assert _ids(client, "severity:high|status:open") == expected
    assert expected


def test_list_filter_when_one_key_repeats_and_another_not(sandbox: Sandbox, client: httpx.Client) -> None:
    expected = _ids_where(sandbox, lambda t: t["status"] in ("open", "pending") and t["severity"] == "urgent")

    assert _ids(client, "status:open|severity:urgent|status:pending") == expected
    assert expected


def test_list_filter_priority_is_an_alias_of_severity(sandbox: Sandbox, client: httpx.Client) -> None:
    assert _ids(client, "priority:high") == _ids(client, "severity:high")
    expected = _ids_where(sandbox, lambda t: t["severity"] in ("high", "urgent"))
    assert _ids(client, "priority:high|severity:urgent") == expected


@pytest.mark.parametrize("filter_text", ["severity:High", "status:OPEN", "status: open", "status:open "])
def test_list_filter_values_are_exact_and_case_sensitive(client: httpx.Client, filter_text: str) -> None:
    body = client.get("/support/v1/tickets", params={"filter": filter_text}).json()

    assert body == {"tickets": [], "pageToken": "", "rowCount": 0}


def test_list_filter_when_empty_lists_everything(client: httpx.Client) -> None:
    assert len(_walk(client, filter="")) == 300


@pytest.mark.parametrize(
    ("filter_text", "message"),
    [
        ("platform:amazon_web_services", "Invalid filter key: platform"),
        ("Status:open", "Invalid filter key: Status"),
        ("status:open|subject:x", "Invalid filter key: subject"),
        (
            "status:new|status:open|severity:high|severity:low",
            "Filter has more than one key that repeats more than once",
        ),
        (
            "priority:high|severity:low|status:new|status:open",
            "Filter has more than one key that repeats more than once",
        ),
        ("status", "Invalid filter segment 'status': expected key:value"),
        ("status:open|", "Invalid filter segment '': expected key:value"),
        ("status:open||severity:low", "Invalid filter segment '': expected key:value"),
    ],
)
def test_list_filter_when_invalid_answers_400(client: httpx.Client, filter_text: str, message: str) -> None:
    response = client.get("/support/v1/tickets", params={"filter": filter_text})

    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_list_time_range_is_inclusive_on_both_ends(sandbox: Sandbox, client: httpx.Client) -> None:
    tickets = sandbox.tickets()
    newest, oldest = tickets[10]["createTime"], tickets[20]["createTime"]

    found = _walk(client, minCreationTime=str(oldest), maxCreationTime=str(newest))

    assert [t["id"] for t in found] == [t["id"] for t in tickets[10:21]]


def test_list_time_range_when_one_bound_filters_that_side(sandbox: Sandbox, client: httpx.Client) -> None:
    tickets = sandbox.tickets()
    middle = tickets[150]["createTime"]

    newer = _walk(client, minCreationTime=str(middle))
    older = _walk(client, maxCreationTime=str(middle))

    assert [t["id"] for t in newer] == [t["id"] for t in tickets[:151]]
    assert [t["id"] for t in older] == [t["id"] for t in tickets[150:]]


def test_list_time_range_combines_with_filter_across_pages(sandbox: Sandbox, client: httpx.Client) -> None:
    since = NOW_MS - 90 * 86_400_000
    expected = _ids_where(sandbox, lambda t: t["createTime"] >= since and t["status"] == "closed")

    found = _walk(client, minCreationTime=str(since), filter="status:closed", maxResults=7)

    assert [t["id"] for t in found] == expected
    assert len(expected) > 7


@pytest.mark.parametrize("name", ["minCreationTime", "maxCreationTime"])
@pytest.mark.parametrize("value", ["yesterday", "1.5e12", "-5", "2026-01-01"])
def test_list_time_range_when_not_milliseconds_answers_400(
    client: httpx.Client, name: str, value: str
) -> None:
    response = client.get("/support/v1/tickets", params={name: value})

    assert response.status_code == 400
    assert response.json() == {"error": f"Invalid {name} {value!r}: expected milliseconds since the epoch"}


# --- seeded data --------------------------------------------------------------------------------


def test_seed_when_same_seed_and_clock_is_identical() -> None:
    first = Sandbox(seed=11, now=Clock())
    second = Sandbox(seed=11, now=Clock())

    assert first.tickets() == second.tickets()
    ticket_id = first.tickets()[5]["id"]
    assert first.comments(ticket_id) == second.comments(ticket_id)
    assert first.tickets() != Sandbox(seed=12, now=Clock()).tickets()


def test_seed_covers_severities_statuses_and_mostly_big_platforms() -> None:
    tickets = Sandbox(now=Clock()).tickets()

    assert {t["severity"] for t in tickets} == {"low", "normal", "high", "urgent"}
    assert {t["status"] for t in tickets} == {"new", "open", "pending", "hold", "solved", "closed"}
    active = sum(t["status"] in ("new", "open", "pending", "hold") for t in tickets)
    assert 0.2 <= active / len(tickets) <= 0.3
    platforms = collections.Counter(t["platform"] for t in tickets)
    big_four = ("google_cloud_platform", "amazon_web_services", "microsoft_azure", "doit")
    assert sum(platforms[p] for p in big_four) / len(tickets) > 0.7
    assert set(platforms) <= set(PLATFORMS)
    assert len(platforms) >= 8


def test_seed_times_span_half_a_year_and_ids_grow_with_time() -> None:
    tickets = Sandbox(now=Clock()).tickets()

    oldest = tickets[-1]["createTime"]
    assert NOW_MS - 181 * 86_400_000 < oldest < NOW_MS - 150 * 86_400_000
    ids = [t["id"] for t in tickets]
    assert ids == sorted(ids, reverse=True)
    assert all(t["createTime"] <= t["updateTime"] <= NOW_MS for t in tickets)
    assert all(t["updateTime"] == t["createTime"] for t in tickets if t["status"] == "new")


def test_seed_has_several_requesters_and_a_few_missing() -> None:
    tickets = Sandbox(now=Clock()).tickets()

    requesters = collections.Counter(t.get("requester") for t in tickets)
    assert "dana@example.com" in requesters
    assert len([r for r in requesters if r]) >= 5
    assert all(r.endswith("@example.com") for r in requesters if r)
    assert 0 < requesters[None] < 30


def test_seed_subjects_include_the_hard_cases() -> None:
    subjects = [t["subject"] for t in Sandbox(now=Clock()).tickets()]
    text = "\n".join(subjects)

    for fragment in ("é", "日本語", "🔥", "&", "<", ">", "<!channel>", "<!here>"):
        assert fragment in text, fragment
    assert sum(len(s) > 300 for s in subjects) >= 2


def test_seed_descriptions_have_html_and_long_text() -> None:
    tickets = Sandbox(now=Clock()).tickets()

    assert all(t["description"].startswith("<p>") for t in tickets)
    assert any(len(t["description"]) > 4000 for t in tickets)
    assert any("&amp;" in t["description"] for t in tickets)


def test_seed_comments_come_from_engineers_and_the_requester() -> None:
    seeded = Sandbox(now=Clock())
    tickets = seeded.tickets()

    counts = [len(seeded.comments(t["id"])) for t in tickets]
    assert set(counts) == {0, 1, 2, 3, 4}
    authors = {c["author"] for t in tickets for c in seeded.comments(t["id"])}
    assert any(a.endswith("@doit.com") for a in authors)
    assert any(a.endswith("@example.com") for a in authors)


# --- create -------------------------------------------------------------------------------------


def test_create_answers_201_with_the_created_shape(sandbox: Sandbox, client: httpx.Client) -> None:
    highest = max(t["id"] for t in sandbox.tickets())

    response = _create(client)

    assert response.status_code == 201
    assert response.json() == {
        "id": highest + 1,
        "subject": "Pods restart every few minutes",
        "requester": "dana@example.com",
        "severity": "high",
        "platform": "google_cloud_platform",
        "product": "Google Kubernetes Engine (GKE)",
        "status": "new",
        "urlUI": f"https://app.doit.com/customers/{CUSTOMER_ID}/support/tickets/{highest + 1}",
        "created": NOW_MS,
    }
    assert _create(client).json()["id"] == highest + 2


def test_create_then_the_ticket_lists_first_and_reads_back(client: httpx.Client) -> None:
    created = _create(client).json()

    first = client.get("/support/v1/tickets", params={"maxResults": 1}).json()["tickets"][0]
    detail = client.get(f"/support/v1/tickets/{created['id']}").json()
    assert first["id"] == created["id"]
    assert detail["description"] == NEW_TICKET["body"]
    assert detail["createTime"] == detail["updateTime"] == NOW_MS
    assert detail["platform_info"] == ""


@pytest.mark.parametrize("product", ["compute_engine", "Compute Engine"])
def test_create_when_product_is_id_or_display_name_answers_display_name(
    client: httpx.Client, product: str
) -> None:
    response = _create(client, product=product)

    assert response.status_code == 201
    assert response.json()["product"] == "Compute Engine"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"platform": "Google Cloud"},
            "Invalid platform 'Google Cloud': expected a platform id; "
            "'Google Cloud' is a display name, send its id google_cloud_platform",
        ),
        ({"platform": "gcp"}, "Invalid platform 'gcp': expected a platform id"),
        (
            {"product": "Amazon S3"},
            "Invalid product 'Amazon S3' for platform google_cloud_platform",
        ),
        (
            {"product": "compute engine"},
            "Invalid product 'compute engine' for platform google_cloud_platform",
        ),
        ({"severity": "critical"}, "Invalid severity 'critical': expected one of low, normal, high, urgent"),
        ({"severity": "High"}, "Invalid severity 'High': expected one of low, normal, high, urgent"),
        ({"subject": ""}, "Missing required field: ticket.subject"),
        ({"body": None, "product": 5}, "Missing required fields: ticket.body, ticket.product"),
        ({"requester": "not-an-email"}, "Invalid requester 'not-an-email': expected an email address"),
    ],
)
def test_create_when_field_invalid_answers_400(
    client: httpx.Client, changes: dict[str, Any], message: str
) -> None:
    response = _create(client, **changes)

    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_create_when_fields_missing_lists_them_all(client: httpx.Client) -> None:
    response = client.post("/support/v1/tickets", json={"ticket": {}})

    assert response.status_code == 400
    assert response.json() == {
        "error": "Missing required fields: ticket.subject, ticket.body, ticket.severity, ticket.platform, "
        "ticket.product"
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "The request body must be a JSON object"),
        (b"[1, 2]", "The request body must be a JSON object"),
        (b'{"subject": "flat"}', 'The request body must be {"ticket": {...}}'),
        (b"", "The request body must be a JSON object"),
    ],
)
def test_create_when_body_malformed_answers_400(client: httpx.Client, content: bytes, message: str) -> None:
    response = client.post(
        "/support/v1/tickets", content=content, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_create_when_requester_given_under_any_policy_uses_it(client: httpx.Client) -> None:
    response = _create(client, requester="li.wei@example.com")

    assert response.json()["requester"] == "li.wei@example.com"


def test_create_with_service_account_policy_requires_requester(make_sandbox: Any) -> None:
    strict = make_sandbox(tickets=5, requester_policy="service-account")

    with _client(strict) as http:
        missing = _create(http)
        given = _create(http, requester="sam.okafor@example.com")

    assert missing.status_code == 400
    assert missing.json() == {
        "error": "ticket.requester is required when the API key belongs to a service account"
    }
    assert given.status_code == 201
    assert given.json()["requester"] == "sam.okafor@example.com"


def test_create_with_personal_policy_refuses_requester(make_sandbox: Any) -> None:
    personal = make_sandbox(tickets=5, requester_policy="personal", owner_email="li.wei@example.com")

    with _client(personal) as http:
        given = _create(http, requester="sam.okafor@example.com")
        omitted = _create(http)

    assert given.status_code == 400
    assert given.json() == {
        "error": "ticket.requester must be left out with a personal API key: its owner is the requester"
    }
    assert omitted.status_code == 201
    assert omitted.json()["requester"] == "li.wei@example.com"


def test_sandbox_when_policy_unknown_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="requester_policy must be one of any, service-account, personal"):
        Sandbox(tickets=0, requester_policy="robot")


def test_create_when_many_threads_at_once_gives_distinct_ids(sandbox: Sandbox) -> None:
    ids: list[int] = []

    def create_some() -> None:
        with _client(sandbox) as http:
            ids.extend(_create(http).json()["id"] for _ in range(5))

    threads = [threading.Thread(target=create_some) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(ids)) == 30
    assert len(sandbox.tickets()) == 330


# --- one ticket, update, comments, tags ---------------------------------------------------------


def test_get_ticket_answers_detail_fields(sandbox: Sandbox, client: httpx.Client) -> None:
    expected = next(t for t in sandbox.tickets() if "requester" in t)

    response = client.get(f"/support/v1/tickets/{expected['id']}")

    assert response.status_code == 200
    assert response.json() == expected
    assert set(response.json()) == DETAIL_FIELDS


@pytest.mark.parametrize(
    "path", ["/support/v1/tickets/abc", "/support/v1/tickets/-1", "/support/v1/tickets/1.0"]
)
def test_get_ticket_when_id_not_integer_answers_400(client: httpx.Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 400
    assert response.json() == {"error": f"Invalid ticket id {path.rsplit('/', 1)[1]!r}: expected an integer"}


def test_get_ticket_when_unknown_answers_404(client: httpx.Client) -> None:
    response = client.get("/support/v1/tickets/999")

    assert response.status_code == 404
    assert response.json() == {"error": "Ticket 999 not found"}


def test_patch_when_solved_answers_echo_and_solves(
    sandbox: Sandbox, client: httpx.Client, clock: Clock
) -> None:
    ticket = _first(sandbox, "open")
    clock.now += 60

    response = client.patch(f"/support/v1/tickets/{ticket['id']}", json={"status": "solved"})

    assert response.status_code == 200
    assert response.json() == {"id": ticket["id"], "status": "solved"}
    after = sandbox.ticket(ticket["id"])
    assert after["status"] == "solved"
    assert after["updateTime"] == NOW_MS + 60_000


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Send at least one of status or assignee"),
        ({"status": "open"}, 403, "Customers can only set the status to solved, not open"),
        ({"status": "hold"}, 403, "Customers can only set the status to solved, not hold"),
        (
            {"status": "closed"},
            400,
            "closed cannot be set through the API; set solved and the ticket closes by itself",
        ),
        ({"status": "Solved"}, 400, "Invalid status 'Solved': expected one of open, pending, hold, solved"),
        ({"status": 3}, 400, "Invalid status 3: expected one of open, pending, hold, solved"),
        ({"assignee": "yael.cohen@doit.com"}, 403, "Only DoiT employees can set an assignee"),
        ({"priority": "low"}, 400, "Unknown fields priority: only status and assignee can be updated"),
    ],
)
def test_patch_when_not_solved_is_refused(
    sandbox: Sandbox, client: httpx.Client, body: dict[str, Any], status: int, message: str
) -> None:
    ticket = _first(sandbox, "open")

    response = client.patch(f"/support/v1/tickets/{ticket['id']}", json=body)

    assert response.status_code == status
    assert response.json() == {"error": message}
    assert sandbox.ticket(ticket["id"]) == ticket


def test_patch_when_ticket_closed_answers_400(sandbox: Sandbox, client: httpx.Client) -> None:
    ticket = _first(sandbox, "closed")

    response = client.patch(f"/support/v1/tickets/{ticket['id']}", json={"status": "solved"})

    assert response.status_code == 400
    assert response.json() == {"error": f"Ticket {ticket['id']} is closed and can no longer be updated"}


def test_patch_when_already_solved_echoes_without_touching(sandbox: Sandbox, client: httpx.Client) -> None:
    ticket = _first(sandbox, "solved")

    response = client.patch(f"/support/v1/tickets/{ticket['id']}", json={"status": "solved"})

    assert response.json() == {"id": ticket["id"], "status": "solved"}
    assert sandbox.ticket(ticket["id"])["updateTime"] == ticket["updateTime"]


def test_patch_when_unknown_ticket_answers_404(client: httpx.Client) -> None:
    response = client.patch("/support/v1/tickets/12", json={"status": "solved"})

    assert response.status_code == 404
    assert response.json() == {"error": "Ticket 12 not found"}


def test_comments_answer_oldest_first_with_their_fields(sandbox: Sandbox, client: httpx.Client) -> None:
    ticket = next(t for t in sandbox.tickets() if len(sandbox.comments(t["id"])) >= 3)

    comments = client.get(f"/support/v1/tickets/{ticket['id']}/comments").json()["comments"]

    assert comments == sandbox.comments(ticket["id"])
    assert all(set(c) == {"id", "body", "author", "created", "attachments"} for c in comments)
    times = [c["created"] for c in comments]
    assert times == sorted(times)
    assert all(ticket["createTime"] <= t <= ticket["updateTime"] for t in times)


def test_comment_post_answers_201_and_appends(sandbox: Sandbox, client: httpx.Client, clock: Clock) -> None:
    ticket = _first(sandbox, "open")
    clock.now += 5

    response = client.post(
        f"/support/v1/tickets/{ticket['id']}/comments", json={"body": "Any news? 🙏 <b>x</b>"}
    )

    assert response.status_code == 201
    comment = response.json()
    assert comment == {
        "id": comment["id"],
        "body": "Any news? 🙏 <b>x</b>",
        "author": "dana@example.com",
        "created": NOW_MS + 5000,
        "attachments": [],
    }
    listed = client.get(f"/support/v1/tickets/{ticket['id']}/comments").json()["comments"]
    assert listed[-1] == comment
    assert sandbox.ticket(ticket["id"])["updateTime"] == NOW_MS + 5000


@pytest.mark.parametrize("status", ["pending", "solved"])
def test_comment_post_when_waiting_on_customer_reopens(
    sandbox: Sandbox, client: httpx.Client, status: str
) -> None:
    ticket = _first(sandbox, status)

    client.post(f"/support/v1/tickets/{ticket['id']}/comments", json={"body": "Still broken."})

    assert sandbox.ticket(ticket["id"])["status"] == "open"


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "   "}, {"body": 5}, {}])
def test_comment_post_when_body_empty_answers_400(sandbox: Sandbox, client: httpx.Client, body: Any) -> None:
    ticket = _first(sandbox, "open")

    response = client.post(f"/support/v1/tickets/{ticket['id']}/comments", json=body)

    assert response.status_code == 400
    assert response.json() == {"error": "body must be a non-empty string"}


def test_comment_post_when_ticket_closed_answers_400(sandbox: Sandbox, client: httpx.Client) -> None:
    ticket = _first(sandbox, "closed")

    response = client.post(f"/support/v1/tickets/{ticket['id']}/comments", json={"body": "Hello?"})

    assert response.status_code == 400
    assert response.json() == {"error": f"Ticket {ticket['id']} is closed; open a follow-up ticket instead"}


def test_comments_when_ticket_unknown_answer_404(client: httpx.Client) -> None:
    assert client.get("/support/v1/tickets/5/comments").status_code == 404
    assert client.post("/support/v1/tickets/5/comments", json={"body": "x"}).json() == {
        "error": "Ticket 5 not found"
    }


def test_tags_add_list_and_remove_in_the_customer_namespace(sandbox: Sandbox, client: httpx.Client) -> None:
    ticket = next(t for t in sandbox.tickets() if not t["tags"])
    path = f"/support/v1/tickets/{ticket['id']}/tags"

    added = client.post(path, json={"tags": [" Billing ", "prod"]})
    listed = client.get(path)
    removed = client.request("DELETE", path, json={"tags": ["BILLING"]})

    assert added.json() == {"applied_tags": ["customer_tag/billing", "customer_tag/prod"]}
    assert listed.json() == {"tags": ["billing", "prod"]}
    assert removed.json() == {"applied_tags": ["customer_tag/billing"]}
    assert sandbox.ticket(ticket["id"])["tags"] == ["prod"]


@pytest.mark.parametrize("tags", [[], ["x" * 81], [""], "billing", [3]])
def test_tags_when_invalid_answer_400(sandbox: Sandbox, client: httpx.Client, tags: Any) -> None:
    ticket = sandbox.tickets()[0]

    response = client.post(f"/support/v1/tickets/{ticket['id']}/tags", json={"tags": tags})

    assert response.status_code == 400


# --- metadata -----------------------------------------------------------------------------------


def test_platforms_answer_the_live_catalog_plus_doit(client: httpx.Client) -> None:
    platforms = client.get("/support/v1/metadata/platforms").json()["platforms"]

    assert [p["id"] for p in platforms] == [
        "cloud_management_platform",
        "google_cloud_platform",
        "google_g_suite",
        "amazon_web_services",
        "microsoft_azure",
        "microsoft_office_365",
        "perfectscale",
        "finance___billing",
        "credits___request",
        "doit",
    ]
    names = {p["id"]: p["displayName"] for p in platforms}
    assert names["google_cloud_platform"] == "Google Cloud"
    assert names["amazon_web_services"] == "Amazon Web Services"
    assert names["microsoft_azure"] == "Microsoft Azure"
    assert names["doit"] == "DoiT"


def test_products_for_a_platform_answer_only_its_products(client: httpx.Client) -> None:
    products = client.get(
        "/support/v1/metadata/products", params={"platform": "google_cloud_platform"}
    ).json()

    names = {p["displayName"]: p["id"] for p in products["products"]}
    assert names["Compute Engine"] == "compute_engine"
    assert names["Google Kubernetes Engine (GKE)"] == "containers___kubernetes__google_gke"
    assert {"BigQuery", "Cloud SQL"} <= set(names)
    assert {p["platform"] for p in products["products"]} == {"google_cloud_platform"}


def test_products_when_platform_missing_answer_every_product(client: httpx.Client) -> None:
    products = client.get("/support/v1/metadata/products").json()["products"]

    platforms = {p["platform"] for p in products}
    assert platforms == set(PLATFORMS)
    aws = {p["displayName"] for p in products if p["platform"] == "amazon_web_services"}
    assert {"Amazon EC2", "Amazon S3", "Amazon EKS", "Amazon RDS", "AWS Lambda"} <= aws
    azure = {p["displayName"] for p in products if p["platform"] == "microsoft_azure"}
    assert {"Azure Virtual Machines", "Azure Kubernetes Service (AKS)"} <= azure


@pytest.mark.parametrize("platform", ["Google Cloud", "gcp", "nope"])
def test_products_when_platform_unknown_answer_400(client: httpx.Client, platform: str) -> None:
    response = client.get("/support/v1/metadata/products", params={"platform": platform})

    assert response.status_code == 400
    assert response.json() == {"error": f"Invalid platform {platform!r}: expected a platform id"}


def test_products_override_replaces_one_platform_catalog(make_sandbox: Any) -> None:
    long_name = "Extremely Long Product Name For Testing Select Menus And Truncation Limits 01234"
    names = [f"Product {n:03d}" for n in range(149)] + [long_name]
    custom = make_sandbox(products={"google_cloud_platform": names})

    with _client(custom) as http:
        gcp = http.get("/support/v1/metadata/products", params={"platform": "google_cloud_platform"}).json()
        aws = http.get("/support/v1/metadata/products", params={"platform": "amazon_web_services"}).json()
        created = _create(http, product=long_name)

    assert len(long_name) == 80
    assert [p["displayName"] for p in gcp["products"]] == names
    assert (
        gcp["products"][-1]["id"]
        == "extremely_long_product_name_for_testing_select_menus_and_truncation_limits_01234"
    )
    assert gcp["products"][0]["id"] == "product_000"
    assert "Amazon S3" in {p["displayName"] for p in aws["products"]}
    assert created.json()["product"] == long_name
    seeded = {t["product"] for t in custom.tickets() if t["platform"] == "google_cloud_platform"}
    assert seeded <= set(names)


def test_products_override_when_names_collide_keeps_ids_unique(make_sandbox: Any) -> None:
    custom = make_sandbox(tickets=0, products={"perfectscale": ["A & B", "A: B", "A-B"]})

    with _client(custom) as http:
        products = http.get("/support/v1/metadata/products", params={"platform": "perfectscale"}).json()

    assert [p["id"] for p in products["products"]] == ["a___b", "a__b", "a_b"]


# --- Python-side state and control --------------------------------------------------------------


def test_set_status_bumps_update_time_and_shows_in_api(
    sandbox: Sandbox, client: httpx.Client, clock: Clock
) -> None:
    ticket = _first(sandbox, "open")
    clock.now += 1

    sandbox.set_status(ticket["id"], "pending")

    detail = client.get(f"/support/v1/tickets/{ticket['id']}").json()
    assert (detail["status"], detail["updateTime"]) == ("pending", NOW_MS + 1000)


def test_set_status_when_clock_frozen_still_moves_update_time(sandbox: Sandbox) -> None:
    ticket_id = sandbox.add_ticket()["id"]

    sandbox.set_status(ticket_id, "open")
    sandbox.set_status(ticket_id, "pending")

    assert sandbox.ticket(ticket_id)["updateTime"] == NOW_MS + 2


def test_set_status_when_ticket_unknown_raises_key_error(sandbox: Sandbox) -> None:
    with pytest.raises(KeyError, match="Ticket 3 not found"):
        sandbox.set_status(3, "open")


def test_add_ticket_fills_the_rest(sandbox: Sandbox) -> None:
    highest = max(t["id"] for t in sandbox.tickets())

    ticket = sandbox.add_ticket(subject="Disk full", severity="urgent", platform="amazon_web_services")

    assert ticket == {
        "id": highest + 1,
        "subject": "Disk full",
        "severity": "urgent",
        "status": "new",
        "requester": "dana@example.com",
        "platform": "amazon_web_services",
        "product": "Amazon EC2",
        "createTime": NOW_MS,
        "updateTime": NOW_MS,
        "urlUI": f"https://app.doit.com/customers/{CUSTOMER_ID}/support/tickets/{highest + 1}",
        "is_public": True,
        "tags": [],
        "description": "<p>Added in the sandbox.</p>",
        "platform_info": "",
    }
    assert sandbox.tickets()[0]["id"] == highest + 1


def test_add_ticket_when_requester_none_leaves_it_out(sandbox: Sandbox) -> None:
    ticket = sandbox.add_ticket(requester=None, product="Amazon S3", platform="amazon_web_services")

    assert "requester" not in ticket
    assert ticket["product"] == "Amazon S3"


def test_add_ticket_when_field_unknown_raises_type_error(sandbox: Sandbox) -> None:
    with pytest.raises(TypeError, match="add_ticket\\(\\) got unknown fields: colour"):
        sandbox.add_ticket(colour="red")


def test_advance_moves_tickets_along_their_life(sandbox: Sandbox) -> None:
    before = {t["id"]: t for t in sandbox.tickets()}

    changes = sandbox.advance(20)

    allowed = {
        "new": {"open"},
        "open": {"pending", "solved"},
        "pending": {"open", "solved"},
        "hold": {"open"},
        "solved": {"closed"},
    }
    assert len(changes) == 20
    assert len({ticket_id for ticket_id, _, _ in changes}) == 20
    for ticket_id, old, new in changes:
        assert before[ticket_id]["status"] == old
        assert new in allowed[old]
        assert sandbox.ticket(ticket_id)["status"] == new
        assert sandbox.ticket(ticket_id)["updateTime"] > before[ticket_id]["updateTime"]


def test_advance_is_deterministic_for_a_seed() -> None:
    first, second = Sandbox(seed=3, now=Clock()), Sandbox(seed=3, now=Clock())

    assert first.advance(15) == second.advance(15)
    assert first.advance(5) == second.advance(5)


def test_advance_when_everything_closed_moves_nothing(make_sandbox: Any) -> None:
    small = make_sandbox(tickets=0)
    small.add_ticket(status="solved")
    small.add_ticket(status="closed")

    assert [(old, new) for _, old, new in small.advance(5)] == [("solved", "closed")]
    assert small.advance(5) == []


def test_advance_every_moves_tickets_in_the_background(make_sandbox: Any) -> None:
    lively = make_sandbox(tickets=0, advance_every=0.02)
    ticket_id = lively.add_ticket(status="new")["id"]

    deadline = time.monotonic() + 3
    while lively.ticket(ticket_id)["status"] == "new" and time.monotonic() < deadline:
        time.sleep(0.01)

    assert lively.ticket(ticket_id)["status"] != "new"


def test_requests_are_recorded_with_authorization_redacted(sandbox: Sandbox, client: httpx.Client) -> None:
    client.get("/support/v1/tickets", params={"filter": "status:open", "maxResults": "5"})
    _create(client)
    client.post("/_sandbox/advance", json={"count": 1})

    assert [(r.method, r.path) for r in sandbox.requests] == [
        ("GET", "/support/v1/tickets"),
        ("POST", "/support/v1/tickets"),
    ]
    listed, created = sandbox.requests
    assert listed.query == {"filter": ["status:open"], "maxResults": ["5"]}
    assert listed.json is None
    assert listed.headers["Authorization"] == "REDACTED"
    assert listed.headers["authorization"] == "REDACTED"
    assert DEFAULT_API_KEY not in repr(sandbox.requests)
    assert created.json == {"ticket": NEW_TICKET}
    assert sandbox.requests_to("post", "/support/v1/tickets") == [created]
    assert sandbox.requests_to("GET", "/support/v1/tickets/1") == []


# --- HTTP control endpoints ---------------------------------------------------------------------


def test_control_advance_answers_the_changes(sandbox: Sandbox) -> None:
    with _client(sandbox, headers={}) as anonymous:
        response = anonymous.post("/_sandbox/advance", json={"count": 3})

    changes = response.json()["changes"]
    assert response.status_code == 200
    assert len(changes) == 3
    assert all(set(c) == {"id", "from", "to"} for c in changes)
    assert all(sandbox.ticket(c["id"])["status"] == c["to"] for c in changes)


def test_control_advance_when_body_empty_moves_one(sandbox: Sandbox, client: httpx.Client) -> None:
    assert len(client.post("/_sandbox/advance").json()["changes"]) == 1


@pytest.mark.parametrize(
    "content", [b'{"count": 0}', b'{"count": "2"}', b'{"count": true}', b"[1]", b"{count"]
)
def test_control_advance_when_count_invalid_answers_400(client: httpx.Client, content: bytes) -> None:
    response = client.post("/_sandbox/advance", content=content)

    assert response.status_code == 400


def test_control_tickets_creates_a_ticket(sandbox: Sandbox, client: httpx.Client) -> None:
    response = client.post(
        "/_sandbox/tickets", json={"subject": "By hand", "severity": "urgent", "status": "open"}
    )

    assert response.status_code == 201
    created = response.json()
    assert (created["subject"], created["severity"], created["status"]) == ("By hand", "urgent", "open")
    assert (
        client.get("/support/v1/tickets", params={"maxResults": 1}).json()["tickets"][0]["id"]
        == created["id"]
    )


def test_control_tickets_when_field_unknown_answers_400(client: httpx.Client) -> None:
    response = client.post("/_sandbox/tickets", json={"colour": "red"})

    assert response.status_code == 400
    assert response.json() == {"error": "add_ticket() got unknown fields: colour"}


def test_control_status_sets_any_status(sandbox: Sandbox, client: httpx.Client) -> None:
    ticket = _first(sandbox, "open")

    response = client.post(f"/_sandbox/tickets/{ticket['id']}/status", json={"status": "escalated"})

    assert response.json()["status"] == "escalated"
    assert client.post("/_sandbox/tickets/4/status", json={"status": "open"}).status_code == 404


def test_control_faults_inject_and_clear(client: httpx.Client) -> None:
    injected = client.post("/_sandbox/faults", json={"status": 503, "times": -1, "path_prefix": "/support/"})
    failing = client.get("/support/v1/tickets")
    cleared = client.delete("/_sandbox/faults")
    working = client.get("/support/v1/tickets")

    assert injected.status_code == 201
    assert failing.status_code == 503
    assert cleared.status_code == 200
    assert working.status_code == 200


@pytest.mark.parametrize("body", [{"colour": 1}, {"status": 99}, {"times": 0, "status": 500}, {}])
def test_control_faults_when_invalid_answers_400(client: httpx.Client, body: dict[str, Any]) -> None:
    assert client.post("/_sandbox/faults", json=body).status_code == 400


# --- faults -------------------------------------------------------------------------------------


def test_fault_status_answers_once_then_recovers(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.inject(status=503, retry_after=2)

    failed = client.get("/support/v1/tickets")
    recovered = client.get("/support/v1/tickets")

    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "2"
    assert failed.json() == {"error": "The upstream support system is temporarily unavailable"}
    assert failed.headers["Request-Id"]
    assert recovered.status_code == 200
    assert len(sandbox.requests_to("GET", "/support/v1/tickets")) == 2


def test_fault_without_retry_after_has_no_header(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.inject(status=429, message="Slow down, please")

    response = client.get("/auth/v1/validate")

    assert response.status_code == 429
    assert "Retry-After" not in response.headers
    assert response.json() == {"error": "Slow down, please"}


@pytest.mark.parametrize(("retry_after", "header"), [(0.5, "0.5"), (120.0, "120"), (3600, "3600")])
def test_fault_retry_after_is_sent_in_seconds(
    sandbox: Sandbox, client: httpx.Client, retry_after: float, header: str
) -> None:
    sandbox.inject(status=503, retry_after=retry_after)

    assert client.get("/auth/v1/validate").headers["Retry-After"] == header


def test_fault_times_counts_matching_requests(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.inject(status=502, times=2, method="GET", path_prefix="/support/v1/tickets")

    statuses = [
        client.get("/auth/v1/validate").status_code,
        _create(client).status_code,
        client.get("/support/v1/tickets").status_code,
        client.get("/support/v1/tickets/1").status_code,
        client.get("/support/v1/tickets").status_code,
    ]

    assert statuses == [200, 201, 502, 502, 200]


def test_fault_forever_lasts_until_cleared(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.inject(status=500, times=-1)

    statuses = [client.get("/auth/v1/validate").status_code for _ in range(4)]
    sandbox.clear_faults()

    assert statuses == [500] * 4
    assert client.get("/auth/v1/validate").status_code == 200


def test_fault_problem_json_answers_rfc_9457_body(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.inject(status=503, problem_json=True, retry_after=7)

    response = client.get("/support/v1/tickets")

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {
        "type": "https://api.doit.com/problems/upstream-unavailable",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The upstream support system is temporarily unavailable",
        "code": "upstream_unavailable",
        "retryable": True,
    }


def test_fault_latency_delays_then_answers_normally(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.inject(latency=0.3)

    started = time.monotonic()
    response = client.get("/auth/v1/validate")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed >= 0.3
    started = time.monotonic()
    client.get("/auth/v1/validate")
    assert time.monotonic() - started < 0.3


def test_fault_latency_beyond_client_timeout_times_out(sandbox: Sandbox) -> None:
    sandbox.inject(latency=0.5)

    with _client(sandbox, timeout=0.1) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get("/auth/v1/validate")


def test_fault_latency_then_status(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.inject(latency=0.2, status=504)

    started = time.monotonic()
    response = client.get("/auth/v1/validate")

    assert response.status_code == 504
    assert time.monotonic() - started >= 0.2


def test_fault_drop_connection_closes_without_answer(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.inject(drop_connection=True, method="POST")

    with pytest.raises(httpx.RemoteProtocolError):
        _create(client)

    assert client.get("/auth/v1/validate").status_code == 200
    assert len(sandbox.requests_to("POST", "/support/v1/tickets")) == 1
    assert len(sandbox.tickets()) == 300


def test_fault_does_not_touch_control_endpoints(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.inject(status=503, times=-1)

    assert client.post("/_sandbox/advance", json={"count": 1}).status_code == 200
    assert client.delete("/_sandbox/faults").status_code == 200
    assert client.get("/auth/v1/validate").status_code == 200


def test_inject_when_nothing_to_do_raises(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="a fault needs a status, a latency or drop_connection"):
        sandbox.inject()


# --- tenants ------------------------------------------------------------------------------------


def test_tenant_when_required_and_missing_answers_problem(make_sandbox: Any) -> None:
    multi = make_sandbox(tickets=3, tenants=frozenset({"customerA", "customerB"}))

    with _client(multi) as http:
        response = http.get("/support/v1/tickets")

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://api.doit.com/problems/tenant-id-required",
        "title": "Bad Request",
        "status": 400,
        "detail": "This API key can access several customers; send the X-Tenant-Id header",
        "code": "tenant_id_required",
        "retryable": False,
    }


def test_tenant_when_unknown_answers_mismatch(make_sandbox: Any) -> None:
    multi = make_sandbox(tickets=3, tenants=frozenset({"customerA"}))

    with _client(multi, headers={**AUTH, "X-Tenant-Id": "customerZ"}) as http:
        response = http.get("/auth/v1/validate")

    assert response.status_code == 400
    assert response.json()["code"] == "tenant_id_mismatch"
    assert response.json()["detail"] == "X-Tenant-Id 'customerZ' is not a tenant of this API key"


def test_tenant_when_known_is_accepted(make_sandbox: Any) -> None:
    multi = make_sandbox(tickets=3, tenants=frozenset({"customerA"}))

    with _client(multi, headers={**AUTH, "X-Tenant-Id": "customerA"}) as http:
        assert http.get("/support/v1/tickets").json()["rowCount"] == 3


def test_tenant_when_not_configured_header_is_ignored(client: httpx.Client) -> None:
    response = client.get("/auth/v1/validate", headers={"X-Tenant-Id": "anything"})

    assert response.status_code == 200


def test_tenant_check_comes_after_the_key_check(make_sandbox: Any) -> None:
    multi = make_sandbox(tickets=3, tenants=frozenset({"customerA"}))

    with _client(multi, headers={"Authorization": "Bearer nope"}) as http:
        assert http.get("/auth/v1/validate").status_code == 401


# --- lifecycle and the CLI entry point ----------------------------------------------------------


def test_lifecycle_base_url_start_and_stop() -> None:
    idle = Sandbox(tickets=0)
    with pytest.raises(RuntimeError, match="not running"):
        _ = idle.base_url

    url = idle.start()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert idle.base_url == url
        with pytest.raises(RuntimeError, match="already running"):
            idle.start()
    finally:
        idle.stop()
    idle.stop()

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/auth/v1/validate", timeout=1, trust_env=False, verify=TLS)


def test_serve_logs_url_and_key_and_stops_on_ctrl_c(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.support.sandbox")
    answers: list[int] = []

    def use_then_interrupt() -> None:
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not _served_url(caplog):
                time.sleep(0.01)
            answers.append(
                httpx.get(
                    f"{_served_url(caplog)}/auth/v1/validate", headers=AUTH, trust_env=False
                ).status_code
            )
        finally:
            os.kill(os.getpid(), signal.SIGINT)

    helper = threading.Thread(target=use_then_interrupt)
    helper.start()
    serve(port=0, tickets=5)
    helper.join()

    assert answers == [200]
    assert "with API key sandbox-key; Ctrl-C stops it" in caplog.text
    assert "DoiT sandbox stopped" in caplog.text


def _served_url(caplog: pytest.LogCaptureFixture) -> str:
    for record in caplog.records:
        match = re.search(r"DoiT sandbox at (http://\S+) with", record.getMessage())
        if match:
            return match.group(1)
    return ""


def test_stop_ends_kept_alive_connections_too() -> None:
    sandbox = Sandbox(tickets=3)
    url = sandbox.start()
    with httpx.Client(headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}) as client:
        assert client.get(f"{url}/auth/v1/validate").status_code == 200
        sandbox.stop()
        with pytest.raises(httpx.TransportError):
            client.get(f"{url}/auth/v1/validate")
