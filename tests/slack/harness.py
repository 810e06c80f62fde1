"""Driving the real Bolt app with signed requests, as Slack would."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings, load_settings
from bot.fakeslack import FakeSlack
from bot.support.sandbox import DEFAULT_API_KEY

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-bot-token-0123456789"


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"x-slack-request-timestamp": stamp, "x-slack-signature": signature}


@dataclass
class SlackDriver:
    """Sends commands, interactions, options and events into ``app`` through ``dispatch``."""

    app: App
    slack: FakeSlack
    team_id: str = "T0DEMO"

    def dispatch_form(self, form: dict[str, str], **header_overrides: str) -> BoltResponse:
        body = urlencode(form)
        headers = {"content-type": "application/x-www-form-urlencoded", **signed_headers(body)}
        headers.update(header_overrides)
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def command(
        self, text: str, *, user_id: str = "U0DANA", channel_id: str = "C0SUPPORT", command: str = "/doit"
    ) -> tuple[BoltResponse, str]:
        """Send a slash command; returns Bolt's response and the response_url handed out."""
        response_url = self.slack.response_url()
        form = {
            "token": "unused",
            "team_id": self.team_id,
            "team_domain": "demo",
            "channel_id": channel_id,
            "channel_name": "support",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0DOIT",
            "response_url": response_url,
            "trigger_id": f"trigger-{time.monotonic_ns()}",
        }
        return self.dispatch_form(form), response_url

    def interact(self, payload: dict[str, Any]) -> BoltResponse:
        payload = {"team": {"id": self.team_id}, "api_app_id": "A0DOIT", **payload}
        return self.dispatch_form({"payload": json.dumps(payload)})

    def event(self, event: dict[str, Any], **headers: str) -> BoltResponse:
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": self.team_id,
                "api_app_id": "A0DOIT",
                "event": event,
                "event_id": f"Ev{time.monotonic_ns()}",
                "event_time": int(time.time()),
            }
        )
        all_headers = {"content-type": "application/json", **signed_headers(body), **headers}
        return self.app.dispatch(BoltRequest(body=body, headers=all_headers))

    def responses(self, response_url: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """What the app posted to one response_url, waiting for ``count`` posts."""
        deadline = time.monotonic() + timeout
        while True:
            posts = [
                c.args for c in self.slack.calls_to("response_url") if c.args.get("_url") == response_url
            ]
            if len(posts) >= count or time.monotonic() > deadline:
                assert len(posts) >= count, f"expected {count} posts to the response_url, got {len(posts)}"
                return posts
            time.sleep(0.01)


def text_input(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def selected(value: str, label: str | None = None, *, kind: str = "static_select") -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": label or value}, "value": value}
    return {"type": kind, "selected_option": option}


def submission(view: dict[str, Any], values: dict[str, dict[str, Any]], *, user_id: str = "U0DANA") -> dict:
    """A ``view_submission`` payload for ``view`` (as the fake Slack stored it) with state ``values``.

    ``values`` maps block id to the element state; the action id is the block id + ``_input``.
    """
    state = {block: {f"{block}_input": element} for block, element in values.items()}
    return {
        "type": "view_submission",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0DEMO"},
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "view": {
            "id": view["id"],
            "type": "modal",
            "callback_id": view.get("callback_id"),
            "private_metadata": view.get("private_metadata", ""),
            "hash": view.get("hash", ""),
            "state": {"values": state},
        },
    }


def filled_form(
    *,
    subject: str = "VPN down in eu-west-1",
    description: str = "Since 09:00 no tunnel comes up.",
    severity: str = "high",
    platform: str = "amazon_web_services",
    product: str = "compute__amazon_ec2",
    product_label: str = "Amazon EC2",
    requester: str | None = "dana@example.com",
    channel: str | None = "C0SUPPORT",
) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {
        "subject": text_input(subject),
        "description": text_input(description),
        "severity": selected(severity),
        "platform": selected(platform),
        "product": selected(product, product_label, kind="external_select"),
    }
    if requester is not None:
        values["requester"] = text_input(requester)
    if channel is not None:
        values["channel"] = {"type": "conversations_select", "selected_conversation": channel}
    return values


def bot_settings(slack_api_url: str, doit_api_url: str, workdir: Path, **overrides: object) -> Settings:
    """Settings of a bot that talks only to the loopback stand-ins, with a SQLite file in ``workdir``."""
    values: dict[str, object] = {
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_api_base_url": slack_api_url,
        "doit_api_key": SecretStr(DEFAULT_API_KEY),
        "doit_api_base_url": doit_api_url,
        "database_url": f"sqlite:///{workdir / 'bot.sqlite3'}",
        **overrides,
    }
    return load_settings(None, **values)
