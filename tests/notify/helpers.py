"""Building a watcher against loopback DoiT and Slack stand-ins; shared by tests and the holder process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr
from slack_sdk import WebClient

from bot.config import Settings, load_settings
from bot.notify.watcher import Watcher
from bot.services import Services
from bot.slack.web import make_web_client
from bot.store import Store
from bot.support.catalog import Catalog
from bot.support.client import RetryPolicy, SupportClient
from bot.support.sandbox import DEFAULT_API_KEY

BOT_TOKEN = "xoxb-notify-tests"
FAST_RETRY = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)


def make_settings(*, database_url: str, doit_url: str, slack_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_api_base_url": slack_url,
        "doit_api_key": SecretStr(DEFAULT_API_KEY),
        "doit_api_base_url": doit_url,
        "database_url": database_url,
        **overrides,
    }
    return load_settings(None, **values)


def make_services(settings: Settings, store: Store | None = None) -> Services:
    """Services with quick DoiT retries, so an injected outage costs milliseconds."""
    assert settings.doit_api_key is not None
    support = SupportClient(settings.doit_api_key, base_url=settings.doit_api_base_url, retry=FAST_RETRY)
    return Services(
        settings=settings,
        support=support,
        store=store or Store.connect(settings.database_url),
        catalog=Catalog(support),
    )


class RecordingClient(WebClient):
    """A real WebClient that also notes when each Slack write left, per channel, for pacing checks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.writes: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        if api_method in ("chat.postMessage", "chat.update"):
            body = kwargs.get("json") or kwargs.get("params") or {}
            with self._lock:
                self.writes.append((api_method, str(body.get("channel")), time.monotonic()))
        return super().api_call(api_method, **kwargs)


def make_slack_client(settings: Settings) -> RecordingClient:
    """The production client factory's client (retry handlers included), recording writes."""
    built = make_web_client(settings)
    return RecordingClient(
        token=built.token, base_url=built.base_url, timeout=built.timeout, retry_handlers=built.retry_handlers
    )


def make_watcher(services: Services, slack: WebClient, *, holder: str = "a", **overrides: Any) -> Watcher:
    options: dict[str, Any] = {
        "interval": 0.05,
        "lease_seconds": 5.0,
        "post_interval": 0.0,
        "retry_delay": 0.0,
        "in_flight_seconds": 0.0,
        **overrides,
    }
    return Watcher(services, slack, holder=holder, **options)


def delivery_keys(messages: Iterable[dict[str, Any]]) -> list[str]:
    """The delivery keys in the metadata of the given Slack messages."""
    keys = []
    for message in messages:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == "doit_delivery":
            keys.append(metadata["event_payload"]["key"])
    return keys
