"""The API models against the overview page's samples and a response of each current schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.support.models import (
    Attachment,
    Comment,
    KeyOwner,
    NewTicket,
    Platform,
    Product,
    Ticket,
    TicketPage,
    to_epoch_ms,
)

# Transcribed from DoiT's "Support API Overview" page (reference/doit-support-api-overview.txt).
# The page's requester values are redacted there as "[email protected]"; kept exactly as printed.
OVERVIEW_LIST_SAMPLE: dict[str, Any] = {
    "tickets": [
        {
            "id": 35266,
            "subject": "getting error when running a query",
            "severity": "high",
            "requester": "[email protected]",
            "platform": "google_cloud_platform",
            "category": "analytics___etls__google_bigquery",
            "lastModified": 1606215498000,
            "status": "hold",
            "url": "https://app.doit.com/customers/2Gi0e4pPA3wsfJNOOohW/support/tickets/35266",
        },
        {
            "id": 28739,
            "subject": "S3 object download not fetching the latest version ",
            "severity": "high",
            "requester": "[email protected]",
            "platform": "amazon_web_services",
            "category": "storage__amazon_s3",
            "lastModified": 1591885317000,
            "status": "closed",
            "url": "https://app.doit.com/customers/2Gi0e4pPA3wsfJNOOohW/support/tickets/28739",
        },
    ]
}
OVERVIEW_CREATE_RESPONSE: dict[str, Any] = {
    "id": 35519,
    "subject": "Pod restart every few minutes",
    "requester": "[email protected]",
    "severity": "low",
    "platform": "google_cloud_platform",
    "category": "containers___kubernetes__google_gke",
    "status": "new",
    "url": "https://app.doit.com/customers/2Gi0e4pPA3wsfJNOOohW/support/tickets/35519",
}
OVERVIEW_CREATE_REQUEST_TICKET: dict[str, Any] = {
    "subject": "Pod restart every few minutes",
    "body": (
        "One of my pods in the GKE cluster keep restarting every few minutes. I checked the log and could "
        "not see any obvious reasons. What else should I look for?"
    ),
    "requester": "[email protected]",
    "severity": "low",
    "platform": "Google Cloud",
    "category": "containers___kubernetes__google_gke",
}

# Current schemas, shaped as reference/doit-support-openapi.yml describes them.
LIST_ITEM: dict[str, Any] = {
    "id": 141523,
    "subject": "Cloud SQL: requests timing out since this morning",
    "severity": "urgent",
    "status": "open",
    "requester": "li.wei@example.com",
    "platform": "google_cloud_platform",
    "product": "Cloud SQL",
    "createTime": 1779000000000,
    "updateTime": 1779003600500,
    "urlUI": "https://app.doit.com/customers/sandboxCustomer01/support/tickets/141523",
    "is_public": True,
    "tags": ["production", "follow-up"],
}
DETAIL: dict[str, Any] = {
    **LIST_ITEM,
    "description": "<p>Hi DoiT team,</p>\n<pre>rpc error: code = DeadlineExceeded</pre>",
    "platform_info": "checkout-prod-1234,search-prod-5678",
}
CREATED: dict[str, Any] = {
    "id": 141900,
    "subject": "Pods restart every few minutes",
    "requester": "sam.okafor@example.com",
    "severity": "high",
    "platform": "google_cloud_platform",
    "product": "Google Kubernetes Engine (GKE)",
    "status": "new",
    "urlUI": "https://app.doit.com/customers/sandboxCustomer01/support/tickets/141900",
    "created": 1779100000000,
}
COMMENT: dict[str, Any] = {
    "id": 9000012,
    "body": "Thanks! Attaching the logs from this morning.",
    "author": "sa:svc-1234",
    "created": 1779001234567,
    "attachments": [
        {
            "id": 7000012,
            "file_name": "screenshot.png",
            "content_url": "https://doit.zendesk.com/attachments/token/sbx9000012/?name=screenshot.png",
        }
    ],
}


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def test_overview_list_sample_when_parsed_has_every_field_as_printed() -> None:
    page = TicketPage.model_validate(OVERVIEW_LIST_SAMPLE)

    assert page.next_page_token is None
    assert page.row_count is None
    assert len(page.tickets) == 2
    first, second = page.tickets
    assert first == Ticket(
        id=35266,
        subject="getting error when running a query",
        severity="high",
        status="hold",
        requester="[email protected]",
        platform="google_cloud_platform",
        product="analytics___etls__google_bigquery",
        url="https://app.doit.com/customers/2Gi0e4pPA3wsfJNOOohW/support/tickets/35266",
        update_time=datetime(2020, 11, 24, 10, 58, 18, tzinfo=UTC),
    )
    assert first.create_time is None
    assert first.is_active is True
    assert second.id == 28739
    assert second.subject == "S3 object download not fetching the latest version "
    assert second.platform == "amazon_web_services"
    assert second.product == "storage__amazon_s3"
    assert second.status == "closed"
    assert second.update_time == datetime(2020, 6, 11, 14, 21, 57, tzinfo=UTC)
    assert second.url == "https://app.doit.com/customers/2Gi0e4pPA3wsfJNOOohW/support/tickets/28739"
    assert second.is_active is False


def test_overview_create_response_when_parsed_has_every_field_as_printed() -> None:
    ticket = Ticket.model_validate(OVERVIEW_CREATE_RESPONSE)

    assert ticket == Ticket(
        id=35519,
        subject="Pod restart every few minutes",
        severity="low",
        status="new",
        requester="[email protected]",
        platform="google_cloud_platform",
        product="containers___kubernetes__google_gke",
        url="https://app.doit.com/customers/2Gi0e4pPA3wsfJNOOohW/support/tickets/35519",
    )
    assert ticket.create_time is None
    assert ticket.update_time is None


def test_overview_create_request_when_parsed_maps_google_cloud_to_its_id() -> None:
    ticket = Ticket.model_validate({"id": 1, **OVERVIEW_CREATE_REQUEST_TICKET})

    assert ticket.platform == "google_cloud_platform"
    assert ticket.product == "containers___kubernetes__google_gke"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Google Cloud", "google_cloud_platform"),
        ("Amazon Web Services", "amazon_web_services"),
        ("Microsoft Azure", "microsoft_azure"),
        ("DoiT", "doit"),
        ("google_cloud_platform", "google_cloud_platform"),
        ("perfectscale", "perfectscale"),
        ("Some New Platform", "Some New Platform"),
    ],
)
def test_ticket_platform_when_display_name_then_id_else_unchanged(given: str, expected: str) -> None:
    assert Ticket.model_validate({"id": 1, "platform": given}).platform == expected


def test_tickets_list_when_current_schema_then_every_field_parses() -> None:
    page = TicketPage.model_validate(
        {"tickets": [LIST_ITEM], "pageToken": "eyJvZmZzZXQiOjEwMH0", "rowCount": 1}
    )

    assert page.next_page_token == "eyJvZmZzZXQiOjEwMH0"
    assert page.row_count == 1
    assert page.tickets == (
        Ticket(
            id=141523,
            subject="Cloud SQL: requests timing out since this morning",
            severity="urgent",
            status="open",
            requester="li.wei@example.com",
            platform="google_cloud_platform",
            product="Cloud SQL",
            url="https://app.doit.com/customers/sandboxCustomer01/support/tickets/141523",
            create_time=ms(1779000000000),
            update_time=ms(1779003600500),
            is_public=True,
            tags=("production", "follow-up"),
        ),
    )
    assert page.tickets[0].update_time == datetime(2026, 5, 17, 7, 40, 0, 500000, tzinfo=UTC)


@pytest.mark.parametrize("token", ["", None])
def test_tickets_list_when_page_token_empty_or_null_then_last_page(token: str | None) -> None:
    page = TicketPage.model_validate({"tickets": [], "pageToken": token, "rowCount": 0})

    assert page.next_page_token is None
    assert page.tickets == ()
    assert page.row_count == 0


def test_tickets_list_when_tickets_null_then_empty() -> None:
    assert TicketPage.model_validate({"tickets": None}).tickets == ()


def test_ticket_detail_when_current_schema_then_description_and_platform_info_parse() -> None:
    ticket = Ticket.model_validate(DETAIL)

    assert ticket.description == "<p>Hi DoiT team,</p>\n<pre>rpc error: code = DeadlineExceeded</pre>"
    assert ticket.platform_info == "checkout-prod-1234,search-prod-5678"
    assert ticket.create_time == ms(1779000000000)
    assert ticket.tags == ("production", "follow-up")


def test_ticket_response_when_created_field_then_it_is_the_creation_time() -> None:
    ticket = Ticket.model_validate(CREATED)

    assert ticket == Ticket(
        id=141900,
        subject="Pods restart every few minutes",
        severity="high",
        status="new",
        requester="sam.okafor@example.com",
        platform="google_cloud_platform",
        product="Google Kubernetes Engine (GKE)",
        url="https://app.doit.com/customers/sandboxCustomer01/support/tickets/141900",
        create_time=ms(1779100000000),
    )


def test_ticket_when_both_generations_present_then_current_names_win() -> None:
    ticket = Ticket.model_validate(
        {
            "id": 5,
            "product": "Compute Engine",
            "category": "compute_engine",
            "urlUI": "https://new.example/5",
            "url": "https://old.example/5",
            "updateTime": 2000,
            "lastModified": 1000,
        }
    )

    assert ticket.product == "Compute Engine"
    assert ticket.url == "https://new.example/5"
    assert ticket.update_time == ms(2000)


@pytest.mark.parametrize(
    ("severity", "status"), [("critical", "escalated"), ("P1", "waiting-on-vendor"), ("", "")]
)
def test_ticket_when_unknown_status_or_severity_then_passed_through(severity: str, status: str) -> None:
    ticket = Ticket.model_validate({"id": 7, "severity": severity, "status": status})

    assert ticket.severity == severity
    assert ticket.status == status
    assert ticket.is_active is False


def test_ticket_when_requester_missing_then_none() -> None:
    item = {k: v for k, v in LIST_ITEM.items() if k != "requester"}

    assert Ticket.model_validate(item).requester is None


def test_ticket_when_nulls_then_empty_text_and_no_tags() -> None:
    ticket = Ticket.model_validate({"id": 8, "subject": None, "severity": None, "status": None, "tags": None})

    assert (ticket.subject, ticket.severity, ticket.status, ticket.tags) == ("", "", "", ())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1606215498000", datetime(2020, 11, 24, 10, 58, 18, tzinfo=UTC)),
        (1606215498000, datetime(2020, 11, 24, 10, 58, 18, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        ("2020-11-24T10:58:18Z", datetime(2020, 11, 24, 10, 58, 18, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_ticket_times_when_ms_string_int_or_iso_then_parsed(value: Any, expected: datetime | None) -> None:
    assert Ticket.model_validate({"id": 9, "updateTime": value}).update_time == expected


def test_to_epoch_ms_when_naive_or_aware_then_utc_milliseconds() -> None:
    assert to_epoch_ms(datetime(2020, 11, 24, 10, 58, 18)) == 1606215498000
    assert to_epoch_ms(datetime(2020, 11, 24, 10, 58, 18, 500000, tzinfo=UTC)) == 1606215498500


def test_comment_when_current_schema_then_attachments_parse() -> None:
    comment = Comment.model_validate(COMMENT)

    assert comment == Comment(
        id=9000012,
        body="Thanks! Attaching the logs from this morning.",
        author="sa:svc-1234",
        created=ms(1779001234567),
        attachments=(
            Attachment(
                id=7000012,
                file_name="screenshot.png",
                content_url="https://doit.zendesk.com/attachments/token/sbx9000012/?name=screenshot.png",
            ),
        ),
    )


def test_comment_when_body_null_and_no_attachments_then_empty() -> None:
    comment = Comment.model_validate({"id": 1, "body": None})

    assert (comment.body, comment.attachments, comment.created, comment.author) == ("", (), None, None)


def test_platform_when_platform_api_schema_then_id_and_display_name() -> None:
    platform = Platform.model_validate({"displayName": "Finance & Billing", "id": "finance___billing"})

    assert (platform.id, platform.display_name) == ("finance___billing", "Finance & Billing")


def test_product_when_product_api_schema_then_every_field() -> None:
    product = Product.model_validate(
        {"displayName": "Amazon S3", "id": "storage__amazon_s3", "platform": "amazon_web_services"}
    )

    assert (product.id, product.display_name, product.platform) == (
        "storage__amazon_s3",
        "Amazon S3",
        "amazon_web_services",
    )


def test_key_owner_when_validate_response_then_domain_and_email() -> None:
    owner = KeyOwner.model_validate({"domain": "example.com", "email": "dana@example.com"})

    assert (owner.domain, owner.email) == ("example.com", "dana@example.com")


def test_new_ticket_to_api_when_requester_set_then_current_field_names() -> None:
    new = NewTicket(
        subject="Pods restart",
        body="<p>It restarts</p>",
        severity="high",
        platform="google_cloud_platform",
        product="containers___kubernetes__google_gke",
        requester="sam.okafor@example.com",
    )

    assert new.to_api() == {
        "ticket": {
            "subject": "Pods restart",
            "body": "<p>It restarts</p>",
            "severity": "high",
            "platform": "google_cloud_platform",
            "product": "containers___kubernetes__google_gke",
            "requester": "sam.okafor@example.com",
        }
    }


@pytest.mark.parametrize("requester", [None, ""])
def test_new_ticket_to_api_when_no_requester_then_key_left_out(requester: str | None) -> None:
    new = NewTicket(
        subject="S", body="B", severity="low", platform="doit", product="doit_console", requester=requester
    )

    assert new.to_api() == {
        "ticket": {
            "subject": "S",
            "body": "B",
            "severity": "low",
            "platform": "doit",
            "product": "doit_console",
        }
    }
