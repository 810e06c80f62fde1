"""Interaction payloads shaped as Slack sends them, for the shortcut, card and Home tests."""

from __future__ import annotations

import time
from typing import Any

from bot.fakeslack import FakeSlack


def _trigger() -> str:
    return f"trigger-{time.monotonic_ns()}"


def message_shortcut(
    message: dict[str, Any], *, channel_id: str = "C0SUPPORT", user_id: str = "U0DANA", callback_id: str
) -> dict[str, Any]:
    """A ``message_action`` payload: the shortcut run on ``message`` in ``channel_id``."""
    return {
        "type": "message_action",
        "callback_id": callback_id,
        "trigger_id": _trigger(),
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0DEMO"},
        "channel": {"id": channel_id, "name": "support"},
        "message_ts": message["ts"],
        "message": {"type": "message", "user": "U0LEE", **message},
        "response_url": "https://hooks.invalid/unused",
    }


def global_shortcut(*, callback_id: str, user_id: str = "U0DANA") -> dict[str, Any]:
    return {
        "type": "shortcut",
        "callback_id": callback_id,
        "trigger_id": _trigger(),
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0DEMO"},
    }


def button_click(
    slack: FakeSlack,
    *,
    action_id: str,
    value: str,
    channel_id: str = "C0SUPPORT",
    message_ts: str = "1733300000.000100",
    user_id: str = "U0DANA",
    ephemeral: bool = False,
    thread_ts: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A ``block_actions`` payload for a button on a message, and the response_url it carries."""
    response_url = slack.response_url()
    message: dict[str, Any] = {"type": "message", "ts": message_ts, "text": "card"}
    if thread_ts:
        message["thread_ts"] = thread_ts
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0DEMO"},
        "trigger_id": _trigger(),
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        },
        "channel": {"id": channel_id, "name": "support"},
        "response_url": response_url,
        "actions": [
            {"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1"}
        ],
    }
    if not ephemeral:
        payload["message"] = message
    return payload, response_url


def home_button_click(*, action_id: str, view_id: str, user_id: str = "U0DANA") -> dict[str, Any]:
    """A ``block_actions`` payload for a button on the Home tab (no channel, no response_url)."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0DEMO"},
        "trigger_id": _trigger(),
        "container": {"type": "view", "view_id": view_id},
        "view": {"id": view_id, "type": "home"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "action_ts": "1"}],
    }


def wait_until(condition: Any, *, timeout: float = 5.0, what: str = "the condition") -> None:
    """Poll ``condition()`` until it is true; AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
