"""Logging set-up: one format, and a filter that blanks any secret that slips into a record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

REDACTED = "[redacted]"


class RedactSecrets(logging.Filter):
    """Replace secret values anywhere in a formatted record.

    Nothing in the bot logs a secret on purpose; this is the belt to those braces, for the day a
    third-party library puts a URL with a key or a request header into a message.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        cleaned = message
        for secret in self._secrets:
            cleaned = cleaned.replace(secret, REDACTED)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            exc_text = record.exc_text
            for secret in self._secrets:
                exc_text = exc_text.replace(secret, REDACTED)
            record.exc_text = exc_text
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class _DropTokenUnusedWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at ``level`` with secrets redacted; safe to call more than once."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_doit_slack", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._doit_slack = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root.addHandler(handler)
    # Each outbound call is logged once by us; the libraries' per-request chatter is noise.
    for noisy in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # The SDK logs every failed Slack request at ERROR before raising; the bot reports what failed
    # in its own words (with the fix), so these would only say the same thing twice, less clearly.
    logging.getLogger("slack_sdk.web.base_client").setLevel(logging.CRITICAL)
    # Bolt reads SLACK_BOT_TOKEN itself and warns that the client we hand it wins; it does, by design.
    logging.getLogger("bot.bolt").addFilter(_DropTokenUnusedWarning())
