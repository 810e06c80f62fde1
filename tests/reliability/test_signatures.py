"""Unsigned, forged and stale requests are refused with 401 before any listener runs.

"Before any listener runs" is checked where it shows: after the listener pool has drained, neither
the fake Slack nor the DoiT sandbox has seen a single call since the request. The same requests,
correctly signed, do reach their listeners (the control that proves the check can fail).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest, BoltResponse

from bot.blocks import ids
from bot.fakeslack import FakeSlack
from bot.support.sandbox import Sandbox
from tests.slack.harness import SlackDriver, filled_form, signed_headers, submission

FIVE_MINUTES = 5 * 60
FORM = "application/x-www-form-urlencoded"


def command(slack: FakeSlack, sandbox: Sandbox) -> tuple[str, str]:
    form = {
        "team_id": "T0DEMO",
        "channel_id": "C0SUPPORT",
        "user_id": "U0DANA",
        "command": "/doit",
        "text": "list",
        "response_url": slack.response_url(),
        "trigger_id": "trigger-forged",
    }
    return urlencode(form), FORM


def view_submission(slack: FakeSlack, sandbox: Sandbox) -> tuple[str, str]:
    view = {"id": "V0FORGED", "callback_id": ids.CREATE_CALLBACK, "private_metadata": "{}", "hash": ""}
    payload = {"team": {"id": "T0DEMO"}, "api_app_id": "A0DOIT", **submission(view, filled_form())}
    return urlencode({"payload": json.dumps(payload)}), FORM


def options_request(slack: FakeSlack, sandbox: Sandbox) -> tuple[str, str]:
    state = {"platform": {"platform_input": {"selected_option": {"value": "microsoft_azure"}}}}
    payload = {
        "type": "block_suggestion",
        "team": {"id": "T0DEMO"},
        "user": {"id": "U0DANA"},
        "action_id": ids.PRODUCT_INPUT,
        "block_id": ids.PRODUCT,
        "value": "sql",
        "view": {"id": "V0FORGED", "callback_id": ids.CREATE_CALLBACK, "state": {"values": state}},
    }
    return urlencode({"payload": json.dumps(payload)}), FORM


def link_shared(slack: FakeSlack, sandbox: Sandbox) -> tuple[str, str]:
    ticket = sandbox.tickets()[0]
    event = {
        "type": "link_shared",
        "channel": "C0SUPPORT",
        "user": "U0DANA",
        "message_ts": "1733300000.000100",
        "unfurl_id": "U0FURL",
        "source": "conversations_history",
        "links": [{"domain": "app.doit.com", "url": ticket["urlUI"]}],
    }
    body = {
        "type": "event_callback",
        "team_id": "T0DEMO",
        "api_app_id": "A0DOIT",
        "event": event,
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
    }
    return json.dumps(body), "application/json"


REQUESTS = {
    "command": command,
    "view_submission": view_submission,
    "options": options_request,
    "event": link_shared,
}


def unsigned(body: str) -> dict[str, str]:
    return {}


def timestamp_only(body: str) -> dict[str, str]:
    return {"x-slack-request-timestamp": str(int(time.time()))}


def forged(body: str) -> dict[str, str]:
    return {"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=" + "0" * 64}


def signed_with_another_secret(body: str) -> dict[str, str]:
    return signed_headers(body, secret="somebody-elses-signing-secret")


def signature_of_another_body(body: str) -> dict[str, str]:
    return signed_headers(body + "&text=tampered")


def stale(body: str) -> dict[str, str]:
    return signed_headers(body, timestamp=int(time.time()) - FIVE_MINUTES - 10)


def from_the_future(body: str) -> dict[str, str]:
    return signed_headers(body, timestamp=int(time.time()) + FIVE_MINUTES + 10)


REFUSED = [
    unsigned,
    timestamp_only,
    forged,
    signed_with_another_secret,
    signature_of_another_body,
    stale,
    from_the_future,
]


def send(
    driver: SlackDriver, sandbox: Sandbox, body: str, content_type: str, headers: dict[str, str]
) -> tuple[BoltResponse, list[str]]:
    """Dispatch one request and drain the listener pool; the response and the calls it caused."""
    slack_before, doit_before = len(driver.slack.calls), len(sandbox.requests)
    response = driver.app.dispatch(BoltRequest(body=body, headers={"content-type": content_type, **headers}))
    driver.app.listener_runner.listener_executor.shutdown(wait=True)
    calls = [call.method for call in driver.slack.calls[slack_before:]]
    calls += [f"{request.method} {request.path}" for request in sandbox.requests[doit_before:]]
    return response, calls


@pytest.mark.parametrize("make_headers", REFUSED)
@pytest.mark.parametrize("kind", REQUESTS)
def test_request_without_a_valid_fresh_signature_is_refused_and_reaches_no_listener(
    driver: SlackDriver,
    slack: FakeSlack,
    sandbox: Sandbox,
    kind: str,
    make_headers: Callable[[str], dict[str, str]],
) -> None:
    body, content_type = REQUESTS[kind](slack, sandbox)
    response, calls = send(driver, sandbox, body, content_type, make_headers(body))

    assert response.status == 401
    assert calls == []


@pytest.mark.parametrize("kind", REQUESTS)
def test_the_same_request_correctly_signed_reaches_its_listener(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, kind: str
) -> None:
    body, content_type = REQUESTS[kind](slack, sandbox)
    response, calls = send(driver, sandbox, body, content_type, signed_headers(body))

    assert response.status == 200
    assert calls != []
