"""Pydantic models of the DoiT Support API.

The API has two generations of field names and both must parse: the current contract
(``urlUI``, ``updateTime``, ``createTime``, ``product``) and the older one on DoiT's overview
page (``url``, ``lastModified``, ``category``). Requests always use the current names.

Status and severity are kept as plain strings: DoiT adds values from time to time, and a value
we have never seen must be shown as it is rather than break a list.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.support.platforms import platform_id_for_display_name

logger = logging.getLogger(__name__)

SEVERITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
"""Known severities, mildest first."""

SEVERITY_MEANINGS: dict[str, str] = {
    "urgent": "P1, production down: first answer within 30 minutes, around the clock",
    "high": "P2, production impaired: first answer within 2 hours",
    "normal": "P3, a system impaired: first answer within 4 hours",
    "low": "P4, general guidance: first answer within 12 hours",
}

STATUSES: tuple[str, ...] = ("new", "open", "pending", "hold", "solved", "closed")
ACTIVE_STATUSES: frozenset[str] = frozenset({"new", "open", "pending", "hold"})
"""Statuses of a ticket DoiT or the customer still has to act on."""

CLOSED_STATUSES: frozenset[str] = frozenset({"solved", "closed"})


_LATEST_MS = 253402300799999  # 9999-12-31T23:59:59.999Z, the last moment datetime can hold


def _from_epoch_ms(value: Any) -> Any:
    """The API sends times as milliseconds since the epoch, sometimes as strings.

    A time outside what a datetime can hold becomes None (unknown) rather than failing the whole
    ticket: one odd field must not hide a list, nor make a filed ticket look unfiled.
    """
    if value is None or value == "" or isinstance(value, datetime):
        return value or None
    if isinstance(value, str) and not (value.strip().lstrip("-").isdigit() and value.strip().isascii()):
        return value  # let pydantic parse ISO text
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        milliseconds = int(value)
    except (ValueError, OverflowError):
        return None
    if not 0 <= milliseconds <= _LATEST_MS:
        return None
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


_TICKET_ID = re.compile(r"[0-9]{1,12}")


def ticket_id_from(text: str) -> int | None:
    """A ticket number written in ASCII digits ("12345"), else None (``"²".isdigit()`` is True)."""
    return int(text) if _TICKET_ID.fullmatch(text) else None


def to_epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, as the API's time filters take them."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class _ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Ticket(_ApiModel):
    """A support ticket, from a list page, a single get or a create response."""

    id: int = Field(ge=0, lt=2**63)  # what a database BIGINT holds
    subject: str = ""
    severity: str = ""
    status: str = ""
    requester: str | None = None
    platform: str | None = None
    product: str | None = Field(default=None, validation_alias=AliasChoices("product", "category"))
    url: str | None = Field(default=None, validation_alias=AliasChoices("urlUI", "url"))
    create_time: datetime | None = Field(default=None, validation_alias=AliasChoices("createTime", "created"))
    update_time: datetime | None = Field(
        default=None, validation_alias=AliasChoices("updateTime", "lastModified")
    )
    description: str | None = None
    platform_info: str | None = None
    is_public: bool | None = None
    tags: tuple[str, ...] = ()

    @field_validator("create_time", "update_time", mode="before")
    @classmethod
    def _parse_epoch_ms(cls, value: Any) -> Any:
        return _from_epoch_ms(value)

    @field_validator("platform", mode="before")
    @classmethod
    def _platform_as_id(cls, value: Any) -> Any:
        # The overview page's sample sends "Google Cloud" where the API means google_cloud_platform.
        if isinstance(value, str):
            return platform_id_for_display_name(value) or value
        return value

    @field_validator("subject", "severity", "status", mode="before")
    @classmethod
    def _none_as_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("severity", "status")
    @classmethod
    def _known_values_lower_case(cls, value: str) -> str:
        # "Solved" is solved; a value we do not know stays exactly as DoiT wrote it.
        lowered = value.strip().lower()
        return lowered if lowered in STATUSES or lowered in SEVERITIES else value

    @field_validator("tags", mode="before")
    @classmethod
    def _none_as_no_tags(cls, value: Any) -> Any:
        return () if value is None else value

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class TicketPage(_ApiModel):
    """One page of ``GET /support/v1/tickets``."""

    tickets: tuple[Ticket, ...] = ()
    next_page_token: str | None = Field(default=None, validation_alias=AliasChoices("pageToken"))
    row_count: int | None = Field(default=None, validation_alias=AliasChoices("rowCount"))

    @field_validator("next_page_token", mode="before")
    @classmethod
    def _empty_token_is_last_page(cls, value: Any) -> Any:
        return value or None

    @field_validator("tickets", mode="before")
    @classmethod
    def _readable_tickets_only(cls, value: Any) -> Any:
        # One malformed ticket (no id, an id no database can hold) must not hide the whole page,
        # nor stop the watcher on that page forever: it is left out, and logged.
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            return value
        readable = []
        for item in value:
            try:
                readable.append(Ticket.model_validate(item))
            except ValidationError as exc:
                logger.warning(
                    "Leaving out a ticket DoiT listed that cannot be read: %s", exc.errors()[0]["msg"]
                )
        return readable


class Attachment(_ApiModel):
    id: int | None = None
    file_name: str | None = None
    content_url: str | None = None


class Comment(_ApiModel):
    id: int | None = None
    body: str = ""
    author: str | None = None
    created: datetime | None = None
    attachments: tuple[Attachment, ...] = ()

    @field_validator("created", mode="before")
    @classmethod
    def _parse_epoch_ms(cls, value: Any) -> Any:
        return _from_epoch_ms(value)

    @field_validator("body", mode="before")
    @classmethod
    def _none_as_empty(cls, value: Any) -> Any:
        return "" if value is None else value


class Platform(_ApiModel):
    id: str
    display_name: str = Field(validation_alias=AliasChoices("displayName", "display_name"))


class Product(_ApiModel):
    id: str
    display_name: str = Field(validation_alias=AliasChoices("displayName", "display_name"))
    platform: str | None = None


class KeyOwner(_ApiModel):
    """What ``GET /auth/v1/validate`` says about the key's owner."""

    domain: str | None = None
    email: str | None = None


class NewTicket(_ApiModel):
    """What a user asked to file. ``requester`` is left out for personal keys."""

    subject: str
    body: str
    severity: str
    platform: str
    product: str
    requester: str | None = None

    def to_api(self) -> dict[str, Any]:
        ticket: dict[str, Any] = {
            "subject": self.subject,
            "body": self.body,
            "severity": self.severity,
            "platform": self.platform,
            "product": self.product,
        }
        if self.requester:
            ticket["requester"] = self.requester
        return {"ticket": ticket}
