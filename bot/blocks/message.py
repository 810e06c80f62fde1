"""A message as the builders return it: fallback text plus blocks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.blocks.text import fit_mrkdwn

logger = logging.getLogger(__name__)

MESSAGE_FALLBACK_TEXT = 3000
"""Our own cap on the top-level text: it is a notification line, not the message."""


@dataclass(frozen=True)
class Message:
    """Top-level ``text`` (never empty, at most 3,000 characters) and the ``blocks`` dicts."""

    text: str
    blocks: list[dict]

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError("A message needs non-empty text: the notification and screen-reader fallback")
        # The dataclass is frozen; the cut text replaces the given one before anyone can see it.
        object.__setattr__(self, "text", fit_mrkdwn(self.text, MESSAGE_FALLBACK_TEXT))

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``chat_postMessage``, ``chat_update``, ``respond`` and the like."""
        return {"text": self.text, "blocks": self.blocks}
