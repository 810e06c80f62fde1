"""Shared checks: every payload the app sent to the fake Slack must pass bot.blocks.limits."""

from __future__ import annotations

import json

from bot.blocks.limits import message_problems, view_problems
from bot.fakeslack import FakeSlack

MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")


def all_problems(slack: FakeSlack) -> list[str]:
    problems = []
    for call in slack.calls:
        args = call.args
        if call.method in MESSAGE_METHODS and ("blocks" in args or "text" in args):
            blocks = args.get("blocks") or []
            if isinstance(blocks, str):
                blocks = json.loads(blocks)
            for p in message_problems(args.get("text"), blocks):
                problems.append(f"{call.method}: {p}")
        if call.method in ("views.open", "views.update", "views.push", "views.publish"):
            view = args.get("view")
            if isinstance(view, str):
                view = json.loads(view)
            for p in view_problems(view):
                problems.append(f"{call.method}: {p}")
        if call.method == "chat.unfurl":
            unfurls = args.get("unfurls")
            if isinstance(unfurls, str):
                unfurls = json.loads(unfurls)
            for url, unfurl in (unfurls or {}).items():
                for p in message_problems("x", unfurl.get("blocks") or []):
                    problems.append(f"chat.unfurl {url}: {p}")
        error = (call.response or {}).get("error")
        if error in ("invalid_blocks", "invalid_arguments", "invalid_blocks_format", "msg_too_long"):
            detail = (call.response or {}).get("response_metadata")
            problems.append(f"{call.method} answered {error}: {detail}")
    return problems
