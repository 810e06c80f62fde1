"""The production server: `doit-slack run` under gunicorn, driven over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import httpx
import pytest

from bot.fakeslack import FakeSlack
from bot.support.sandbox import Sandbox
from tests.bot_process import bot_environment, free_port, running_bot
from tests.slack.harness import BOT_TOKEN, signed_headers


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tickets=60, seed=5) as running:
        yield running


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(sandbox: Sandbox, slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module: starting gunicorn takes about a second."""
    workdir = tmp_path_factory.mktemp("http")
    # Two workers: what production runs with WEB_CONCURRENCY=2 (the end-to-end test runs one).
    env = bot_environment(slack, sandbox, workdir, PORT=str(free_port()), WEB_CONCURRENCY="2")
    with running_bot(env, workdir) as bot:
        assert bot.base_url is not None
        yield bot.base_url


def command_form(slack: FakeSlack, text: str) -> tuple[str, str]:
    response_url = slack.response_url()
    form = {
        "team_id": "T0DEMO",
        "channel_id": "C0SUPPORT",
        "user_id": "U0DANA",
        "command": "/doit",
        "text": text,
        "response_url": response_url,
        "trigger_id": "trigger-http",
    }
    return urlencode(form), response_url


def test_healthz_answers_ok(server: str) -> None:
    response = httpx.get(f"{server}/healthz")
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_signed_list_command_over_http_is_acked_then_answered(server: str, slack: FakeSlack) -> None:
    body, response_url = command_form(slack, "list severity:urgent")
    headers = {"content-type": "application/x-www-form-urlencoded", **signed_headers(body)}
    response = httpx.post(f"{server}/slack/events", content=body, headers=headers)
    assert response.status_code == 200
    assert response.text == ""
    deadline = time.monotonic() + 5
    while not [c for c in slack.calls_to("response_url") if c.args.get("_url") == response_url]:
        assert time.monotonic() < deadline, "no reply reached the response_url"
        time.sleep(0.05)
    [reply] = [c.args for c in slack.calls_to("response_url") if c.args.get("_url") == response_url]
    assert "urgent" in json.dumps(reply["blocks"])


def _no_signature(_body: str) -> dict[str, str]:
    return {}


def _forged(_body: str) -> dict[str, str]:
    return {"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=" + "0" * 64}


def _signature_of_another_body(_body: str) -> dict[str, str]:
    return signed_headers("text=something+else")


def _stale(body: str) -> dict[str, str]:
    return signed_headers(body, timestamp=int(time.time()) - 6 * 60)


@pytest.mark.parametrize("make_headers", [_no_signature, _forged, _signature_of_another_body, _stale])
def test_unsigned_forged_or_stale_requests_are_refused_with_401(
    server: str, slack: FakeSlack, make_headers: Callable[[str], dict[str, str]]
) -> None:
    body, response_url = command_form(slack, "list")
    response = httpx.post(
        f"{server}/slack/events",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded", **make_headers(body)},
    )
    assert response.status_code == 401
    time.sleep(0.3)  # a handler that ran anyway would have answered by now
    assert [c for c in slack.calls_to("response_url") if c.args.get("_url") == response_url] == []


def test_other_paths_are_not_found(server: str) -> None:
    assert httpx.get(f"{server}/slack/events").status_code == 404
    assert httpx.post(f"{server}/elsewhere", content="x").status_code == 404
