"""`/doit`: one slash command whose first word picks what to do.

The router acks at once (Slack allows 3 s) and hands the rest to a subcommand handler, which
answers through ``respond`` or a modal. Unknown words get the usage, never silence.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blocks.help import error_message, usage_message
from bot.services import Services
from bot.slack import sentences
from bot.slack.create import new_command
from bot.slack.listing import list_command
from bot.slack.requests import CommandRequest
from bot.slack.show import show_command
from bot.slack.subscriptions import list_subscriptions, subscribe, unsubscribe

logger = logging.getLogger(__name__)

COMMAND = "/doit"

Subcommand = Callable[[CommandRequest], None]

SUBCOMMANDS: dict[str, Subcommand] = {
    "new": new_command,
    "create": new_command,
    "list": list_command,
    "ls": list_command,
    "show": show_command,
    "subscribe": subscribe,
    "subscriptions": list_subscriptions,
    "unsubscribe": unsubscribe,
}


def split_command(text: str) -> tuple[str, str]:
    """("list", "severity:high") from "list severity:high"; the word is lower-cased."""
    stripped = (text or "").strip()
    if not stripped:
        return "", ""
    word, _, rest = stripped.partition(" ")
    return word.lower(), rest.strip()


def register(app: App, services: Services) -> None:
    @app.command(COMMAND)
    def handle_doit(ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
        ack()
        word, rest = split_command(command.get("text", ""))
        handler = SUBCOMMANDS.get(word)
        if handler is None:
            unknown = word if word not in ("", "help", "?") else None
            respond(response_type="ephemeral", **usage_message(COMMAND, unknown=unknown).as_kwargs())
            return
        request = CommandRequest(
            subcommand=word,
            text=rest,
            user_id=command["user_id"],
            channel_id=command.get("channel_id", ""),
            team_id=command.get("team_id"),
            trigger_id=command.get("trigger_id"),
            response_url=command.get("response_url"),
            client=client,
            respond=respond,
            services=services,
        )
        started = time.monotonic()
        try:
            handler(request)
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("/doit %s failed (reference %s)", word, reference)
            respond(
                response_type="ephemeral", **error_message(sentences.for_unexpected(reference)).as_kwargs()
            )
            return
        logger.info(
            "/doit %s for %s took %.0f ms", word, command["user_id"], (time.monotonic() - started) * 1000
        )
