"""The real app against the DoiT sandbox and a stand-in Slack, driven one command line at a time.

Nothing here needs a token: the fake Slack is told which made-up bot token to accept, and the
sandbox which made-up DoiT key. Requests go in through ``app.dispatch`` exactly as signed HTTP
requests would; what comes back is read from the fake Slack's record of the Web API calls and
response URL posts the app made, plus the app's own answer to an interaction (a view submission's
``response_action``).
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from slack_bolt import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import build_app
from bot.blocks import ids
from bot.config import RequesterMode, Settings, load_settings
from bot.fakeslack import Call, FakeSlack
from bot.services import Services
from bot.support.sandbox import Sandbox
from bot.tryout.incoming import SlackRequests, SlackUser, new_trigger_id
from bot.tryout.render import Names

logger = logging.getLogger(__name__)

# Made up on purpose: only the loopback fakes started here accept them.
TRY_BOT_TOKEN = "xoxb-try-offline-0000-not-a-real-token"  # noqa: S105
TRY_SIGNING_SECRET = "try-offline-signing-secret-not-a-real-one"  # noqa: S105
TRY_DOIT_KEY = "try-offline-doit-key-not-a-real-one"
DEFAULT_USER = SlackUser("U0DANA", "dana", "C0SUPPORT", "support", "T0DEMO")
REPLY_TIMEOUT = 15.0
"""Seconds to wait for the app to finish a request; the sandbox answers in milliseconds."""

SAMPLE_VALUES: dict[str, str] = {
    ids.SUBJECT: "VPN down in eu-west-1",
    ids.DESCRIPTION: (
        "Since 09:00 UTC the site-to-site VPN to eu-west-1 drops every few minutes. "
        "Both tunnels show DOWN; nothing changed on our side."
    ),
    ids.SEVERITY: "high",
    ids.REQUESTER: "dana@example.com",
}
"""What `submit` types into the create form where the form holds nothing yet."""

_FORMS = (ids.CREATE_CALLBACK, ids.COMMENT_CALLBACK)
SAMPLE_COMMENT = "Thanks! It happened again at 10:15 UTC; the tunnel logs are attached to our runbook."
_MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")
_VIEW_WORDING = {
    "views.open": "A modal opens",
    "views.push": "A modal opens on top",
    "views.update": "The modal changes to",
    "views.publish": "Your Home tab shows",
}


@dataclass(frozen=True)
class Reply:
    """One thing the bot showed: a message (``text``/``blocks``), a view, or a note (``text`` only)."""

    where: str
    text: str | None = None
    blocks: list[dict[str, Any]] | None = None
    view: dict[str, Any] | None = None
    is_note: bool = False
    container: dict[str, Any] | None = None
    """For a message: where it lives (channel, ts, whether ephemeral), so its buttons can be clicked."""


class _TrackedExecutor(Executor):
    """Bolt's listener pool, remembering what is still running so a caller can wait for it."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = self._inner.submit(fn, *args, **kwargs)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def wait_idle(self, timeout: float) -> bool:
        """True when every listener started so far has finished within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = set(self._pending)
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait(pending, timeout=remaining)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class TrySession:
    """A sandbox, a fake Slack and the real app, started together; use as a context manager."""

    def __init__(self, *, tickets: int = 120, seed: int = 7, user: SlackUser = DEFAULT_USER) -> None:
        self.tickets = tickets
        self.seed = seed
        self.user = user
        self._form_view_id: str | None = None
        self._clickable: list[Reply] = []

    def __enter__(self) -> TrySession:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the sandbox and the fake Slack on loopback, then build the app against both."""
        self._workdir = tempfile.TemporaryDirectory(prefix="doit-slack-try-")
        self.sandbox = Sandbox(tickets=self.tickets, seed=self.seed, api_key=TRY_DOIT_KEY)
        self.sandbox.start()
        self.slack = FakeSlack(team_id=self.user.team_id, bot_token=TRY_BOT_TOKEN)
        self.slack.start()
        self.settings = _settings(self.slack, self.sandbox, Path(self._workdir.name))
        self.services = Services.from_settings(self.settings)
        self.services.warm_up()  # display names in the first list, as a running bot has them
        self.app = build_app(self.settings, self.services)
        self._executor = _TrackedExecutor(self.app.listener_runner.listener_executor)
        self.app.listener_runner.listener_executor = self._executor
        self.requests = SlackRequests(self.app, TRY_SIGNING_SECRET, self.user)
        self._lookups = WebClient(base_url=self.slack.api_url, token=TRY_BOT_TOKEN, timeout=5)
        self.names = Names(user=self._user_name, channel=self._channel_name)

    def close(self) -> None:
        """Let running listeners finish, then stop everything; safe after a failed start."""
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.wait_idle(REPLY_TIMEOUT)
            executor.shutdown(wait=True)
        services = getattr(self, "services", None)
        if services is not None:
            services.close()
        for server in (getattr(self, "slack", None), getattr(self, "sandbox", None)):
            if server is not None:
                server.stop()
        workdir = getattr(self, "_workdir", None)
        if workdir is not None:
            workdir.cleanup()

    # --- what a person can do -----------------------------------------------------------------------

    def send(self, line: str) -> list[Reply]:
        """Type ``line`` (``/doit list open``; without a leading slash command, /doit is meant)."""
        command, text = split_line(line)
        marker = len(self.slack.calls)
        response = self.requests.command(command, text, response_url=self.slack.response_url())
        if response.status == 404:
            return [_note(f"Only /doit is installed in this stand-in Slack, so {command} goes nowhere.")]
        replies = self._answer_replies(response, where="Reply only you can see")
        return replies + self._collect(marker)

    def submit(self) -> list[Reply]:
        """Fill the open form (a new ticket or a comment) with sample values and submit it."""
        view = self._open_form()
        if view is None:
            return [_note("No form is open: type /doit new [subject] first.")]
        marker = len(self.slack.calls)
        if view.get("callback_id") == ids.COMMENT_CALLBACK:
            values, problem = _comment_values(), None
        else:
            values, problem = self._sample_values(view)
        if problem:
            return [_note(problem)]
        typed = _typed_summary(values)
        payload = {
            "type": "view_submission",
            "trigger_id": new_trigger_id(),
            "view": {**view, "state": {"values": values}},
            "response_urls": [],
        }
        response = self.requests.interaction(payload)
        filled = [_note(f"Submitting the form as if you had typed: {typed}")] if typed else []
        return filled + self._submission_replies(response) + self._collect(marker)

    def open_home(self) -> list[Reply]:
        """Open the bot's Home tab, as clicking the app's name in Slack does."""
        marker = len(self.slack.calls)
        event = {
            "type": "app_home_opened",
            "user": self.user.user_id,
            "channel": "D" + self.user.user_id,
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        response = self.requests.event(event)
        if response.status == 404:
            return [_note("Nothing in the bot draws a Home tab yet.")]
        return self._collect(marker)

    def click(self, label: str) -> list[Reply]:
        """Press the button labelled ``label`` in the latest messages that had buttons."""
        found = self._find_button(label)
        if found is None:
            labels = [f"[{text}]" for reply in self._clickable for _, _, text in _buttons(_blocks_of(reply))]
            known = f" The buttons there: {' '.join(labels)}." if labels else ""
            return [_note(f"No button [{label}] in the latest replies.{known}")]
        reply, block_id, button = found
        marker = len(self.slack.calls)
        response = self.requests.interaction(self._block_actions(reply, block_id, button))
        if response.status == 404:
            return [_note(f"Nothing in the bot handles [{label}] yet.")]
        replies = self._collect(marker, empty_ok=bool(button.get("url")))
        if button.get("url"):
            replies.insert(0, _note(f"[{label}] opens {button['url']} in the browser."))
        return replies

    def _find_button(self, label: str) -> tuple[Reply, str, dict[str, Any]] | None:
        wanted = label.strip().strip("[]").strip().casefold()
        for reply in reversed(self._clickable):
            for block_id, button, text in _buttons(_blocks_of(reply)):
                if text.casefold() == wanted:
                    return reply, block_id, button
        return None

    def _block_actions(self, reply: Reply, block_id: str, button: dict[str, Any]) -> dict[str, Any]:
        action = {
            "type": "button",
            "action_id": button.get("action_id", ""),
            "block_id": block_id,
            "text": button.get("text"),
            "action_ts": f"{time.time():.6f}",
        }
        for key in ("value", "url"):
            if button.get(key) is not None:
                action[key] = button[key]
        if reply.view is not None:
            return {
                "type": "block_actions",
                "trigger_id": new_trigger_id(),
                "container": {"type": "view", "view_id": reply.view.get("id")},
                "view": reply.view,
                "actions": [action],
            }
        container = reply.container or {}
        message = {
            "type": "message",
            "ts": container.get("message_ts"),
            "text": reply.text,
            "blocks": reply.blocks,
        }
        return {
            "type": "block_actions",
            "trigger_id": new_trigger_id(),
            "response_url": self.slack.response_url(),
            "container": {"type": "message", **container},
            "channel": {
                "id": container.get("channel_id"),
                "name": self._channel_name(str(container.get("channel_id"))),
            },
            "message": message,
            "actions": [action],
        }

    def sample_ticket_id(self) -> int:
        """A ticket worth showing: the newest one with comments, else the newest."""
        tickets = self.sandbox.tickets()
        for ticket in tickets[:30]:
            if self.sandbox.comments(ticket["id"]):
                return int(ticket["id"])
        return int(tickets[0]["id"])

    # --- the create form ----------------------------------------------------------------------------

    def _open_form(self) -> dict[str, Any] | None:
        if self._form_view_id is None:
            return None
        view = self.slack.views.get(self._form_view_id)
        if view is None or view.get("callback_id") not in _FORMS:
            return None
        return view

    def _sample_values(self, view: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """``state.values`` for the form: what it holds, else the samples; a product the app offers."""
        values: dict[str, Any] = {}
        for block in view.get("blocks") or []:
            element = block.get("element") or {}
            if block.get("type") != "input" or element.get("type") == "external_select":
                continue
            state = _sample_state(block["block_id"], element, self.user.channel_id)
            if state is not None:
                values[block["block_id"]] = {element["action_id"]: state}
        platform = values.get(ids.PLATFORM, {}).get(ids.PLATFORM_INPUT, {}).get("selected_option")
        if platform is None:
            return values, "The form offers no platform to pick."
        self._pick_platform(view, values, platform)
        products = self._product_options(view, values)
        if not products:
            label = platform["text"]["text"]
            return values, f"The app offered no products for {label}, so the form cannot be submitted."
        values[ids.PRODUCT] = {ids.PRODUCT_INPUT: {"type": "external_select", "selected_option": products[0]}}
        return values, None

    def _pick_platform(self, view: dict[str, Any], values: dict[str, Any], option: dict[str, Any]) -> None:
        # The platform select dispatches its pick, as Slack does when a person chooses.
        action = {
            "type": "static_select",
            "action_id": ids.PLATFORM_INPUT,
            "block_id": ids.PLATFORM,
            "selected_option": option,
            "action_ts": f"{time.time():.6f}",
        }
        self.requests.interaction(
            {
                "type": "block_actions",
                "container": {"type": "view", "view_id": view["id"]},
                "trigger_id": new_trigger_id(),
                "view": {**view, "state": {"values": values}},
                "actions": [action],
            }
        )
        self._executor.wait_idle(REPLY_TIMEOUT)

    def _product_options(self, view: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.requests.interaction(
            {
                "type": "block_suggestion",
                "action_id": ids.PRODUCT_INPUT,
                "block_id": ids.PRODUCT,
                "value": "",
                "container": {"type": "view", "view_id": view["id"]},
                "view": {**view, "state": {"values": values}},
            }
        )
        body = _json_body(response)
        return [option for option in body.get("options") or [] if isinstance(option, dict)]

    # --- reading what the app did -------------------------------------------------------------------

    def _answer_replies(self, response: BoltResponse, *, where: str) -> list[Reply]:
        if response.status != 200:
            return [_note(f"The app answered HTTP {response.status}.")]
        body = _json_body(response)
        if body.get("text") or body.get("blocks"):
            return [Reply(where=where, text=body.get("text"), blocks=body.get("blocks"))]
        return []

    def _submission_replies(self, response: BoltResponse) -> list[Reply]:
        if response.status != 200:
            return [_note(f"The app answered HTTP {response.status} to the submission.")]
        body = _json_body(response)
        action = body.get("response_action")
        if action == "errors":
            errors = body.get("errors") or {}
            lines = [f"{block_id}: {message}" for block_id, message in errors.items()]
            return [
                Reply(where="The form shows errors under its inputs", text="\n".join(lines), is_note=True)
            ]
        if action in ("update", "push") and isinstance(body.get("view"), dict):
            return [Reply(where="The form, as soon as you submit it", view=body["view"])]
        return []

    def _collect(self, marker: int, *, empty_ok: bool = False) -> list[Reply]:
        if not self._executor.wait_idle(REPLY_TIMEOUT):
            logger.warning("The app was still busy after %.0f s", REPLY_TIMEOUT)
        replies: list[Reply] = []
        view_slots: dict[str, int] = {}
        for call in self.slack.calls[marker:]:
            if call.method in _VIEW_WORDING and call.ok:
                self._place_view(call, replies, view_slots)
            elif call.method == "response_url" and call.ok:
                replies.append(_response_url_reply(call, self.user.channel_id))
            elif call.method in _MESSAGE_METHODS:
                replies.append(self._message_reply(call))
        clickable = [reply for reply in replies if list(_buttons(_blocks_of(reply)))]
        if clickable:
            self._clickable = clickable
        if replies or empty_ok:
            return replies
        return [_note("The bot showed nothing.")]

    def _place_view(self, call: Call, replies: list[Reply], slots: dict[str, int]) -> None:
        # A view opened and then updated within one step shows once, as it ended up.
        view = (call.response or {}).get("view") or {}
        view_id = str(view.get("id"))
        if view.get("callback_id") in _FORMS:
            self._form_view_id = view_id
        if view_id in slots:
            # Keep the first call's wording: the person saw a modal open, then fill in.
            replies[slots[view_id]] = Reply(where=replies[slots[view_id]].where, view=view)
            return
        slots[view_id] = len(replies)
        replies.append(Reply(where=_VIEW_WORDING[call.method], view=view))

    def _message_reply(self, call: Call) -> Reply:
        channel = str(call.args.get("channel") or "")
        if not call.ok:
            error = (call.response or {}).get("error") or "failed"
            return _note(f"Slack refused {call.method} in {self._place(channel)} ({error}).")
        if call.method == "chat.postEphemeral":
            where = f"Shown only to @{self._user_name(str(call.args.get('user')))} in {self._place(channel)}"
        elif call.method == "chat.update":
            where = f"The message in {self._place(channel)} changes to"
        else:
            where = f"Posted in {self._place(channel)}"
            if call.args.get("thread_ts"):
                where += ", in a thread"
        response = call.response or {}
        container = {"channel_id": response.get("channel") or channel, "message_ts": response.get("ts")}
        if call.method == "chat.postEphemeral":
            container = {
                "channel_id": channel,
                "message_ts": response.get("message_ts"),
                "is_ephemeral": True,
            }
        elif call.method == "chat.update":
            container = {"channel_id": channel, "message_ts": call.args.get("ts")}
        return Reply(
            where=where, text=call.args.get("text"), blocks=call.args.get("blocks"), container=container
        )

    # --- names --------------------------------------------------------------------------------------

    def _place(self, channel_id: str) -> str:
        if channel_id.startswith("D") or channel_id.startswith("U"):
            return "your DMs with the bot"
        return f"#{self._channel_name(channel_id)}"

    def _user_name(self, user_id: str) -> str:
        try:
            user = self._lookups.users_info(user=user_id)["user"] or {}
        except SlackApiError:
            return user_id
        return str(user.get("name") or user_id)

    def _channel_name(self, channel_id: str) -> str:
        if channel_id.startswith("D"):
            return "DM"
        try:
            channel = self._lookups.conversations_info(channel=channel_id)["channel"] or {}
        except SlackApiError:
            return channel_id
        return str(channel.get("name") or channel_id)


def split_line(line: str) -> tuple[str, str]:
    """("/doit", "list open") from "/doit list open"; a line without a slash command means /doit."""
    stripped = line.strip()
    if stripped.startswith("/"):
        command, _, text = stripped.partition(" ")
        return command.lower(), text.strip()
    return "/doit", stripped


def join_words(words: list[str]) -> str:
    """One command line from the CLI's words: one word is the whole line, several are re-joined.

    The shell took the quotes off a phrase such as ``"vpn down"``; they go back on, so the query
    still reads it as one phrase.
    """
    if len(words) == 1:
        return words[0]
    return " ".join(f'"{word}"' if any(c.isspace() for c in word) else word for word in words)


def _settings(slack: FakeSlack, sandbox: Sandbox, workdir: Path) -> Settings:
    # Every setting is given, so nothing in the environment (or a .env, never read) changes the demo.
    return load_settings(
        None,
        slack_bot_token=SecretStr(TRY_BOT_TOKEN),
        slack_signing_secret=SecretStr(TRY_SIGNING_SECRET),
        slack_app_token=None,
        slack_api_base_url=slack.api_url,
        doit_api_key=SecretStr(TRY_DOIT_KEY),
        doit_api_base_url=sandbox.base_url,
        doit_tenant_id=None,
        doit_requester=RequesterMode.SLACK_USER,
        database_url=f"sqlite:///{workdir / 'try.sqlite3'}",
        doit_notify_channel=None,
        port=3000,
        log_level="ERROR",
        doit_watch_interval=60.0,
        doit_create_limit=5,
        doit_create_window=600.0,
        doit_notify_requester=True,
        doit_admins="",
    )


def _sample_state(block_id: str, element: dict[str, Any], channel_id: str) -> dict[str, Any] | None:
    kind = element.get("type")
    if kind == "plain_text_input":
        value = element.get("initial_value") or SAMPLE_VALUES.get(block_id)
        return {"type": kind, "value": value} if value else None
    if kind == "static_select":
        return _select_state(block_id, element)
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": element.get("initial_conversation") or channel_id}
    return None


def _typed_summary(values: dict[str, Any]) -> str:
    """The values a `submit` filled in, as a person would read them."""
    shown = []
    for block_id, elements in values.items():
        for state in elements.values():
            text = state.get("value") or (state.get("selected_option") or {}).get("text", {}).get("text")
            text = text or state.get("selected_conversation")
            if text:
                shown.append(f"{block_id} “{text if len(text) <= 60 else text[:59] + '…'}”")
    return ", ".join(shown)


def _select_state(block_id: str, element: dict[str, Any]) -> dict[str, Any] | None:
    options = element.get("options") or []
    wanted = SAMPLE_VALUES.get(block_id)
    # What the form already shows wins; a sample only fills a select that holds nothing.
    chosen = element.get("initial_option") or next(
        (option for option in options if wanted and option.get("value") == wanted), None
    )
    chosen = chosen or (options[0] if options else None)
    if chosen is None:
        return None
    selected = {"text": chosen["text"], "value": chosen["value"]}
    return {"type": "static_select", "selected_option": selected}


def _response_url_reply(call: Call, channel_id: str) -> Reply:
    args = call.args
    public = args.get("response_type") == "in_channel"
    if public:
        where = "Posted in the channel for everyone"
    elif args.get("replace_original") in (True, "true"):
        where = "Replaces the message you clicked, only you see it"
    else:
        where = "Reply only you can see"
    # Slack gives a response_url message a ts of its own; any fresh one will do here.
    container = {"channel_id": channel_id, "message_ts": f"{time.time():.6f}", "is_ephemeral": not public}
    return Reply(where=where, text=args.get("text"), blocks=args.get("blocks"), container=container)


def _blocks_of(reply: Reply) -> list[dict[str, Any]]:
    if reply.view is not None:
        return list(reply.view.get("blocks") or [])
    return list(reply.blocks or [])


def _comment_values() -> dict[str, Any]:
    return {ids.COMMENT: {ids.COMMENT_INPUT: {"type": "plain_text_input", "value": SAMPLE_COMMENT}}}


def _buttons(blocks: list[dict[str, Any]] | None) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(block_id, button, label) for every button in a message's blocks."""
    for block in blocks or []:
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            elements.append(accessory)
        for element in elements:
            if isinstance(element, dict) and element.get("type") == "button":
                text = element.get("text") or {}
                yield str(block.get("block_id") or ""), element, str(text.get("text") or "")


def _note(text: str) -> Reply:
    return Reply(where="note", text=text, is_note=True)


def _json_body(response: BoltResponse) -> dict[str, Any]:
    try:
        body = json.loads(response.body or "{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
