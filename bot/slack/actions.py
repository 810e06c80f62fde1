"""Buttons that only need an ack, and the catch-all error handler."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App

from bot.blocks import ids
from bot.services import Services

logger = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.action(ids.OPEN_TICKET)
    def handle_open_ticket(ack: Ack) -> None:
        # A link button opens the browser by itself; without an ack Slack shows a warning.
        ack()
