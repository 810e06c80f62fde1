"""Slack's requests to the app, shaped and signed as Slack sends them, dispatched in-process.

Slash commands arrive form-encoded, interactions as a form with one ``payload`` field of JSON,
events as JSON; each carries ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing
secret, which the app checks before anything else.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

logger = logging.getLogger(__name__)


def signed_headers(body: str, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` headers for ``body``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"x-slack-request-timestamp": stamp, "x-slack-signature": signature}


def new_trigger_id() -> str:
    return f"trigger-{time.monotonic_ns()}"


@dataclass(frozen=True)
class SlackUser:
    """Who is typing: the person, the channel they type in, and the workspace."""

    user_id: str
    user_name: str
    channel_id: str
    channel_name: str
    team_id: str


@dataclass
class SlackRequests:
    """Sends commands, interactions and events into ``app`` through ``app.dispatch``."""

    app: App
    signing_secret: str
    user: SlackUser
    app_id: str = "A0DOIT"

    def command(self, command: str, text: str, *, response_url: str) -> BoltResponse:
        """A slash command typed by :attr:`user` in their channel."""
        form = {
            "token": "unused",  # the deprecated verification token; the signature replaced it
            "team_id": self.user.team_id,
            "team_domain": "demo",
            "channel_id": self.user.channel_id,
            "channel_name": self.user.channel_name,
            "user_id": self.user.user_id,
            "user_name": self.user.user_name,
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "response_url": response_url,
            "trigger_id": new_trigger_id(),
        }
        return self._dispatch(urlencode(form), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> BoltResponse:
        """A block action, view submission or options request by :attr:`user`."""
        payload = {
            "team": {"id": self.user.team_id, "domain": "demo"},
            "user": {"id": self.user.user_id, "username": self.user.user_name, "team_id": self.user.team_id},
            "api_app_id": self.app_id,
            "token": "unused",
            **payload,
        }
        return self._dispatch(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    def event(self, event: dict[str, Any]) -> BoltResponse:
        """An Events API callback wrapping ``event``."""
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": self.user.team_id,
                "api_app_id": self.app_id,
                "event": event,
                "event_id": f"Ev{time.monotonic_ns()}",
                "event_time": int(time.time()),
            }
        )
        return self._dispatch(body, "application/json")

    def _dispatch(self, body: str, content_type: str) -> BoltResponse:
        headers = {"content-type": content_type, **signed_headers(body, self.signing_secret)}
        return self.app.dispatch(BoltRequest(body=body, headers=headers))
