"""`doit-slack run` with SLACK_APP_TOKEN speaks Socket Mode: no HTTP port, envelopes acked."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fakeslack import FakeSlack
from bot.support.sandbox import Sandbox
from tests.bot_process import bot_environment, running_bot
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
    env = bot_environment(slack, sandbox, tmp_path, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="")
    with running_bot(env, tmp_path, ready=lambda _bot: peer.wait_connected(0.1)):
        yield


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
