"""The Slack Web API client every part of the bot uses, with the SDK's retry handlers."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.config import Settings

logger = logging.getLogger(__name__)


def make_web_client(settings: Settings, *, rate_limit_retries: int = 3) -> WebClient:
    """A WebClient that waits out 429s (``Retry-After``) and retries dropped connections.

    Bolt copies ``base_url`` and ``retry_handlers`` from this client into the one it builds for
    each request, so pointing ``SLACK_API_BASE_URL`` at a stand-in reaches every listener too.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    kwargs: dict[str, object] = {}
    if settings.slack_api_base_url:
        base = settings.slack_api_base_url
        kwargs["base_url"] = base if base.endswith("/") else base + "/"
    return WebClient(
        token=token,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ],
        **kwargs,  # type: ignore[arg-type]
    )


class RetryingRespond:
    """Bolt's ``respond()``, but through a WebhookClient that waits out 429s and retries drops.

    Bolt builds a bare WebhookClient for each ``respond()``, so a 429 from a response_url would
    lose the reply without a word. Same call shape as Bolt's for what the bot uses.
    """

    def __init__(self, response_url: str | None, *, rate_limit_retries: int = 3) -> None:
        self.response_url = response_url
        self._retry_handlers = [
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ]

    def __call__(
        self, text: str = "", blocks: list[dict] | None = None, **options: Any
    ) -> WebhookResponse | None:
        if not self.response_url:
            logger.warning("No response_url to answer on; the reply is dropped")
            return None
        message = {"text": text, **({"blocks": blocks} if blocks is not None else {})}
        message.update({key: value for key, value in options.items() if value is not None})
        client = WebhookClient(url=self.response_url, timeout=10, retry_handlers=self._retry_handlers)
        response = client.send_dict(message)
        if response.status_code != 200:
            logger.warning(
                "Slack refused a reply on the response_url: %s %s", response.status_code, response.body
            )
        return response
