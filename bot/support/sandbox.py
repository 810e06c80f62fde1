"""A local DoiT Support API for development and tests.

The sandbox speaks the contract in ``reference/doit-support-openapi.yml`` over real HTTP on the
loopback interface, with seeded tickets that look like a customer's history, so the client, the
watcher and the Slack surfaces can be exercised without DoiT. Python-side controls (``advance``,
``set_status``, ``inject``...) and a few unauthenticated ``/_sandbox/...`` endpoints move tickets
along and inject faults.

Choices where the spec leaves room (the live API's behaviour is not documented for these):

* ``PATCH`` with ``open``/``pending``/``hold`` answers 403 (a DoiT-employee value, the caller is a
  customer); an assignee answers 403 too; a status outside the spec's enum (``closed``, ``new``,
  anything else) answers 400, and so does any update of a closed ticket.
* A comment on a closed ticket answers 400 (Zendesk cannot reopen it); a comment on a pending or
  solved ticket reopens it, as a requester's reply does in Zendesk.
* Page tokens are offsets into the filtered, newest-first list, signed so that an edited token is
  rejected. A ticket created during a walk shifts later pages by one, as offset paging does.

Typical use in a test::

    with Sandbox(tickets=50) as sandbox:
        sandbox.inject(status=503, retry_after=1)
        client = SupportClient(DEFAULT_API_KEY, base_url=sandbox.base_url)
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import random
import re
import secrets
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

logger = logging.getLogger(__name__)

DEFAULT_API_KEY = "sandbox-key"
CUSTOMER_ID = "sandboxCustomer01"
"""The customer id in every ticket's console link."""

REQUESTER_POLICIES: tuple[str, ...] = ("any", "service-account", "personal")
SEVERITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
ACTIVE_STATUSES: frozenset[str] = frozenset({"new", "open", "pending", "hold"})
PATCHABLE_STATUSES: tuple[str, ...] = ("open", "pending", "hold", "solved")
"""The spec's enum for ``PATCH``; customers may only use ``solved`` of these."""

CONTROL_PREFIX = "/_sandbox/"
CUSTOMER_TAG_PREFIX = "customer_tag/"
_DAY_MS = 86_400_000


# --- the catalog --------------------------------------------------------------------------------

PLATFORMS: dict[str, str] = {
    "cloud_management_platform": "Cloud Management Platform",
    "google_cloud_platform": "Google Cloud",
    "google_g_suite": "Google Workspace",
    "amazon_web_services": "Amazon Web Services",
    "microsoft_azure": "Microsoft Azure",
    "microsoft_office_365": "Microsoft 365",
    "perfectscale": "PerfectScale",
    "finance___billing": "Finance & Billing",
    "credits___request": "Credits Request",
    "doit": "DoiT",
}
"""Platform id -> display name. The live catalog's nine, plus ``doit`` from the spec's enum."""

# Some ids are historic category slugs that no longer match the display name, as in the live
# catalog: a client must send the id or the display name, never derive one from the other.
PRODUCTS: dict[str, tuple[tuple[str, str], ...]] = {
    "google_cloud_platform": (
        ("compute_engine", "Compute Engine"),
        ("analytics___etls__google_bigquery", "BigQuery"),
        ("containers___kubernetes__google_gke", "Google Kubernetes Engine (GKE)"),
        ("cloud_sql", "Cloud SQL"),
        ("cloud_storage", "Cloud Storage"),
        ("cloud_run", "Cloud Run"),
        ("cloud_functions", "Cloud Functions"),
        ("pub_sub", "Pub/Sub"),
        ("networking__vpc_load_balancing", "Networking (VPC & Load Balancing)"),
        ("iam___security", "IAM & Security"),
        ("vertex_ai", "Vertex AI"),
        ("looker", "Looker"),
    ),
    "amazon_web_services": (
        ("compute__amazon_ec2", "Amazon EC2"),
        ("storage__amazon_s3", "Amazon S3"),
        ("containers__amazon_eks", "Amazon EKS"),
        ("databases__amazon_rds", "Amazon RDS"),
        ("serverless__aws_lambda", "AWS Lambda"),
        ("amazon_dynamodb", "Amazon DynamoDB"),
        ("amazon_cloudfront", "Amazon CloudFront"),
        ("amazon_vpc", "Amazon VPC"),
        ("aws_iam", "AWS IAM"),
        ("amazon_bedrock", "Amazon Bedrock"),
        ("aws_cost_explorer", "AWS Cost Explorer"),
    ),
    "microsoft_azure": (
        ("azure_virtual_machines", "Azure Virtual Machines"),
        ("azure_kubernetes_service__aks", "Azure Kubernetes Service (AKS)"),
        ("azure_sql_database", "Azure SQL Database"),
        ("azure_blob_storage", "Azure Blob Storage"),
        ("azure_functions", "Azure Functions"),
        ("azure_active_directory", "Microsoft Entra ID"),
        ("azure_openai", "Azure OpenAI Service"),
    ),
    "doit": (
        ("doit_console", "DoiT Console"),
        ("cloud_analytics", "Cloud Analytics"),
        ("anomaly_detection", "Anomaly Detection"),
        ("flexsave", "Flexsave"),
        ("doit_api", "DoiT API"),
    ),
    "cloud_management_platform": (
        ("cmp_reports", "Reports"),
        ("cmp_budgets_alerts", "Budgets & Alerts"),
        ("cmp_users_access", "Users & Access"),
    ),
    "google_g_suite": (
        ("gmail", "Gmail"),
        ("google_drive", "Google Drive"),
        ("workspace_admin_console", "Admin Console"),
        ("workspace_licensing", "Licensing"),
    ),
    "microsoft_office_365": (
        ("exchange_online", "Exchange Online"),
        ("microsoft_teams", "Microsoft Teams"),
        ("m365_licensing", "Licensing"),
    ),
    "perfectscale": (
        ("perfectscale_onboarding", "Onboarding"),
        ("perfectscale_rightsizing", "Right-sizing Recommendations"),
    ),
    "finance___billing": (
        ("invoices", "Invoices"),
        ("payments", "Payments"),
        ("billing_account_setup", "Billing Account Setup"),
    ),
    "credits___request": (
        ("google_cloud_credits", "Google Cloud Credits"),
        ("aws_credits", "AWS Credits"),
    ),
}


def product_id_for(display_name: str) -> str:
    """DoiT's slug rule: lower-case, every other character an underscore, no trailing ones."""
    return re.sub(r"[^a-z0-9]", "_", display_name.lower()).rstrip("_") or "product"


def _catalog_with(overrides: Mapping[str, list[str]] | None) -> dict[str, tuple[tuple[str, str], ...]]:
    catalog = dict(PRODUCTS)
    for platform_id, names in (overrides or {}).items():
        products: list[tuple[str, str]] = []
        seen: set[str] = set()
        for name in names:
            product_id, suffix = product_id_for(name), 2
            while product_id in seen:
                product_id, suffix = f"{product_id_for(name)}_{suffix}", suffix + 1
            seen.add(product_id)
            products.append((product_id, name))
        catalog[platform_id] = tuple(products)
    return catalog


# --- seed material ------------------------------------------------------------------------------

_PLATFORM_WEIGHTS: dict[str, int] = {
    "google_cloud_platform": 38,
    "amazon_web_services": 30,
    "microsoft_azure": 12,
    "doit": 5,
    "cloud_management_platform": 3,
    "google_g_suite": 3,
    "microsoft_office_365": 2,
    "perfectscale": 2,
    "finance___billing": 4,
    "credits___request": 1,
}
_REGIONS: dict[str, tuple[str, ...]] = {
    "google_cloud_platform": ("us-central1", "europe-west1", "asia-northeast1", "us-east4"),
    "amazon_web_services": ("us-east-1", "eu-west-1", "ap-northeast-1", "eu-central-1"),
    "microsoft_azure": ("westeurope", "eastus2", "japaneast", "uksouth"),
}
_SEVERITY_WEIGHTS: dict[str, int] = {"low": 25, "normal": 45, "high": 22, "urgent": 8}
_REQUESTER_NAMES: tuple[str, ...] = (
    "li.wei",
    "marta.garcia",
    "sam.okafor",
    "noemie.lefevre",
    "raj.patel",
    "platform-team",
)
_ENGINEERS: tuple[str, ...] = (
    "yael.cohen@doit.com",
    "tom.becker@doit.com",
    "priya.nair@doit.com",
    "diego.santos@doit.com",
)
_PROJECTS: tuple[str, ...] = (
    "checkout",
    "data-platform",
    "ml-training",
    "web-frontend",
    "payments",
    "search",
)
_ENVIRONMENTS: tuple[str, ...] = ("production", "staging", "dev")
_CLOUD_SUBJECTS: tuple[str, ...] = (
    "{product}: requests timing out since this morning",
    "Quota increase needed for {product} in {region}",
    "{product} costs doubled after last week's change",
    "Permission denied for the {project} service account on {product}",
    "Architecture advice: {project} on {product}",
    "Intermittent 5xx errors from {product} in {region}",
    "Migrating {project} to {product}: best practices?",
    "{product} upgrade failed in {environment}",
    "Latency spike on {product} ({region})",
    "{product} resource stuck in 'deleting' state",
    "Cannot connect to {product} from our {environment} VPC",
    "{product} keeps restarting in {environment}",
    "{product} throttling our {project} jobs",
)
_OTHER_SUBJECTS: dict[str, tuple[str, ...]] = {
    "finance___billing": (
        "{product}: last month's total does not match Cloud Analytics",
        "{product}: please add our VAT number",
        "Question about the {project} charges on the last invoice",
        "{product}: change the billing contact to finance@example.com",
    ),
    "credits___request": (
        "{product} for a proof of concept of {project}",
        "{product}: have our startup credits been applied?",
    ),
    "google_g_suite": (
        "{product}: users cannot sign in since this morning",
        "{product}: please add 25 licences",
        "{product}: mail delivery delays for the {project} team",
    ),
    "microsoft_office_365": (
        "{product}: users cannot sign in since this morning",
        "{product}: please add 25 licences",
    ),
}
_PRODUCT_SUBJECTS: tuple[str, ...] = (
    "{product} shows wrong totals for the {project} project",
    "Cannot invite a colleague to {product}",
    "{product}: the same alert fired twice",
    "How do we set up {product} for the {project} team?",
)
_SPECIAL_SUBJECTS: tuple[str, ...] = (
    "Café checkout: Cloud SQL latency in europe-west1, résumé uploads fail",
    "東京リージョンの GKE ノードが再起動を繰り返す（日本語のログ付き）",
    "🔥 Production down: checkout API returns 502 🚨",
    "Billing & invoices: Q3 credits not applied",
    "Query with WHERE a < b AND b > c returns nothing",
    "<!channel> urgent: the whole cluster is gone",
    "Please loop in <!here> and <@U012ABCDEF> about <https://example.com|this link>",
    "Naïve façade: the Zürich office can't reach BigQuery — “smart quotes” too",
    "*bold* _italic_ ~strike~ `code` and > a quote",
    (
        "Long-running BigQuery scheduled queries in the data-platform project have been failing every "
        "night since the 3rd with 'Resources exceeded during query execution', although the same SQL "
        "succeeds when run by hand in the console, and we need to understand whether this is a slot "
        "capacity problem, a change on Google's side, or something in our reservation assignments"
    ),
    (
        "EKS cluster upgrade from 1.28 to 1.29 stuck: managed node group 'workers-spot' reports "
        "NodeCreationFailure, pods pending for hours, cluster autoscaler logs show repeated "
        "'failed to fix node group sizes' errors, the launch template was not changed, and we have "
        "a production release planned for Thursday that depends on this cluster being healthy again "
        "— please advise urgently & tell us what information you need from our side <today>"
    ),
)
_ERRORS: tuple[str, ...] = (
    "ERROR: (gcloud.compute.instances.create) Quota 'CPUS' exceeded. Limit: 24.0 in region",
    "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied",
    "rpc error: code = DeadlineExceeded desc = context deadline exceeded",
    "Resources exceeded during query execution: Not enough resources for query planning",
    "0/12 nodes are available: 12 Insufficient memory. preemption: 0/12 nodes are available",
    "The client 'sp-deploy' does not have authorization to perform action 'Microsoft.Compute/write'",
)
_REPLIES_ENGINEER: tuple[str, ...] = (
    "Hi, thanks for reaching out. I'm looking into this now and will update you shortly.",
    "Could you share the exact error message and the time (with time zone) it started?",
    "I reproduced this on our side. It looks related to a recent change in the default quota.",
    "We opened a case with the vendor and will keep you posted here.",
    "The fix has been rolled out. Could you confirm it works for you now?",
    "I'm marking this as solved; reply here if anything else comes up.",
)
_REPLIES_REQUESTER: tuple[str, ...] = (
    "Thanks! Attaching the logs from this morning.",
    "It started around 09:40 CET. We haven't changed anything on our side.",
    "Confirmed, it works now. Thank you for the quick help!",
    "Still seeing it on about 5% of requests, see the screenshot.",
    "Any update? This is blocking our release & the team is waiting.",
)
_CUSTOMER_TAGS: tuple[str, ...] = ("billing", "production", "migration", "cost-optimization", "follow-up")


# --- state --------------------------------------------------------------------------------------


@dataclass
class _Comment:
    id: int
    body: str
    author: str
    created: int
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "body": self.body,
            "author": self.author,
            "created": self.created,
            "attachments": [dict(a) for a in self.attachments],
        }


@dataclass
class _Ticket:
    id: int
    subject: str
    description: str
    severity: str
    status: str
    requester: str | None
    platform: str
    product: str
    create_time: int
    update_time: int
    platform_info: str = ""
    is_public: bool = True
    tags: list[str] = field(default_factory=list)
    comments: list[_Comment] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://app.doit.com/customers/{CUSTOMER_ID}/support/tickets/{self.id}"

    @property
    def visible_tags(self) -> list[str]:
        """A customer sees only its own namespace, without the prefix."""
        return [t[len(CUSTOMER_TAG_PREFIX) :] for t in self.tags if t.startswith(CUSTOMER_TAG_PREFIX)]

    def list_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self.id,
            "subject": self.subject,
            "severity": self.severity,
            "status": self.status,
            "requester": self.requester,
            "platform": self.platform,
            "product": self.product,
            "createTime": self.create_time,
            "updateTime": self.update_time,
            "urlUI": self.url,
            "is_public": self.is_public,
            "tags": self.visible_tags,
        }
        return _without_missing_requester(item)

    def detail(self) -> dict[str, Any]:
        item = self.list_item()
        item["description"] = self.description
        item["platform_info"] = self.platform_info
        return item

    def created_response(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self.id,
            "subject": self.subject,
            "requester": self.requester,
            "severity": self.severity,
            "platform": self.platform,
            "product": self.product,
            "status": self.status,
            "urlUI": self.url,
            "created": self.create_time,
        }
        return _without_missing_requester(item)


def _without_missing_requester(item: dict[str, Any]) -> dict[str, Any]:
    # The live API leaves the key out rather than sending null.
    if item.get("requester") is None:
        item.pop("requester", None)
    return item


class _Headers(dict[str, str]):
    """Request headers; names are stored lower-cased and looked up case-insensitively."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received on an API path, with the Authorization value redacted."""

    method: str
    path: str
    query: dict[str, list[str]]
    json: Any | None
    headers: Mapping[str, str]


@dataclass(frozen=True)
class _Incoming:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: _Headers
    json: Any | None
    body_is_invalid_json: bool

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class _Response:
    status: int
    body: Any = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class _ApiError(Exception):
    """Raised by a handler; becomes an ``{"error": ...}`` answer, or problem+json when ``code`` is set."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}

    def response(self) -> _Response:
        if self.code is None:
            return _Response(self.status, {"error": self.message}, headers=self.headers)
        return _problem(self.status, self.message, self.code, headers=self.headers)


_PROBLEM_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream_error",
    503: "upstream_unavailable",
    504: "upstream_timeout",
}
_RETRYABLE_STATUSES: frozenset[int] = frozenset({429, 503, 504})
_FAULT_MESSAGES: dict[int, str] = {
    429: "Too many requests, slow down",
    502: "The upstream ticket system returned an error that a retry will not fix",
    503: "The upstream support system is temporarily unavailable",
    504: "The upstream support system did not answer in time",
}


def _seconds(value: float) -> str:
    """Retry-After text: whole seconds as an integer, as HTTP has them; fractions kept for fast tests."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _problem(status: int, detail: str, code: str, *, headers: dict[str, str] | None = None) -> _Response:
    body = {
        "type": f"https://api.doit.com/problems/{code.replace('_', '-')}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "retryable": status in _RETRYABLE_STATUSES,
    }
    return _Response(status, body, content_type="application/problem+json", headers=headers or {})


@dataclass
class _Fault:
    status: int | None
    latency: float
    remaining: int
    method: str | None
    path_prefix: str
    retry_after: float | None
    problem_json: bool
    message: str | None
    drop_connection: bool

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path_prefix)

    def response(self, status: int) -> _Response:
        message = self.message or _FAULT_MESSAGES.get(status) or HTTPStatus(status).phrase
        headers = {} if self.retry_after is None else {"Retry-After": _seconds(self.retry_after)}
        if self.problem_json:
            return _problem(status, message, _PROBLEM_CODES.get(status, "error"), headers=headers)
        return _Response(status, {"error": message}, headers=headers)


# --- list queries -------------------------------------------------------------------------------

_FILTER_KEYS: dict[str, str] = {"severity": "severity", "status": "status", "priority": "severity"}
"""Filter key -> ticket attribute; ``priority`` is the overview page's name for severity."""


def _parse_filter(text: str) -> dict[str, frozenset[str]]:
    """``key:value|key:value`` -> attribute -> accepted values, with DoiT's rules and messages."""
    if not text:
        return {}
    values: dict[str, list[str]] = {}
    for segment in text.split("|"):
        key, colon, value = segment.partition(":")
        if not colon:
            raise _ApiError(400, f"Invalid filter segment {segment!r}: expected key:value")
        if key not in _FILTER_KEYS:
            raise _ApiError(400, f"Invalid filter key: {key}")
        values.setdefault(_FILTER_KEYS[key], []).append(value)
    if sum(1 for v in values.values() if len(v) > 1) > 1:
        raise _ApiError(400, "Filter has more than one key that repeats more than once")
    return {attribute: frozenset(v) for attribute, v in values.items()}


def _parse_max_results(text: str | None) -> int:
    if text is None:
        return 100
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100:
        raise _ApiError(400, f"Invalid maxResults {text!r}: expected an integer from 1 to 100")
    return value


def _parse_epoch_ms(name: str, text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not text.isascii() or not text.isdigit():
        raise _ApiError(400, f"Invalid {name} {text!r}: expected milliseconds since the epoch")
    return int(text)


@dataclass(frozen=True)
class _ListQuery:
    filter_text: str
    min_time: int | None
    max_time: int | None
    offset: int = 0

    def matches(self, ticket: _Ticket, filters: Mapping[str, frozenset[str]]) -> bool:
        if self.min_time is not None and ticket.create_time < self.min_time:
            return False
        if self.max_time is not None and ticket.create_time > self.max_time:
            return False
        return all(getattr(ticket, attribute) in accepted for attribute, accepted in filters.items())

    def token_payload(self, offset: int) -> dict[str, Any]:
        return {"offset": offset, "filter": self.filter_text, "min": self.min_time, "max": self.max_time}


class _PageTokens:
    """Opaque page tokens: base64 of the query and offset, with a signature against edits."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(16)

    def _sign(self, payload: Mapping[str, Any]) -> str:
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self._secret, canonical, hashlib.sha256).hexdigest()[:20]

    def encode(self, query: _ListQuery, offset: int) -> str:
        payload = query.token_payload(offset)
        raw = json.dumps({**payload, "sig": self._sign(payload)}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def decode(self, token: str) -> _ListQuery:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            signature = data.pop("sig")
            query = _ListQuery(data["filter"], data["min"], data["max"], offset=int(data["offset"]))
            valid = hmac.compare_digest(str(signature), self._sign(data)) and query.offset >= 0
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            valid = False
        if not valid:
            raise _ApiError(400, "Invalid page token")
        return query


def _list_query(request: _Incoming, tokens: _PageTokens) -> _ListQuery:
    """The query of a list request: from its parameters, or from its page token."""
    asked = _ListQuery(
        request.param("filter") or "",
        _parse_epoch_ms("minCreationTime", request.param("minCreationTime")),
        _parse_epoch_ms("maxCreationTime", request.param("maxCreationTime")),
    )
    token = request.param("pageToken")
    if not token:
        return asked
    continued = tokens.decode(token)
    # A parameter repeated on a later page must be the one the token was issued for.
    mismatched = (
        ("filter" in request.query and asked.filter_text != continued.filter_text)
        or (asked.min_time is not None and asked.min_time != continued.min_time)
        or (asked.max_time is not None and asked.max_time != continued.max_time)
    )
    if mismatched:
        raise _ApiError(400, "Invalid page token: it belongs to a different filter or time range")
    return continued


# --- request bodies -----------------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _json_object(request: _Incoming) -> dict[str, Any]:
    if request.body_is_invalid_json or not isinstance(request.json, dict):
        raise _ApiError(400, "The request body must be a JSON object")
    return request.json


def _optional_json_object(request: _Incoming) -> dict[str, Any]:
    """A control endpoint's body, which may be left out altogether."""
    if request.json is None and not request.body_is_invalid_json:
        return {}
    return _json_object(request)


def _ticket_id(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise _ApiError(400, f"Invalid ticket id {text!r}: expected an integer")
    return int(text)


def _required_text(ticket: Mapping[str, Any]) -> dict[str, str]:
    names = ("subject", "body", "severity", "platform", "product")
    missing = [n for n in names if not isinstance(ticket.get(n), str) or not ticket[n].strip()]
    if missing:
        listed = ", ".join(f"ticket.{n}" for n in missing)
        raise _ApiError(400, f"Missing required field{'s' if len(missing) > 1 else ''}: {listed}")
    return {n: ticket[n] for n in names}


def _tag_list(request: _Incoming) -> list[str]:
    tags = _json_object(request).get("tags")
    if not isinstance(tags, list) or not 1 <= len(tags) <= 50:
        raise _ApiError(400, "tags must be a list of 1 to 50 strings")
    normalised = [t.strip().lower() for t in tags if isinstance(t, str)]
    if len(normalised) != len(tags) or not all(1 <= len(t) <= 80 for t in normalised):
        raise _ApiError(400, "Each tag must be a string of 1 to 80 characters")
    return [CUSTOMER_TAG_PREFIX + t for t in dict.fromkeys(normalised)]


# --- seeding ------------------------------------------------------------------------------------


class _Seeder:
    """Builds a deterministic, realistic ticket history from one ``random.Random``."""

    def __init__(
        self,
        rng: random.Random,
        catalog: Mapping[str, tuple[tuple[str, str], ...]],
        *,
        requesters: tuple[str, ...],
        now_ms: int,
    ) -> None:
        self._rng = rng
        self._catalog = catalog
        self._requesters = requesters
        self._now_ms = now_ms
        self._next_comment_id = 9_000_001
        self._platforms = [p for p in _PLATFORM_WEIGHTS if catalog.get(p)]
        self._platforms += [p for p in catalog if p not in _PLATFORM_WEIGHTS and catalog[p]]

    def tickets(self, count: int) -> list[_Ticket]:
        rng = self._rng
        # A fifth of the history is from the last three weeks: recent tickets are the busy ones.
        ages = sorted(
            (rng.uniform(0, 21) if rng.random() < 0.2 else rng.uniform(0, 180)) * _DAY_MS
            for _ in range(count)
        )
        special_positions = dict(
            zip(rng.sample(range(count), min(count, len(_SPECIAL_SUBJECTS))), _SPECIAL_SUBJECTS, strict=False)
        )
        tickets, ticket_id = [], 141_000
        for index, age in enumerate(reversed(ages)):
            ticket_id += rng.randint(1, 40)  # other customers' tickets fall in between
            create_time = self._now_ms - int(age) - (count - index)  # distinct times, oldest first
            tickets.append(self._ticket(ticket_id, create_time, special_positions.get(index)))
        return tickets

    def _ticket(self, ticket_id: int, create_time: int, subject: str | None) -> _Ticket:
        rng = self._rng
        weights = [_PLATFORM_WEIGHTS.get(p, 1) for p in self._platforms]
        platform = rng.choices(self._platforms, weights)[0]
        product = rng.choice(self._catalog[platform])[1]
        context = self._context(platform, product)
        status = self._status((self._now_ms - create_time) / _DAY_MS)
        ticket = _Ticket(
            id=ticket_id,
            subject=subject or rng.choice(self._subjects(platform)).format(**context),
            description=self._description(context),
            severity=rng.choices(list(_SEVERITY_WEIGHTS), list(_SEVERITY_WEIGHTS.values()))[0],
            status=status,
            requester=None if rng.random() < 0.04 else rng.choice(self._requesters),
            platform=platform,
            product=product,
            create_time=create_time,
            update_time=self._update_time(create_time, status),
            platform_info=self._platform_info(platform),
            is_public=rng.random() < 0.95,
            tags=self._tags(),
        )
        ticket.comments = self._comments(ticket)
        return ticket

    @staticmethod
    def _subjects(platform: str) -> tuple[str, ...]:
        if platform in _REGIONS:
            return _CLOUD_SUBJECTS
        return _OTHER_SUBJECTS.get(platform, _PRODUCT_SUBJECTS)

    def _context(self, platform: str, product: str) -> dict[str, str]:
        rng = self._rng
        return {
            "product": product,
            "region": rng.choice(_REGIONS.get(platform, ("global",))),
            "project": rng.choice(_PROJECTS),
            "environment": rng.choice(_ENVIRONMENTS),
            "error": rng.choice(_ERRORS),
            "name": rng.choice(self._requesters).split("@")[0].split(".")[0].title(),
        }

    def _status(self, age_days: float) -> str:
        if age_days < 3:
            weights = {"new": 30, "open": 35, "pending": 20, "hold": 5, "solved": 10}
        elif age_days < 21:
            weights = {"new": 3, "open": 22, "pending": 20, "hold": 10, "solved": 25, "closed": 20}
        elif age_days < 60:
            weights = {"open": 7, "pending": 6, "hold": 5, "solved": 7, "closed": 75}
        else:
            weights = {"open": 2, "pending": 2, "hold": 3, "closed": 93}
        return self._rng.choices(list(weights), list(weights.values()))[0]

    def _update_time(self, create_time: int, status: str) -> int:
        if status == "new":
            return create_time
        span = self._now_ms - create_time
        if status in ("solved", "closed"):
            span = min(span, self._rng.randint(1, 20) * _DAY_MS)
        return create_time + int(span * self._rng.uniform(0.05, 1.0))

    def _description(self, context: Mapping[str, str]) -> str:
        rng = self._rng
        paragraphs = [
            "<p>Hi DoiT team,</p>",
            f"<p>Since yesterday we see this on <b>{context['product']}</b> for the "
            f"<code>{context['project']}</code> {context['environment']} workload:</p>",
            f"<pre>{_html_escape(context['error'])}</pre>",
            f"<ul><li>Region: {context['region']}</li><li>Impact: customers &amp; internal users</li></ul>",
        ]
        if rng.random() < 0.1:
            lines = (f"{i:04d} {_html_escape(context['error'])}" for i in range(rng.randint(40, 120)))
            paragraphs.append("<p>Full log:</p><pre>" + "\n".join(lines) + "</pre>")
        if rng.random() < 0.3:
            paragraphs.append('<p>Dashboard: <a href="https://example.com/dash?a=1&amp;b=2">here</a></p>')
        paragraphs.append(f"<p>Thanks,<br>{context['name']}</p>")
        return "\n".join(paragraphs)

    def _platform_info(self, platform: str) -> str:
        rng = self._rng
        if rng.random() < 0.15:
            return ""
        if platform == "google_cloud_platform":
            assets = [
                f"{rng.choice(_PROJECTS)}-prod-{rng.randint(1000, 9999)}" for _ in range(rng.randint(1, 2))
            ]
        elif platform == "amazon_web_services":
            assets = [f"{rng.randint(10**11, 10**12 - 1)}" for _ in range(rng.randint(1, 2))]
        elif platform == "microsoft_azure":
            assets = [str(uuid.UUID(int=rng.getrandbits(128), version=4))]
        else:
            return ""
        return ",".join(assets)

    def _tags(self) -> list[str]:
        rng = self._rng
        internal = ["tier/enhanced", "synapse_triaged"][: rng.randint(0, 2)]
        visible = rng.sample(_CUSTOMER_TAGS, rng.randint(1, 2)) if rng.random() < 0.15 else []
        return internal + [CUSTOMER_TAG_PREFIX + t for t in visible]

    def _comments(self, ticket: _Ticket) -> list[_Comment]:
        rng = self._rng
        count = 0 if ticket.status == "new" else rng.randint(0, 4)
        times = sorted(rng.randint(ticket.create_time, ticket.update_time) for _ in range(count))
        engineer = rng.choice(_ENGINEERS)
        comments = []
        for turn, created in enumerate(times):
            from_engineer = turn % 2 == 0 or ticket.requester is None
            body = rng.choice(_REPLIES_ENGINEER if from_engineer else _REPLIES_REQUESTER)
            author = engineer if from_engineer else str(ticket.requester)
            comments.append(self.comment(body, author, created, with_attachment=rng.random() < 0.1))
        return comments

    def comment(self, body: str, author: str, created: int, *, with_attachment: bool = False) -> _Comment:
        comment_id, self._next_comment_id = self._next_comment_id, self._next_comment_id + 1
        attachments = []
        if with_attachment:
            attachments.append(
                {
                    "id": 7_000_000 + comment_id % 1_000_000,
                    "file_name": "screenshot.png",
                    "content_url": f"https://doit.zendesk.com/attachments/token/sbx{comment_id}/?name=screenshot.png",
                }
            )
        return _Comment(comment_id, body, author, created, attachments)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- the sandbox --------------------------------------------------------------------------------

# new -> open -> pending -> open -> solved -> closed, with the branches real tickets take.
_NEXT_STATUS: dict[str, tuple[tuple[str, int], ...]] = {
    "new": (("open", 1),),
    "open": (("pending", 6), ("solved", 4)),
    "pending": (("open", 7), ("solved", 3)),
    "hold": (("open", 1),),
    "solved": (("closed", 1),),
}
_ADD_TICKET_FIELDS: frozenset[str] = frozenset(
    {
        "id",
        "subject",
        "description",
        "body",
        "severity",
        "status",
        "requester",
        "platform",
        "product",
        "platform_info",
        "createTime",
        "updateTime",
        "is_public",
        "tags",
    }
)
_INJECT_OPTIONS: frozenset[str] = frozenset(
    {
        "status",
        "latency",
        "times",
        "method",
        "path_prefix",
        "retry_after",
        "problem_json",
        "message",
        "drop_connection",
    }
)

_Handler = Callable[..., _Response]


class Sandbox:
    """A local DoiT Support API on the loopback interface, with seeded tickets and fault injection."""

    def __init__(
        self,
        *,
        tickets: int = 300,
        seed: int = 7,
        api_key: str = DEFAULT_API_KEY,
        owner_email: str = "dana@example.com",
        domain: str = "example.com",
        products: dict[str, list[str]] | None = None,
        tenants: frozenset[str] | None = None,
        requester_policy: str = "any",
        advance_every: float | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        if requester_policy not in REQUESTER_POLICIES:
            raise ValueError(f"requester_policy must be one of {', '.join(REQUESTER_POLICIES)}")
        if tickets < 0:
            raise ValueError("tickets must be 0 or more")
        if advance_every is not None and advance_every <= 0:
            raise ValueError("advance_every must be a positive number of seconds")
        self.api_key = api_key
        self.owner_email = owner_email
        self.domain = domain
        self.tenants = tenants
        self.requester_policy = requester_policy
        self.advance_every = advance_every
        self._now = now
        self._lock = threading.RLock()
        self._catalog = _catalog_with(products)
        self._platforms = {p: PLATFORMS.get(p, p) for p in (*PLATFORMS, *self._catalog)}
        self._tokens = _PageTokens()
        self._faults: list[_Fault] = []
        self.requests: list[RecordedRequest] = []
        self._advance_rng = random.Random(f"{seed}:advance")
        requesters = (*(f"{name}@{domain}" for name in _REQUESTER_NAMES), owner_email)
        self._seeder = _Seeder(
            random.Random(seed), self._catalog, requesters=requesters, now_ms=self._now_ms()
        )
        self._tickets: dict[int, _Ticket] = {t.id: t for t in self._seeder.tickets(tickets)}
        self._next_id = max(self._tickets, default=141_000) + 1
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._api_routes = self._build_api_routes()
        self._control_routes = self._build_control_routes()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a daemon thread and return the base URL (no trailing slash)."""
        if self._server is not None:
            raise RuntimeError("The sandbox is already running")
        server = _Server((host, port), _RequestHandler)
        server.sandbox = self
        self._server = server
        self._stopping.clear()
        self._spawn(lambda: server.serve_forever(poll_interval=0.02), "doit-sandbox-http")
        if self.advance_every is not None:
            self._spawn(self._advance_periodically, "doit-sandbox-advance")
        logger.debug("DoiT sandbox listening on %s", self.base_url)
        return self.base_url

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop serving; requests still sleeping in an injected latency are abandoned."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.close_open_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    @property
    def base_url(self) -> str:
        """Where the running sandbox answers, e.g. ``http://127.0.0.1:54321``."""
        if self._server is None:
            raise RuntimeError("The sandbox is not running; call start() first")
        host, port = self._server.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _advance_periodically(self) -> None:
        assert self.advance_every is not None
        while not self._stopping.wait(self.advance_every):
            for ticket_id, old, new in self.advance():
                logger.info("Sandbox ticket %s: %s -> %s", ticket_id, old, new)

    # --- Python-side state and control ----------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self._now() * 1000)

    def _touch(self, ticket: _Ticket) -> None:
        # A frozen test clock must still move updateTime, or a watcher would see no change.
        ticket.update_time = max(self._now_ms(), ticket.update_time + 1)

    def _get(self, ticket_id: int) -> _Ticket:
        try:
            return self._tickets[ticket_id]
        except KeyError:
            raise KeyError(f"Ticket {ticket_id} not found") from None

    def _newest_first(self) -> list[_Ticket]:
        return sorted(self._tickets.values(), key=lambda t: (t.create_time, t.id), reverse=True)

    def tickets(self) -> list[dict[str, Any]]:
        """Every ticket in the detail shape, newest first (copies)."""
        with self._lock:
            return [t.detail() for t in self._newest_first()]

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """One ticket in the detail shape; KeyError when there is none."""
        with self._lock:
            return self._get(ticket_id).detail()

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        """A ticket's comments, oldest first (copies)."""
        with self._lock:
            return [c.to_api() for c in self._get(ticket_id).comments]

    def add_ticket(self, **fields: Any) -> dict[str, Any]:
        """Add a ticket from API-shaped fields (``subject``, ``severity``, ``status``...); fill the rest."""
        unknown = set(fields) - _ADD_TICKET_FIELDS
        if unknown:
            raise TypeError(f"add_ticket() got unknown fields: {', '.join(sorted(unknown))}")
        with self._lock:
            ticket = self._new_ticket(fields)
            self._tickets[ticket.id] = ticket
            self._next_id = max(self._next_id, ticket.id + 1)
            return ticket.detail()

    def _new_ticket(self, fields: Mapping[str, Any]) -> _Ticket:
        ticket_id = int(fields.get("id", self._next_id))
        if ticket_id in self._tickets:
            raise ValueError(f"Ticket {ticket_id} already exists")
        platform = fields.get("platform", "google_cloud_platform")
        product = fields.get("product")
        if product is None:
            products = self._catalog.get(platform, ())
            product = products[0][1] if products else "General"
        else:
            product = self._product_name(platform, product) or product
        now_ms = self._now_ms()
        create_time = int(fields.get("createTime", now_ms))
        return _Ticket(
            id=ticket_id,
            subject=fields.get("subject", f"Sandbox ticket {ticket_id}"),
            description=fields.get("description", fields.get("body", "<p>Added in the sandbox.</p>")),
            severity=fields.get("severity", "normal"),
            status=fields.get("status", "new"),
            requester=fields.get("requester", self.owner_email),
            platform=platform,
            product=product,
            create_time=create_time,
            update_time=int(fields.get("updateTime", create_time)),
            platform_info=fields.get("platform_info", ""),
            is_public=bool(fields.get("is_public", True)),
            tags=[CUSTOMER_TAG_PREFIX + t for t in fields.get("tags", ())],
        )

    def set_status(self, ticket_id: int, status: str) -> None:
        """Set any status, including ones the API will not let a customer set; bumps updateTime."""
        with self._lock:
            ticket = self._get(ticket_id)
            ticket.status = status
            self._touch(ticket)

    def advance(self, count: int = 1) -> list[tuple[int, str, str]]:
        """Move up to ``count`` unfinished tickets one step along their life; return (id, old, new)."""
        with self._lock:
            changes = []
            for ticket in self._pick_to_advance(count):
                old = ticket.status
                choices = _NEXT_STATUS[old]
                ticket.status = self._advance_rng.choices([s for s, _ in choices], [w for _, w in choices])[0]
                self._touch(ticket)
                self._comment_on_step(ticket)
                changes.append((ticket.id, old, ticket.status))
            return changes

    def _pick_to_advance(self, count: int) -> list[_Ticket]:
        # Active tickets move more often than solved ones wait to be closed.
        candidates = [t for t in self._newest_first() if t.status in _NEXT_STATUS]
        picked: list[_Ticket] = []
        while candidates and len(picked) < count:
            weights = [4 if t.status in ACTIVE_STATUSES else 1 for t in candidates]
            index = self._advance_rng.choices(range(len(candidates)), weights)[0]
            picked.append(candidates.pop(index))
        return picked

    def _comment_on_step(self, ticket: _Ticket) -> None:
        if ticket.status in ("pending", "solved"):
            body = self._advance_rng.choice(_REPLIES_ENGINEER)
            author = self._advance_rng.choice(_ENGINEERS)
            ticket.comments.append(self._seeder.comment(body, author, ticket.update_time))

    def inject(
        self,
        *,
        status: int | None = None,
        latency: float = 0.0,
        times: int = 1,
        method: str | None = None,
        path_prefix: str = "/",
        retry_after: float | None = None,
        problem_json: bool = False,
        message: str | None = None,
        drop_connection: bool = False,
    ) -> None:
        """Make the next ``times`` matching API requests fail or slow down (``times=-1``: until cleared)."""
        if times != -1 and times < 1:
            raise ValueError("times must be 1 or more, or -1 for every request")
        if status is not None and not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code")
        if latency < 0:
            raise ValueError("latency must not be negative")
        if status is None and not latency and not drop_connection:
            raise ValueError("a fault needs a status, a latency or drop_connection")
        fault = _Fault(
            status=status,
            latency=latency,
            remaining=times,
            method=method.upper() if method else None,
            path_prefix=path_prefix,
            retry_after=retry_after,
            problem_json=problem_json,
            message=message,
            drop_connection=drop_connection,
        )
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self._faults.clear()

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests with this method and exact path."""
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.remaining > 0:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _record(self, request: _Incoming) -> None:
        headers = dict(request.headers)
        if "authorization" in headers:
            headers["authorization"] = "REDACTED"
        recorded = RecordedRequest(
            request.method, request.path, request.query, request.json, _Headers(headers)
        )
        with self._lock:
            self.requests.append(recorded)

    # --- request processing ---------------------------------------------------------------------

    def _process(self, request: _Incoming) -> _Response | None:
        """Answer one request; None means drop the connection without an answer."""
        if not request.path.startswith(CONTROL_PREFIX):
            self._record(request)
            fault = self._take_fault(request.method, request.path)
            if fault is not None:
                if fault.latency:
                    time.sleep(fault.latency)
                if fault.drop_connection:
                    return None
                if fault.status is not None:
                    return fault.response(fault.status)
        try:
            return self._route(request)
        except _ApiError as error:
            return error.response()
        except Exception:
            logger.exception("Sandbox failed on %s %s", request.method, request.path)
            return _Response(500, {"error": "Sandbox internal error"})

    def _route(self, request: _Incoming) -> _Response:
        control = request.path.startswith(CONTROL_PREFIX)
        for pattern, methods in self._control_routes if control else self._api_routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                allowed = ", ".join(methods)
                message = f"Method {request.method} is not allowed on {request.path}; use {allowed}"
                raise _ApiError(405, message, headers={"Allow": allowed})
            if not control:
                self._authorize(request.headers)
            return handler(request, **match.groupdict())
        raise _ApiError(404, f"No such endpoint: {request.path}")

    def _authorize(self, headers: Mapping[str, str]) -> None:
        scheme, _, key = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise _ApiError(401, "Missing API key: send the header 'Authorization: Bearer <API key>'")
        if not hmac.compare_digest(key.strip().encode(), self.api_key.encode()):
            raise _ApiError(401, "Invalid API key")
        if self.tenants is None:
            return
        tenant = headers.get("x-tenant-id")
        if not tenant:
            message = "This API key can access several customers; send the X-Tenant-Id header"
            raise _ApiError(400, message, code="tenant_id_required")
        if tenant not in self.tenants:
            raise _ApiError(
                400, f"X-Tenant-Id {tenant!r} is not a tenant of this API key", code="tenant_id_mismatch"
            )

    def _build_api_routes(self) -> list[tuple[re.Pattern[str], dict[str, _Handler]]]:
        one = r"/support/v1/tickets/(?P<ticket_id>[^/]+)"
        return [
            (re.compile(r"/auth/v1/validate"), {"GET": self._http_validate}),
            (re.compile(r"/support/v1/tickets"), {"GET": self._http_list, "POST": self._http_create}),
            (re.compile(one), {"GET": self._http_get, "PATCH": self._http_update}),
            (re.compile(one + "/comments"), {"GET": self._http_comments, "POST": self._http_add_comment}),
            (
                re.compile(one + "/tags"),
                {"GET": self._http_tags, "POST": self._http_add_tags, "DELETE": self._http_remove_tags},
            ),
            (re.compile(r"/support/v1/metadata/platforms"), {"GET": self._http_platforms}),
            (re.compile(r"/support/v1/metadata/products"), {"GET": self._http_products}),
        ]

    def _build_control_routes(self) -> list[tuple[re.Pattern[str], dict[str, _Handler]]]:
        return [
            (re.compile(r"/_sandbox/advance"), {"POST": self._control_advance}),
            (re.compile(r"/_sandbox/tickets"), {"POST": self._control_add_ticket}),
            (re.compile(r"/_sandbox/tickets/(?P<ticket_id>[^/]+)/status"), {"POST": self._control_status}),
            (re.compile(r"/_sandbox/faults"), {"POST": self._control_inject, "DELETE": self._control_clear}),
        ]

    # --- API handlers ---------------------------------------------------------------------------

    def _http_validate(self, request: _Incoming) -> _Response:
        return _Response(200, {"domain": self.domain, "email": self.owner_email})

    def _http_list(self, request: _Incoming) -> _Response:
        max_results = _parse_max_results(request.param("maxResults"))
        query = _list_query(request, self._tokens)
        filters = _parse_filter(query.filter_text)
        with self._lock:
            matching = [t for t in self._newest_first() if query.matches(t, filters)]
            page = [t.list_item() for t in matching[query.offset : query.offset + max_results]]
        end = query.offset + len(page)
        token = self._tokens.encode(query, end) if end < len(matching) else ""
        return _Response(200, {"tickets": page, "pageToken": token, "rowCount": len(page)})

    def _http_create(self, request: _Incoming) -> _Response:
        ticket = _json_object(request).get("ticket")
        if not isinstance(ticket, dict):
            raise _ApiError(400, 'The request body must be {"ticket": {...}}')
        given = _required_text(ticket)
        if given["severity"] not in SEVERITIES:
            raise _ApiError(
                400, f"Invalid severity {given['severity']!r}: expected one of {', '.join(SEVERITIES)}"
            )
        platform = self._platform_id(given["platform"])
        requester = self._requester(ticket.get("requester"))
        with self._lock:
            product = self._product_name(platform, given["product"])
            if product is None:
                raise _ApiError(400, f"Invalid product {given['product']!r} for platform {platform}")
            created = self._new_ticket(
                {
                    "subject": given["subject"],
                    "description": given["body"],
                    "severity": given["severity"],
                    "platform": platform,
                    "product": product,
                    "requester": requester,
                }
            )
            self._tickets[created.id] = created
            self._next_id = created.id + 1
            return _Response(201, created.created_response())

    def _platform_id(self, text: str) -> str:
        if text in self._catalog:
            return text
        named = [p for p, name in self._platforms.items() if name.lower() == text.lower()]
        hint = f"; {text!r} is a display name, send its id {named[0]}" if named else ""
        raise _ApiError(400, f"Invalid platform {text!r}: expected a platform id{hint}")

    def _product_name(self, platform: str, text: str) -> str | None:
        for product_id, name in self._catalog.get(platform, ()):
            if text in (product_id, name):
                return name
        return None

    def _requester(self, value: Any) -> str:
        if value is None:
            if self.requester_policy == "service-account":
                raise _ApiError(
                    400, "ticket.requester is required when the API key belongs to a service account"
                )
            return self.owner_email
        if self.requester_policy == "personal":
            raise _ApiError(
                400, "ticket.requester must be left out with a personal API key: its owner is the requester"
            )
        if not isinstance(value, str) or not _EMAIL.fullmatch(value):
            raise _ApiError(400, f"Invalid requester {value!r}: expected an email address")
        return value

    def _http_get(self, request: _Incoming, ticket_id: str) -> _Response:
        with self._lock:
            return _Response(200, self._ticket_or_404(ticket_id).detail())

    def _ticket_or_404(self, text: str) -> _Ticket:
        ticket_id = _ticket_id(text)
        ticket = self._tickets.get(ticket_id)
        if ticket is None:
            raise _ApiError(404, f"Ticket {ticket_id} not found")
        return ticket

    def _http_update(self, request: _Incoming, ticket_id: str) -> _Response:
        with self._lock:
            ticket = self._ticket_or_404(ticket_id)
            status = _customer_status_update(_json_object(request))
            if ticket.status == "closed":
                raise _ApiError(400, f"Ticket {ticket.id} is closed and can no longer be updated")
            if ticket.status != status:
                ticket.status = status
                self._touch(ticket)
            return _Response(200, {"id": ticket.id, "status": ticket.status})

    def _http_comments(self, request: _Incoming, ticket_id: str) -> _Response:
        with self._lock:
            ticket = self._ticket_or_404(ticket_id)
            return _Response(200, {"comments": [c.to_api() for c in ticket.comments]})

    def _http_add_comment(self, request: _Incoming, ticket_id: str) -> _Response:
        with self._lock:
            ticket = self._ticket_or_404(ticket_id)
            body = _json_object(request).get("body")
            if not isinstance(body, str) or not body.strip():
                raise _ApiError(400, "body must be a non-empty string")
            if ticket.status == "closed":
                raise _ApiError(400, f"Ticket {ticket.id} is closed; open a follow-up ticket instead")
            if ticket.status in ("pending", "solved"):
                ticket.status = "open"
            self._touch(ticket)
            comment = self._seeder.comment(body, self.owner_email, ticket.update_time)
            ticket.comments.append(comment)
            return _Response(201, comment.to_api())

    def _http_tags(self, request: _Incoming, ticket_id: str) -> _Response:
        with self._lock:
            return _Response(200, {"tags": self._ticket_or_404(ticket_id).visible_tags})

    def _http_add_tags(self, request: _Incoming, ticket_id: str) -> _Response:
        with self._lock:
            ticket = self._ticket_or_404(ticket_id)
            tags = _tag_list(request)
            added = [t for t in tags if t not in ticket.tags]
            if added:
                ticket.tags.extend(added)
                self._touch(ticket)
            return _Response(200, {"applied_tags": tags})

    def _http_remove_tags(self, request: _Incoming, ticket_id: str) -> _Response:
        with self._lock:
            ticket = self._ticket_or_404(ticket_id)
            tags = _tag_list(request)
            kept = [t for t in ticket.tags if t not in tags]
            if len(kept) != len(ticket.tags):
                ticket.tags = kept
                self._touch(ticket)
            return _Response(200, {"applied_tags": tags})

    def _http_platforms(self, request: _Incoming) -> _Response:
        platforms = [{"id": p, "displayName": name} for p, name in self._platforms.items()]
        return _Response(200, {"platforms": platforms})

    def _http_products(self, request: _Incoming) -> _Response:
        wanted = request.param("platform")
        if wanted and wanted not in self._catalog:
            raise _ApiError(400, f"Invalid platform {wanted!r}: expected a platform id")
        platforms: Iterable[str] = [wanted] if wanted else self._catalog
        products = [
            {"id": product_id, "displayName": name, "platform": platform}
            for platform in platforms
            for product_id, name in self._catalog[platform]
        ]
        return _Response(200, {"products": products})

    # --- control handlers -----------------------------------------------------------------------

    def _control_advance(self, request: _Incoming) -> _Response:
        count = _optional_json_object(request).get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise _ApiError(400, 'Send {"count": n} with n a positive integer')
        changes = [{"id": i, "from": old, "to": new} for i, old, new in self.advance(count)]
        return _Response(200, {"changes": changes})

    def _control_add_ticket(self, request: _Incoming) -> _Response:
        fields = _optional_json_object(request)
        try:
            return _Response(201, self.add_ticket(**fields))
        except (TypeError, ValueError) as error:
            raise _ApiError(400, str(error)) from error

    def _control_status(self, request: _Incoming, ticket_id: str) -> _Response:
        status = _json_object(request).get("status")
        if not isinstance(status, str) or not status:
            raise _ApiError(400, 'Send {"status": "<status>"}')
        try:
            self.set_status(_ticket_id(ticket_id), status)
            return _Response(200, self.ticket(_ticket_id(ticket_id)))
        except KeyError as error:
            raise _ApiError(404, f"Ticket {ticket_id} not found") from error

    def _control_inject(self, request: _Incoming) -> _Response:
        options = _json_object(request)
        unknown = set(options) - _INJECT_OPTIONS
        if unknown:
            raise _ApiError(400, f"Unknown fault options: {', '.join(sorted(unknown))}")
        try:
            self.inject(**options)
        except (TypeError, ValueError) as error:
            raise _ApiError(400, str(error)) from error
        return _Response(201, {"fault": options})

    def _control_clear(self, request: _Incoming) -> _Response:
        self.clear_faults()
        return _Response(200, {"faults": []})


def _customer_status_update(body: Mapping[str, Any]) -> str:
    """The status a customer's PATCH body asks for, or the API's refusal."""
    if not body:
        raise _ApiError(400, "Send at least one of status or assignee")
    unknown = set(body) - {"status", "assignee"}
    if unknown:
        raise _ApiError(
            400, f"Unknown fields {', '.join(sorted(unknown))}: only status and assignee can be updated"
        )
    if "assignee" in body:
        raise _ApiError(403, "Only DoiT employees can set an assignee")
    status = body["status"]
    if status == "closed":
        raise _ApiError(
            400, "closed cannot be set through the API; set solved and the ticket closes by itself"
        )
    if status not in PATCHABLE_STATUSES:
        raise _ApiError(400, f"Invalid status {status!r}: expected one of {', '.join(PATCHABLE_STATUSES)}")
    if status != "solved":
        raise _ApiError(403, f"Customers can only set the status to solved, not {status}")
    return status


# --- HTTP plumbing ------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: Sandbox

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """End kept-alive connections too: a stopped sandbox must look down to every client."""
        with self._open_lock:
            open_now = list(self._open)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up during an injected latency is expected, not an error.
        logger.debug("Sandbox connection from %s ended abruptly: %r", client_address, sys.exc_info()[1])


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each answer waits for a delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def _serve(self) -> None:
        started = time.monotonic()
        request = self._read_request()
        response = self.server.sandbox._process(request)
        if response is None:
            self._drop()
            logger.info("Sandbox %s %s: connection dropped", request.method, request.path)
            return
        self._send(response)
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info(
            "Sandbox %s %s -> %s (%.0f ms)", request.method, request.path, response.status, elapsed_ms
        )

    def _read_request(self) -> _Incoming:
        raw = self._read_body()
        parts = urlsplit(self.path)
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else None
            invalid = False
        except (UnicodeDecodeError, ValueError):
            body, invalid = None, True
        return _Incoming(
            method=self.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=_Headers({name.lower(): value for name, value in self.headers.items()}),
            json=body,
            body_is_invalid_json=invalid,
        )

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: _Response) -> None:
        payload = b"" if response.body is None else json.dumps(response.body, ensure_ascii=False).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Request-Id", f"sbx-{uuid.uuid4().hex}")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            logger.debug("Sandbox socket was already closed")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)


def serve(
    *, host: str = "127.0.0.1", port: int = 8765, tickets: int = 300, advance_every: float | None = None
) -> None:
    """Run a sandbox in the foreground until Ctrl-C (for ``doit-slack sandbox``)."""
    if not logging.getLogger().hasHandlers():
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    sandbox = Sandbox(tickets=tickets, advance_every=advance_every)
    url = sandbox.start(host, port)
    logger.info("DoiT sandbox at %s with API key %s; Ctrl-C stops it", url, sandbox.api_key)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        logger.info("DoiT sandbox stopped")
    finally:
        sandbox.stop()
