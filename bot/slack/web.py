"""The Slack Web API client every part of the bot uses, with the SDK's retry handlers."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.config import Settings


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
