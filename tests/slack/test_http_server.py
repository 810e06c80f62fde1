"""The production server: `doit-slack run` under gunicorn, driven over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import httpx
import pytest

from bot.fakeslack import FakeSlack
from bot.support.sandbox import DEFAULT_API_KEY, Sandbox
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET, signed_headers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
    tmp_path = tmp_path_factory.mktemp("http")
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": "",
        "SLACK_API_BASE_URL": slack.api_url,
        "DOIT_API_KEY": DEFAULT_API_KEY,
        "DOIT_API_BASE_URL": sandbox.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "PORT": str(port),
        "LOG_LEVEL": "INFO",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--no-watcher"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read().decode() if process.stdout else ""
            process.kill()
            pytest.fail(f"the server did not come up:\n{output}")
        time.sleep(0.1)
    yield base
    process.terminate()
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    assert BOT_TOKEN not in output.decode()
    assert DEFAULT_API_KEY not in output.decode()


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
