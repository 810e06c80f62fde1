"""Builds the Bolt app from the settings and the listener modules. Wiring only, no logic."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.config import Settings
from bot.services import Services
from bot.slack import actions, card_actions, commands, create, home, listing, shortcuts, unfurls
from bot.slack.web import RetryingRespond, make_web_client

logger = logging.getLogger(__name__)

LISTENER_THREADS = 250
"""Bolt runs each listener on this pool and the request thread waits for its ack; Bolt's default
of 5 would let five slow DoiT calls hold every later ack back past Slack's 3 s. Measured in
bench/: with DoiT at 2 s and 200 commands at once, 100 threads let 10% of acks pass 3 s, 250 none."""

LISTENER_MODULES = (commands, create, listing, actions, shortcuts, home, card_actions, unfurls)


def build_app(settings: Settings, services: Services, *, client: WebClient | None = None) -> App:
    """The Bolt app with every listener registered.

    ``auth.test`` is not called here (``doctor`` and ``run`` check the token with a readable
    message instead of a traceback at construction).
    """
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = App(
        client=client or make_web_client(settings),
        signing_secret=signing_secret,
        token_verification_enabled=False,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
        logger=logging.getLogger("bot.bolt"),
    )

    @app.middleware
    def retrying_respond(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        # Every listener's ``respond`` waits out a 429 from the response_url instead of losing it.
        context["respond"] = RetryingRespond(context.response_url)
        return next()

    for module in LISTENER_MODULES:
        module.register(app, services)

    @app.error
    def handle_listener_error(error: Exception, body: dict) -> BoltResponse | None:
        # A listener raised before or after its ack; Bolt answers Slack itself. Keep the traceback.
        logger.error("A Slack listener failed for %s", body.get("type"), exc_info=error)
        return None

    return app
