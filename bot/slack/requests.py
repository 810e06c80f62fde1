"""The shape every `/doit <subcommand>` handler receives, after the command was acked."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.message import Message
from bot.services import Services


@dataclass(frozen=True)
class CommandRequest:
    """One `/doit` invocation. ``text`` is what follows the subcommand word."""

    subcommand: str
    text: str
    user_id: str
    channel_id: str
    team_id: str | None
    trigger_id: str | None
    response_url: str | None
    client: WebClient
    respond: Respond
    services: Services

    def reply(self, message: Message, *, public: bool = False) -> None:
        """Answer the person who typed the command (or the whole channel when ``public``)."""
        self.respond(
            text=message.text,
            blocks=message.blocks,
            response_type="in_channel" if public else "ephemeral",
            replace_original=False,
        )
