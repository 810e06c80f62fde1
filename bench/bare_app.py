"""A Bolt app that only acks `/doit`, served exactly as `doit-slack run` serves the bot.

    .venv/bin/python bench/bare_app.py PORT

The baseline of the ack benchmark: same gunicorn gthread server, same number of request threads,
same listener pool, same Bolt settings, and a listener that calls ``ack()`` and nothing else. It
reads ``SLACK_SIGNING_SECRET``, ``SLACK_BOT_TOKEN`` and ``SLACK_API_BASE_URL`` from the
environment (Bolt calls ``auth.test`` once, on the first request).
"""

from __future__ import annotations

import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_bolt import Ack, App
from slack_sdk import WebClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import LISTENER_THREADS  # noqa: E402
from bot.server import WsgiApp, serve_http, wsgi_app  # noqa: E402

logger = logging.getLogger("bench.bare_app")


def build_bare_app() -> App:
    """The bot's Bolt settings with one listener that acks `/doit` and does nothing else."""
    base_url = os.environ.get("SLACK_API_BASE_URL") or "https://slack.com/api/"
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=base_url, timeout=10)
    app = App(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        token_verification_enabled=False,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
        logger=logging.getLogger("bench.bolt"),
    )

    @app.command("/doit")
    def ack_only(ack: Ack) -> None:
        ack()

    return app


def _load() -> WsgiApp:
    return wsgi_app(build_bare_app())


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    serve_http(_load, port=int(argv[0]), host="127.0.0.1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
