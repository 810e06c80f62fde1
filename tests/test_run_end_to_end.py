"""`doit-slack run` as a whole: HTTP server, listeners and the watcher in one process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.fakeslack import FakeSlack
from bot.support.sandbox import Sandbox
from tests.bot_process import bot_environment, free_port, running_bot
from tests.slack.harness import BOT_TOKEN, signed_headers


@pytest.mark.slow
def test_run_subscribe_then_new_ticket_reaches_the_channel(tmp_path: Path) -> None:
    with Sandbox(tickets=30, seed=2) as sandbox, FakeSlack(bot_token=BOT_TOKEN) as slack:
        env = bot_environment(slack, sandbox, tmp_path, DOIT_WATCH_INTERVAL="5", PORT=str(free_port()))
        with running_bot(env, tmp_path, args=("run",)) as bot:
            assert httpx.get(f"{bot.base_url}/healthz").json()["watcher"] is True
            form = {
                "team_id": "T0DEMO",
                "channel_id": "C0GENERAL",
                "user_id": "U0DANA",
                "command": "/doit",
                "text": "subscribe severity:urgent",
                "response_url": slack.response_url(),
                "trigger_id": "t",
            }
            body = urlencode(form)
            headers = {"content-type": "application/x-www-form-urlencoded", **signed_headers(body)}
            assert (
                httpx.post(f"{bot.base_url}/slack/events", content=body, headers=headers).status_code == 200
            )
            slack.wait_for("response_url")
            time.sleep(1)  # let the first cycle record its baseline before the new ticket exists
            ticket = sandbox.add_ticket(subject="Checkout is down", severity="urgent", status="new")

            deadline = time.monotonic() + 20
            while True:
                posts = [
                    c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "C0GENERAL"
                ]
                if any(f"#{ticket['id']}" in c.args.get("text", "") for c in posts):
                    break
                assert time.monotonic() < deadline, "the new ticket never reached the subscribed channel"
                time.sleep(0.2)


def test_run_on_a_port_in_use_says_so_in_one_sentence(tmp_path: Path) -> None:
    with Sandbox(tickets=3) as sandbox, FakeSlack(bot_token=BOT_TOKEN) as slack, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = bot_environment(slack, sandbox, tmp_path, PORT=str(port))
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--no-watcher"], env=env, capture_output=True, timeout=30
        )
    assert done.returncode == 2
    assert done.stderr.decode().strip() == (
        f"doit-slack: PORT {port} on 127.0.0.1 cannot be used (Address already in use): stop what listens "
        "there or set PORT to another port."
    )
