"""Calls per action: how many DoiT requests and Slack calls one user action costs the running bot.

Each action is a signed request over HTTP to `doit-slack run`; its cost is what reached the DoiT
sandbox and the fake Slack until both fell quiet.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.load import command_body, signed
from bench.servers import Served, TimedSlack
from bot.blocks import ids
from bot.support.sandbox import Sandbox
from tests.slack.harness import filled_form, submission

logger = logging.getLogger(__name__)

QUIET_SECONDS = 0.5
"""No new call for this long means the action is done: listeners finish within milliseconds here."""
ACTION_TIMEOUT = 10.0


def _wait_until_quiet(slack: TimedSlack, sandbox: Sandbox) -> None:
    deadline = time.monotonic() + ACTION_TIMEOUT
    seen = (len(slack.calls), len(sandbox.requests))
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = (len(slack.calls), len(sandbox.requests))
        if now != seen:
            seen, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_SECONDS:
            return


def _cost(slack: TimedSlack, sandbox: Sandbox, send: Any) -> dict[str, Any]:
    slack_before, doit_before = len(slack.calls), len(sandbox.requests)
    status = send()
    _wait_until_quiet(slack, sandbox)
    doit = [f"{r.method} {r.path}" for r in sandbox.requests[doit_before:]]
    slack_calls = [call.method for call in slack.calls[slack_before:]]
    return {"http_status": status, "doit_calls": doit, "slack_calls": slack_calls}


def _command(http: httpx.Client, served: Served, slack: TimedSlack, text: str) -> int:
    body = command_body(text, slack.response_url())
    return http.post(served.url, content=body, headers=signed(body)).status_code


def _interaction(http: httpx.Client, served: Served, payload: dict[str, Any]) -> int:
    payload = {"team": {"id": "T0DEMO"}, "api_app_id": "A0DOIT", **payload}
    body = urlencode({"payload": json.dumps(payload)})
    return http.post(served.url, content=body, headers=signed(body)).status_code


def _latest_create_form(slack: TimedSlack) -> dict[str, Any]:
    for view in reversed(list(slack.views.values())):
        if view.get("callback_id") == ids.CREATE_CALLBACK:
            return view
    raise RuntimeError("no create form was opened")


def calls_per_action(served: Served, slack: TimedSlack, sandbox: Sandbox) -> list[dict[str, Any]]:
    """Warm-up, one list page, show twice, `/doit new` twice, one submission: what each cost."""
    # A ticket with a requester, as most have: showing it looks the requester up in Slack once.
    ticket_id = next(ticket["id"] for ticket in sandbox.tickets() if ticket.get("requester"))
    commands = [
        ("first request of the process (`/doit help`)", "help"),
        ("`/doit list` (one page)", "list"),
        (f"`/doit show {ticket_id}`", f"show {ticket_id}"),
        (f"`/doit show {ticket_id}` again", f"show {ticket_id}"),
        ("`/doit new`, first time", "new VPN down"),
        ("`/doit new`, second time", "new again"),
    ]
    with httpx.Client(timeout=10) as http:
        results = [
            {"action": name, **_cost(slack, sandbox, lambda text=text: _command(http, served, slack, text))}
            for name, text in commands
        ]

        def submit() -> int:
            return _interaction(http, served, submission(_latest_create_form(slack), filled_form()))

        results.append({"action": "submitting the form", **_cost(slack, sandbox, submit)})
    return results
