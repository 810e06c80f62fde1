"""`doit-slack run` as a whole: HTTP server, listeners and the watcher in one process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.fakeslack import FakeSlack
from bot.support.sandbox import DEFAULT_API_KEY, Sandbox
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET, signed_headers
from tests.slack.test_http_server import free_port


@pytest.mark.slow
def test_run_subscribe_then_new_ticket_reaches_the_channel(tmp_path: Path) -> None:
    with Sandbox(tickets=30, seed=2) as sandbox, FakeSlack(bot_token=BOT_TOKEN) as slack:
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
            "DOIT_WATCH_INTERVAL": "5",
            "PORT": str(port),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    health = httpx.get(f"{base}/healthz", timeout=1)
                    if health.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, "the bot did not start"
                time.sleep(0.1)
            assert health.json()["watcher"] is True

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
            assert httpx.post(f"{base}/slack/events", content=body, headers=headers).status_code == 200
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
        finally:
            process.terminate()
            output = process.communicate(timeout=15)[0].decode()
        assert DEFAULT_API_KEY not in output
        assert BOT_TOKEN not in output
