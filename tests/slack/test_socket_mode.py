"""`doit-slack run` with SLACK_APP_TOKEN speaks Socket Mode: no HTTP port, envelopes acked."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fakeslack import FakeSlack
from bot.support.sandbox import DEFAULT_API_KEY, Sandbox
from tests.slack.harness import BOT_TOKEN
from tests.slack.websocket_peer import SocketModePeer

APP_TOKEN = "xapp-1-test-app-token-0123456789"


@pytest.fixture
def peer() -> Iterator[SocketModePeer]:
    running = SocketModePeer()
    yield running
    running.close()


@pytest.fixture
def bot(sandbox: Sandbox, slack: FakeSlack, peer: SocketModePeer, tmp_path: Path) -> Iterator[None]:
    slack.socket_url = peer.url
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": "",
        "SLACK_API_BASE_URL": slack.api_url,
        "DOIT_API_KEY": DEFAULT_API_KEY,
        "DOIT_API_BASE_URL": sandbox.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--no-watcher"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        peer.wait_connected()
    except AssertionError:
        process.kill()
        raise AssertionError(process.communicate()[0].decode()) from None
    yield
    process.terminate()
    try:
        output = process.communicate(timeout=10)[0].decode()
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0].decode()
    assert APP_TOKEN not in output
    assert BOT_TOKEN not in output


def test_socket_mode_command_envelope_is_acked_and_answered(
    bot: None, peer: SocketModePeer, slack: FakeSlack
) -> None:
    assert [c.token for c in slack.calls_to("apps.connections.open")] == ["app"]
    response_url = slack.response_url()
    peer.send(
        {
            "envelope_id": "envelope-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "team_id": "T0DEMO",
                "channel_id": "C0SUPPORT",
                "user_id": "U0DANA",
                "command": "/doit",
                "text": "list severity:high",
                "response_url": response_url,
                "trigger_id": "trigger-socket",
            },
        }
    )
    try:
        ack = peer.received.get(timeout=5)
    except queue.Empty:
        pytest.fail("the bot did not ack the envelope")
    assert ack["envelope_id"] == "envelope-1"
    deadline = time.monotonic() + 5
    while not [c for c in slack.calls_to("response_url") if c.args.get("_url") == response_url]:
        assert time.monotonic() < deadline, "no reply reached the response_url"
        time.sleep(0.05)
