"""A loopback stand-in for Slack's Web API, for the test suite and the offline ``try`` demo.

Point a real ``slack_sdk.WebClient(base_url=fake.api_url)`` (or a Bolt app's client) at it: it answers
the methods the bot uses the way Slack does, keeps the messages and views it was given, records every
call, and can be told to fail, rate-limit or break the next calls to a method::

    with FakeSlack() as fake:
        client = WebClient(base_url=fake.api_url, token="xoxb-demo")
        client.chat_postMessage(channel="C0SUPPORT", text="hi")
        fake.wait_for("chat.postMessage")

Only the standard library is used, because the demo ships it at runtime. Every public method is
thread-safe: Bolt finishes listeners on its own thread pool while a test inspects the state.

Beyond the brief, and like real Slack:

- the bot's ``scopes`` are enforced for the methods that need one (``missing_scope`` with ``needed``),
  and ``users.info`` hides emails without ``users:read.email``;
- ``chat:write.public`` lets the bot post in public channels it has not joined;
- private channels the bot is not in look like they do not exist (``channel_not_found``);
- a few Block Kit limits are checked (see ``block_problems``); block errors answer ``invalid_blocks``
  and bad view fields ``invalid_arguments``, both with ``response_metadata.messages``.
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import itertools
import json
import logging
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

PERMALINK_BASE = "https://fake.slack.test"
UNUSED_SOCKET_URL = "ws://127.0.0.1:1/unused"
REDACTED = "REDACTED"

DEFAULT_SCOPES: tuple[str, ...] = (
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "groups:history",
    "groups:read",
    "im:history",
    "im:read",
    "im:write",
    "links:read",
    "links:write",
    "users.profile:read",
    "users:read",
    "users:read.email",
)

MESSAGE_TEXT_LIMIT = 40_000
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
ATTACHMENT_LIMIT = 100
PRIVATE_METADATA_LIMIT = 3000
VIEW_BUTTON_TEXT_LIMIT = 24

# Form bodies carry these as JSON strings; JSON bodies already hold objects.
_JSON_FIELDS = ("blocks", "attachments", "view", "unfurls", "metadata")
_SECRET_FIELDS = ("client_secret", "code", "refresh_token")
_FIRST_TS_SECONDS = 1_733_300_000
_CREATED = 1_700_000_000

_METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.unfurl": "links:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "users.profile.get": "users.profile:read",
}


@dataclass
class Call:
    """One request the fake received, with its arguments decoded and no secret in it."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    token: str | None
    # What the fake answered: the JSON body, or {"ok": ..., "status": ..., "body": ...} for plain text.
    response: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the fake answered this call with ``"ok": true`` (response_url: HTTP 200)."""
        return bool(self.response and self.response.get("ok"))


class _ApiError(Exception):
    """A Slack error answer: ``{"ok": false, "error": ...}`` plus any extra fields."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    recorded: dict[str, Any] | None = None

    @classmethod
    def of_json(cls, payload: dict[str, Any], status: int = 200, **headers: str) -> _Reply:
        return cls(status, json.dumps(payload).encode(), headers=headers, recorded=payload)

    @classmethod
    def of_text(cls, text: str, status: int = 200) -> _Reply:
        recorded = {"ok": 200 <= status < 300, "status": status, "body": text}
        return cls(status, text.encode(), "text/plain; charset=utf-8", recorded=recorded)


@dataclass
class _Rule:
    method: str
    times: int
    error: str | None = None
    channel: str | None = None
    status: int = 200
    retry_after: int | None = None

    def matches(self, method: str, args: dict[str, Any]) -> bool:
        return self.times > 0 and self.method == method and self.channel in (None, args.get("channel"))


def token_kind(token: str | None) -> str | None:
    """Name a token by its prefix only: ``"bot"``, ``"user"``, ``"app"`` or None."""
    if not token:
        return None
    for prefix, kind in (("xoxb-", "bot"), ("xoxp-", "user"), ("xapp-", "app")):
        if token.startswith(prefix):
            return kind
    return None


class FakeSlack:
    """A thread-safe fake of Slack's Web API and response URLs on a loopback HTTP server."""

    call_observers: ClassVar[list[Callable[[Call], None]]] = []
    """Called with every call any instance records, under that instance's lock: keep them quick.
    The test suite's secret guard scans what the bot sent to Slack through this."""

    def __init__(
        self,
        *,
        team_id: str = "T0DEMO",
        bot_user_id: str = "U0BOT",
        bot_token: str | None = None,
        app_token: str | None = None,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
    ) -> None:
        self.team_id = team_id
        self.team_name = "Demo Workspace"
        self.bot_user_id = bot_user_id
        self.bot_id = "B" + bot_user_id[1:]
        self.app_id = "A0DEMO"
        self.scopes = tuple(scopes)
        self.socket_url: str | None = None
        """What ``apps.connections.open`` hands out: point it at a Socket Mode stand-in to test that."""
        self._bot_token = bot_token
        self._app_token = app_token
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._rules: list[_Rule] = []
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}
        self._response_paths: set[str] = set()
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[str, Callable[[dict[str, Any], _Caller], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.unfurl": self._chat_unfurl,
            "conversations.info": self._conversations_info,
            "conversations.open": self._conversations_open,
            "conversations.members": self._conversations_members,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.profile.get": self._users_profile_get,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }
        self._add_default_state()

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0 picks a free port) and return the Web API base URL."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("FakeSlack is already started")
            self._server = _Server((host, port), self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fakeslack",
                daemon=True,
            )
            self._thread.start()
        logger.info("Fake Slack Web API listening on %s", self.api_url)
        return self.api_url

    def stop(self) -> None:
        """Stop serving; safe to call twice."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        logger.info("Fake Slack Web API stopped")

    def __enter__(self) -> FakeSlack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://host:port`` of the running server, without a trailing slash."""
        server = self._server
        if server is None:
            raise RuntimeError("FakeSlack is not started: call start() first")
        host, port = server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """The base URL for ``WebClient(base_url=...)``; ends with ``/api/``."""
        return self.root_url + "/api/"

    # --- state -----------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        email: str | None,
        real_name: str | None = None,
        tz: str = "Europe/Berlin",
        is_admin: bool = False,
        deleted: bool = False,
    ) -> None:
        """Add or replace a workspace member; ``email=None`` is a profile with the email hidden."""
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "name": name,
                "email": email,
                "real_name": real_name if real_name is not None else name,
                "tz": tz,
                "is_admin": is_admin,
                "deleted": deleted,
                "is_bot": False,
            }

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        is_member: bool = True,
        is_archived: bool = False,
        is_private: bool = False,
        is_im: bool = False,
        members: Iterable[str] | None = None,
    ) -> None:
        """Add or replace a conversation; ``members=None`` means every active user is in it."""
        with self._lock:
            self._channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "is_member": is_member,
                "is_archived": is_archived,
                "is_private": is_private or is_im,
                "is_im": is_im,
                "user": None,
                "members": None if members is None else list(members),
            }

    def add_message(
        self,
        channel: str,
        ts: str,
        *,
        text: str,
        user: str,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        """Seed a message someone else wrote (for shortcuts, permalinks and update refusals)."""
        message: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "team": self.team_id,
        }
        if blocks is not None:
            message["blocks"] = copy.deepcopy(blocks)
        with self._lock:
            self._store_message(channel, message, thread_ts)

    def response_url(self, key: str = "") -> str:
        """A fresh response URL whose POSTs are recorded as ``Call(method="response_url")``."""
        label = urllib.parse.quote(key, safe="") + "/" if key else ""
        path = f"/response/{label}{uuid.uuid4().hex}"
        with self._lock:
            self._response_paths.add(path)
        return self.root_url + path

    # --- failure injection -----------------------------------------------------------------------

    def fail(self, method: str, error: str, *, times: int = 1, channel: str | None = None) -> None:
        """Answer the next ``times`` calls to ``method`` (for ``channel`` only, if given) with ``error``.

        A failed ``response_url`` POST answers HTTP 404 with the error as plain text, as Slack does.
        """
        self._add_rule(_Rule(method, _positive(times), error=error, channel=channel))

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls with HTTP 429, ``Retry-After`` and ``ratelimited``."""
        self._add_rule(
            _Rule(method, _positive(times), error="ratelimited", status=429, retry_after=retry_after)
        )

    def fail_http(self, method: str, status: int = 500, *, times: int = 1) -> None:
        """Answer the next ``times`` calls with a plain-text HTTP ``status`` instead of JSON."""
        self._add_rule(_Rule(method, _positive(times), status=status))

    def _add_rule(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    # --- inspection ------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every call so far, oldest first (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """The calls to one method (``"response_url"`` for response URL POSTs), oldest first."""
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until ``count`` calls to ``method`` arrived and return them all; AssertionError if not."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(matching := self.calls_to(method)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._wait_failure(method, count, timeout, len(matching)))
                self._arrived.wait(remaining)
            return matching

    def _wait_failure(self, method: str, count: int, timeout: float, got: int) -> str:
        received = ", ".join(_summary(call) for call in self._calls) or "nothing"
        expected = f"expected {count} call(s) to {method} within {timeout:g}s, got {got}"
        return f"{expected}; fake Slack received: {received}"

    def clear(self) -> None:
        """Forget the recorded calls; users, channels, messages, views and rules stay."""
        with self._lock:
            self._calls.clear()

    @property
    def messages(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(channel, ts) -> the message as it is now (a copy)."""
        with self._lock:
            return copy.deepcopy(self._messages)

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """View id -> the view as it is now, modals and Home tabs alike (a copy)."""
        with self._lock:
            return copy.deepcopy(self._views)

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """One message as it is now; KeyError naming what exists when it does not."""
        with self._lock:
            message = self._messages.get((channel, ts))
            if message is None:
                known = sorted(key_ts for key_channel, key_ts in self._messages if key_channel == channel)
                raise KeyError(f"no message {ts} in {channel}; it has {known or 'none'}")
            return copy.deepcopy(message)

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies under the message ``ts`` (not the parent), oldest first."""
        with self._lock:
            replies = [
                copy.deepcopy(message)
                for (key_channel, key_ts), message in self._messages.items()
                if key_channel == channel and message.get("thread_ts") == ts and key_ts != ts
            ]
        return sorted(replies, key=lambda message: _ts_key(message["ts"]))

    def home(self, user_id: str) -> dict[str, Any]:
        """The Home tab last published for a user; KeyError when none was."""
        with self._lock:
            view_id = self._home_views.get(user_id)
            if view_id is None:
                raise KeyError(f"no Home tab published for {user_id}")
            return copy.deepcopy(self._views[view_id])

    # --- request handling (called by the HTTP server thread) --------------------------------------

    def _handle_api(self, method: str, args: dict[str, Any], headers: dict[str, str]) -> _Reply:
        """Answer one Web API call and record it."""
        token = _bearer(headers) or _as_str(args.get("token"))
        args = _without_secrets(args)
        with self._lock:
            reply = self._injected_reply(method, args) or self._answer(method, args, token)
            self._record(Call(method, args, _redact_headers(headers), token_kind(token), reply.recorded))
        logger.info("Fake Slack %s -> %s", method, _outcome(reply))
        return reply

    def _handle_response_url(self, path: str, args: dict[str, Any], headers: dict[str, str]) -> _Reply:
        """Answer one response URL POST and record it; unknown URLs answer 404 unrecorded."""
        with self._lock:
            if path not in self._response_paths:
                logger.warning("Fake Slack got a POST to a response URL it never issued: %s", path)
                return _Reply.of_text("no_service", 404)
            args = {**args, "_url": self.root_url + path}
            reply = self._injected_reply("response_url", args) or _Reply.of_text("ok")
            self._record(Call("response_url", args, _redact_headers(headers), None, reply.recorded))
        logger.info("Fake Slack response_url -> %s", _outcome(reply))
        return reply

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        for observer in FakeSlack.call_observers:
            observer(call)
        self._arrived.notify_all()

    def _injected_reply(self, method: str, args: dict[str, Any]) -> _Reply | None:
        rule = next((rule for rule in self._rules if rule.matches(method, args)), None)
        if rule is None:
            return None
        rule.times -= 1
        if rule.status == 429:
            body = {"ok": False, "error": "ratelimited"}
            return _Reply.of_json(body, 429, **{"Retry-After": str(rule.retry_after or 1)})
        if rule.error is None:
            return _Reply.of_text(f"fake HTTP {rule.status} for {method}", rule.status)
        if method == "response_url":
            return _Reply.of_text(rule.error, 404)
        return _Reply.of_json({"ok": False, "error": rule.error})

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> _Reply:
        headers = {"x-oauth-scopes": ",".join(self.scopes)} if token_kind(token) == "bot" else {}
        try:
            caller = self._authenticate(method, token)
            handler = self._handlers.get(method)
            if handler is None:
                raise _ApiError("unknown_method")
            self._check_scope(method, caller)
            body = {"ok": True, **handler(args, caller)}
        except _ApiError as exc:
            body = {"ok": False, "error": exc.error, **exc.extra}
        return _Reply.of_json(body, **headers)

    # --- auth ------------------------------------------------------------------------------------

    def _authenticate(self, method: str, token: str | None) -> _Caller:
        kind = token_kind(token)
        if not token:
            raise _ApiError("not_authed")
        if kind is None or not self._token_accepted(kind, token):
            raise _ApiError("invalid_auth")
        if (kind == "app") != (method == "apps.connections.open"):
            raise _ApiError("not_allowed_token_type")
        if kind == "user":
            return _Caller(kind, self._user_token_owner(), is_bot=False)
        return _Caller(kind, self.bot_user_id, is_bot=True)

    def _token_accepted(self, kind: str, token: str) -> bool:
        expected = self._app_token if kind == "app" else self._bot_token
        return expected is None or token == expected

    def _user_token_owner(self) -> str:
        # A user token acts as the first human added, Dana by default.
        return next((uid for uid, user in self._users.items() if not user["is_bot"]), self.bot_user_id)

    def _check_scope(self, method: str, caller: _Caller) -> None:
        needed = _METHOD_SCOPES.get(method)
        if needed is not None and caller.is_bot:
            self._require_scope(needed)

    def _require_scope(self, needed: str) -> None:
        if needed not in self.scopes:
            raise _ApiError("missing_scope", needed=needed, provided=",".join(self.scopes))

    # --- default state ---------------------------------------------------------------------------

    def _add_default_state(self) -> None:
        self._users[self.bot_user_id] = {
            "id": self.bot_user_id,
            "name": "doit",
            "email": None,
            "real_name": "DoiT Support",
            "tz": "UTC",
            "is_admin": False,
            "deleted": False,
            "is_bot": True,
        }
        self.add_user("U0DANA", name="dana", email="dana@example.com", real_name="Dana Reyes", is_admin=True)
        self.add_user("U0NOMAIL", name="nomail", email=None, real_name="Hidden Email")
        self.add_user("U0LEE", name="lee", email="lee@example.com", real_name="Lee Park")
        self.add_channel("C0GENERAL", name="general")
        self.add_channel("C0SUPPORT", name="support")
        self.add_channel("C0NOTIN", name="random", is_member=False)
        self.add_channel("C0ARCHIVED", name="old", is_archived=True)

    # --- conversations ---------------------------------------------------------------------------

    def _channel(self, channel_id: Any, *, allow_names: bool = False) -> dict[str, Any]:
        """The conversation the bot can see by id (or name or user id, where Slack allows that)."""
        channel_id = _as_str(channel_id)
        found = self._channels.get(channel_id) or self._implicit_im(channel_id)
        if found is None and allow_names:
            found = self._channel_by_name(channel_id.removeprefix("#")) or self._im_for_user(channel_id)
        if found is None or (found["is_private"] and not found["is_member"]):
            raise _ApiError("channel_not_found")
        return found

    def _channel_by_name(self, name: str) -> dict[str, Any] | None:
        return next((channel for channel in self._channels.values() if channel["name"] == name), None)

    def _implicit_im(self, channel_id: str) -> dict[str, Any] | None:
        # Every user has a DM with the bot, "D" + their id, whether or not it was opened.
        return self._im_for_user(channel_id[1:]) if channel_id.startswith("D") else None

    def _im_for_user(self, user_id: str) -> dict[str, Any] | None:
        user = self._users.get(user_id)
        if user is None or user["is_bot"]:
            return None
        channel_id = "D" + user_id
        if channel_id not in self._channels:
            self.add_channel(channel_id, name=channel_id, is_im=True, members=[user_id, self.bot_user_id])
            self._channels[channel_id]["user"] = user_id
        return self._channels[channel_id]

    def _members(self, channel: dict[str, Any]) -> list[str]:
        if channel["members"] is not None:
            members = list(channel["members"])
        else:
            members = [uid for uid, user in self._users.items() if not user["is_bot"] and not user["deleted"]]
        if channel["is_member"] and self.bot_user_id not in members:
            members.append(self.bot_user_id)
        return members

    def _conversation_json(self, channel: dict[str, Any]) -> dict[str, Any]:
        if channel["is_im"]:
            return {
                "id": channel["id"],
                "created": _CREATED,
                "is_im": True,
                "is_org_shared": False,
                "user": channel["user"],
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": channel["id"],
            "name": channel["name"],
            "name_normalized": channel["name"],
            "created": _CREATED,
            "creator": "U0DANA",
            "is_channel": not channel["is_private"],
            "is_group": channel["is_private"],
            "is_im": False,
            "is_mpim": False,
            "is_private": channel["is_private"],
            "is_archived": channel["is_archived"],
            "is_general": channel["name"] == "general",
            "is_member": channel["is_member"],
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _require_read(self, channel: dict[str, Any], caller: _Caller, access: str = "read") -> None:
        if not caller.is_bot:
            return
        prefix = "im" if channel["is_im"] else "groups" if channel["is_private"] else "channels"
        self._require_scope(f"{prefix}:{access}")

    def _conversations_info(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        self._require_read(channel, caller)
        return {"channel": self._conversation_json(channel)}

    def _conversations_members(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        self._require_read(channel, caller)
        return {"members": self._members(channel), "response_metadata": {"next_cursor": ""}}

    def _conversations_open(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        if args.get("channel"):
            return {"channel": {"id": self._channel(args["channel"])["id"]}}
        users = [uid.strip() for uid in _as_str(args.get("users")).split(",") if uid.strip()]
        if len(users) != 1:
            # TODO: group DMs (mpim) when the bot starts opening them.
            raise _ApiError("not_supported_by_fake_slack" if users else "users_list_not_supplied")
        user = self._users.get(users[0])
        if user is None:
            raise _ApiError("user_not_found")
        if user["is_bot"]:
            raise _ApiError("cannot_dm_bot")
        if user["deleted"]:
            raise _ApiError("user_disabled")
        im = self._im_for_user(users[0])
        assert im is not None
        return {"no_op": True, "already_open": True, "channel": {"id": im["id"]}}

    def _conversations_history(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        self._require_read(channel, caller, "history")
        self._require_membership(channel)
        top = [m for m in self._channel_messages(channel["id"]) if m.get("thread_ts") in (None, m["ts"])]
        return {"messages": list(reversed(top)), "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _conversations_replies(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        self._require_read(channel, caller, "history")
        self._require_membership(channel)
        ts = _as_str(args.get("ts"))
        parent = self._messages.get((channel["id"], ts))
        if parent is None:
            raise _ApiError("thread_not_found")
        replies = [
            m for m in self._channel_messages(channel["id"]) if m.get("thread_ts") == ts and m["ts"] != ts
        ]
        return {"messages": [parent, *replies], "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _channel_messages(self, channel_id: str) -> list[dict[str, Any]]:
        found = [message for (key_channel, _), message in self._messages.items() if key_channel == channel_id]
        return sorted(found, key=lambda message: _ts_key(message["ts"]))

    def _require_membership(self, channel: dict[str, Any]) -> None:
        if not channel["is_member"]:
            raise _ApiError("not_in_channel")

    # --- chat ------------------------------------------------------------------------------------

    def _writable_channel(self, args: dict[str, Any], *, ephemeral: bool = False) -> dict[str, Any]:
        channel = self._channel(args.get("channel"), allow_names=True)
        if channel["is_archived"]:
            raise _ApiError("is_archived")
        public_write = ephemeral or "chat:write.public" in self.scopes
        if not channel["is_member"] and not (public_write and not channel["is_private"]):
            raise _ApiError("not_in_channel")
        return channel

    def _next_ts(self) -> str:
        micros = next(self._ts_counter) * 100
        return f"{_FIRST_TS_SECONDS + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _check_content(self, args: dict[str, Any], *, required: bool = True) -> None:
        blocks, attachments, text = args.get("blocks"), args.get("attachments"), _as_str(args.get("text"))
        if required and not text and not blocks and not attachments:
            raise _ApiError("no_text")
        if len(text) > MESSAGE_TEXT_LIMIT:
            raise _ApiError("msg_too_long")
        if isinstance(blocks, str):
            raise _ApiError("invalid_blocks_format")
        if blocks is not None and (problems := block_problems(blocks, "/blocks", MESSAGE_BLOCK_LIMIT)):
            raise _ApiError("invalid_blocks", response_metadata={"messages": problems})
        if isinstance(attachments, list) and len(attachments) > ATTACHMENT_LIMIT:
            raise _ApiError("too_many_attachments")
        metadata = args.get("metadata")
        if metadata is not None and not (isinstance(metadata, dict) and metadata.get("event_type")):
            raise _ApiError("invalid_metadata_format")

    def _new_message(self, args: dict[str, Any], caller: _Caller, ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "text": _as_str(args.get("text")),
            "user": caller.user_id,
        }
        if caller.is_bot:
            message.update(bot_id=self.bot_id, app_id=self.app_id)
        message.update(ts=ts, team=self.team_id)
        for key in ("blocks", "attachments", "metadata"):
            if args.get(key) is not None:
                message[key] = copy.deepcopy(args[key])
        return message

    def _store_message(self, channel_id: str, message: dict[str, Any], thread_ts: str | None) -> None:
        parent = self._messages.get((channel_id, thread_ts)) if thread_ts else None
        if thread_ts:
            message["thread_ts"] = thread_ts
        if parent is not None:
            message["parent_user_id"] = parent["user"]
            parent.update(thread_ts=thread_ts, reply_count=parent.get("reply_count", 0) + 1)
            parent["latest_reply"] = message["ts"]
        self._messages[(channel_id, message["ts"])] = message

    def _chat_post_message(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        channel = self._writable_channel(args)
        self._check_content(args)
        ts = self._next_ts()
        message = self._new_message(args, caller, ts)
        self._store_message(channel["id"], message, _as_str(args.get("thread_ts")) or None)
        return {"channel": channel["id"], "ts": ts, "message": copy.deepcopy(message)}

    def _chat_post_ephemeral(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        channel = self._writable_channel(args, ephemeral=True)
        user_id = _as_str(args.get("user"))
        if not user_id:
            raise _invalid_arguments("missing required field: user")
        if user_id not in self._users:
            raise _ApiError("user_not_found")
        if user_id not in self._members(channel):
            raise _ApiError("user_not_in_channel")
        self._check_content(args)
        return {"message_ts": self._next_ts()}

    def _own_message(
        self, args: dict[str, Any], caller: _Caller, refusal: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        channel = self._channel(args.get("channel"))
        message = self._messages.get((channel["id"], _as_str(args.get("ts"))))
        if message is None:
            raise _ApiError("message_not_found")
        if message["user"] != caller.user_id:
            raise _ApiError(refusal)
        if channel["is_archived"]:
            raise _ApiError("is_archived")
        return channel, message

    def _chat_update(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        channel, message = self._own_message(args, caller, "cant_update_message")
        self._check_content(args)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = copy.deepcopy(args[key])
        message["edited"] = {"user": caller.user_id, "ts": self._next_ts()}
        text = message.get("text", "")
        return {
            "channel": channel["id"],
            "ts": message["ts"],
            "text": text,
            "message": copy.deepcopy(message),
        }

    def _chat_delete(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        channel, message = self._own_message(args, caller, "cant_delete_message")
        del self._messages[(channel["id"], message["ts"])]
        return {"channel": channel["id"], "ts": message["ts"]}

    def _chat_get_permalink(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        # NOTE: lenient on purpose: shortcuts point at user messages the fake was never told about.
        channel = self._channel(args.get("channel"))
        ts = _as_str(args.get("message_ts"))
        if not ts:
            raise _ApiError("message_not_found")
        permalink = f"{PERMALINK_BASE}/archives/{channel['id']}/p{ts.replace('.', '')}"
        message = self._messages.get((channel["id"], ts), {})
        if message.get("thread_ts") not in (None, ts):
            permalink += f"?thread_ts={message['thread_ts']}&cid={channel['id']}"
        return {"channel": channel["id"], "permalink": permalink}

    def _chat_unfurl(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        if not isinstance(args.get("unfurls"), dict):
            raise _invalid_arguments("missing required field: unfurls")
        if not (args.get("source") and args.get("unfurl_id")):
            self._channel(args.get("channel"))
        return {}

    # --- users -----------------------------------------------------------------------------------

    def _user_json(self, user: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        offset = _tz_offset(user["tz"])
        return {
            "id": user["id"],
            "team_id": self.team_id,
            "name": user["name"],
            "deleted": user["deleted"],
            "real_name": user["real_name"],
            "tz": user["tz"],
            "tz_label": user["tz"],
            "tz_offset": offset,
            "is_admin": user["is_admin"],
            "is_owner": False,
            "is_bot": user["is_bot"],
            "is_app_user": False,
            "updated": _CREATED,
            "profile": self._profile_json(user, caller),
        }

    def _profile_json(self, user: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": user["real_name"],
            "real_name_normalized": user["real_name"],
            "display_name": user["name"],
            "display_name_normalized": user["name"],
            "team": self.team_id,
        }
        if user["is_bot"]:
            profile["bot_id"] = self.bot_id
        if user["email"] and (not caller.is_bot or "users:read.email" in self.scopes):
            profile["email"] = user["email"]
        return profile

    def _known_user(self, user_id: Any) -> dict[str, Any]:
        user = self._users.get(_as_str(user_id))
        if user is None:
            raise _ApiError("user_not_found")
        return user

    def _users_info(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        return {"user": self._user_json(self._known_user(args.get("user")), caller)}

    def _users_lookup_by_email(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        wanted = _as_str(args.get("email")).strip().lower()
        for user in self._users.values():
            if wanted and (user["email"] or "").lower() == wanted:
                return {"user": self._user_json(user, caller)}
        raise _ApiError("users_not_found")

    def _users_profile_get(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        user = self._known_user(args.get("user") or caller.user_id)
        return {"profile": self._profile_json(user, caller)}

    # --- views -----------------------------------------------------------------------------------

    def _check_view(self, view: Any, allowed_type: str) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise _invalid_arguments("missing required field: view")
        problems = view_problems(view, allowed_type)
        if problems:
            raise _ApiError("invalid_arguments", response_metadata={"messages": problems})
        blocks = view.get("blocks", [])
        if blocks_problems := block_problems(blocks, "/view/blocks", VIEW_BLOCK_LIMIT):
            raise _ApiError("invalid_blocks", response_metadata={"messages": blocks_problems})
        return view

    def _require_trigger(self, args: dict[str, Any]) -> None:
        if not _as_str(args.get("trigger_id")):
            raise _invalid_arguments("missing required field: trigger_id")

    def _next_view_id(self) -> str:
        return f"V{next(self._id_counter):08d}"

    def _next_hash(self) -> str:
        return f"{_FIRST_TS_SECONDS}.{next(self._id_counter):08d}"

    def _build_view(self, view: dict[str, Any], view_id: str, root_view_id: str | None) -> dict[str, Any]:
        built = {
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            **copy.deepcopy(view),
        }
        built.update(id=view_id, team_id=self.team_id, app_id=self.app_id, bot_id=self.bot_id)
        built.update(hash=self._next_hash(), root_view_id=root_view_id or view_id)
        return built

    def _open_new_view(self, view: dict[str, Any], root_view_id: str | None = None) -> dict[str, Any]:
        external_id = view.get("external_id")
        if external_id and any(v.get("external_id") == external_id for v in self._views.values()):
            raise _ApiError("duplicate_external_id")
        view_id = self._next_view_id()
        self._views[view_id] = self._build_view(view, view_id, root_view_id)
        return {"view": copy.deepcopy(self._views[view_id])}

    def _views_open(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        self._require_trigger(args)
        return self._open_new_view(self._check_view(args.get("view"), "modal"))

    def _views_push(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        self._require_trigger(args)
        return self._open_new_view(self._check_view(args.get("view"), "modal"))

    def _find_view(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id, external_id = _as_str(args.get("view_id")), _as_str(args.get("external_id"))
        if not view_id and not external_id:
            raise _invalid_arguments("one of view_id or external_id is required")
        for current in self._views.values():
            if (view_id and current["id"] == view_id) or (
                not view_id and current["external_id"] == external_id
            ):
                return current
        raise _ApiError("not_found")

    def _replace_view(self, current: dict[str, Any], view: dict[str, Any], given_hash: str) -> dict[str, Any]:
        if given_hash and given_hash != current["hash"]:
            raise _ApiError("hash_conflict")
        keep = {"external_id": current["external_id"], **view}
        replaced = self._build_view(keep, current["id"], current["root_view_id"])
        replaced["previous_view_id"] = current["previous_view_id"]
        self._views[current["id"]] = replaced
        return {"view": copy.deepcopy(replaced)}

    def _views_update(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        current = self._find_view(args)
        view = self._check_view(args.get("view"), current.get("type", "modal"))
        return self._replace_view(current, view, _as_str(args.get("hash")))

    def _views_publish(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        user_id = _as_str(args.get("user_id"))
        self._known_user(user_id)
        view = self._check_view(args.get("view"), "home")
        view_id = self._home_views.get(user_id)
        if view_id is not None:
            return self._replace_view(self._views[view_id], view, _as_str(args.get("hash")))
        published = self._open_new_view(view)
        self._home_views[user_id] = published["view"]["id"]
        return published

    # --- the rest --------------------------------------------------------------------------------

    def _auth_test(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        body = {
            "url": f"{PERMALINK_BASE}/",
            "team": self.team_name,
            "user": self._users[caller.user_id]["name"],
            "team_id": self.team_id,
            "user_id": caller.user_id,
            "is_enterprise_install": False,
        }
        if caller.is_bot:
            body["bot_id"] = self.bot_id
        return body

    def _apps_connections_open(self, args: dict[str, Any], caller: _Caller) -> dict[str, Any]:
        return {"url": self.socket_url or UNUSED_SOCKET_URL}


@dataclass(frozen=True)
class _Caller:
    kind: str
    user_id: str
    is_bot: bool


# --- Block Kit checks (a few of Slack's limits, not a full validator) ---------------------------------


def block_problems(blocks: Any, pointer: str, limit: int) -> list[str]:
    """Slack-style ``[ERROR] ... [json-pointer:...]`` lines for the limits a list of blocks breaks."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    problems = [f"no more than {limit} items allowed [json-pointer:{pointer}]"] if len(blocks) > limit else []
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None and block_id in seen:
            problems.append(f"duplicate block_id [json-pointer:{where}/block_id]")
        seen.add(block_id)
        problems.extend(_BLOCK_CHECKS.get(block["type"], _no_problems)(block, where))
    return [f"[ERROR] {problem}" for problem in problems]


def view_problems(view: dict[str, Any], allowed_type: str) -> list[str]:
    """Slack-style error lines for a view's own fields (not its blocks)."""
    if view.get("type") != allowed_type:
        return [f"[ERROR] must be {allowed_type} [json-pointer:/view/type]"]
    problems: list[str] = []
    if allowed_type == "modal":
        if not isinstance(view.get("title"), dict):
            problems.append("missing required field: title [json-pointer:/view/title]")
        for key in ("title", "submit", "close"):
            problems += _text_limit(view.get(key), VIEW_BUTTON_TEXT_LIMIT, f"/view/{key}")
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and "submit" not in view:
            problems.append("submit is required when the view has input blocks [json-pointer:/view/submit]")
    if len(_as_str(view.get("private_metadata"))) > PRIVATE_METADATA_LIMIT:
        problems.append(
            f"must be at most {PRIVATE_METADATA_LIMIT} characters [json-pointer:/view/private_metadata]"
        )
    for key in ("callback_id", "external_id"):
        if len(_as_str(view.get(key))) > 255:
            problems.append(f"must be at most 255 characters [json-pointer:/view/{key}]")
    return [f"[ERROR] {problem}" for problem in problems]


def _text_limit(obj: Any, limit: int, where: str, *, minimum: int = 0) -> list[str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return []
    length = len(obj["text"])
    if length > limit:
        return [f"must be at most {limit} characters [json-pointer:{where}/text]"]
    if length < minimum:
        return [f"must be at least {minimum} character(s) [json-pointer:{where}/text]"]
    return []


def _no_problems(block: dict[str, Any], where: str) -> list[str]:
    return []


def _section_problems(block: dict[str, Any], where: str) -> list[str]:
    if "text" not in block and "fields" not in block:
        return [f"must provide text or fields [json-pointer:{where}]"]
    problems = _text_limit(block.get("text"), 3000, f"{where}/text", minimum=1)
    fields = block.get("fields") or []
    if len(fields) > 10:
        problems.append(f"no more than 10 items allowed [json-pointer:{where}/fields]")
    for index, item in enumerate(fields):
        problems += _text_limit(item, 2000, f"{where}/fields/{index}", minimum=1)
    if isinstance(block.get("accessory"), dict):
        problems += _element_problems(block["accessory"], f"{where}/accessory")
    return problems


def _header_problems(block: dict[str, Any], where: str) -> list[str]:
    return _text_limit(block.get("text"), 150, f"{where}/text", minimum=1)


def _input_problems(block: dict[str, Any], where: str) -> list[str]:
    problems = (
        []
        if isinstance(block.get("label"), dict)
        else [f"missing required field: label [json-pointer:{where}]"]
    )
    problems += _text_limit(block.get("label"), 2000, f"{where}/label")
    element = block.get("element")
    if not isinstance(element, dict):
        return [*problems, f"missing required field: element [json-pointer:{where}]"]
    return problems + _element_problems(element, f"{where}/element")


def _actions_problems(block: dict[str, Any], where: str) -> list[str]:
    elements = block.get("elements") or []
    problems = (
        [f"no more than 25 items allowed [json-pointer:{where}/elements]"] if len(elements) > 25 else []
    )
    action_ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
    if len(action_ids) != len(set(action_ids)):
        problems.append(f"action_id must be unique within the block [json-pointer:{where}/elements]")
    for index, element in enumerate(elements):
        if isinstance(element, dict):
            problems += _element_problems(element, f"{where}/elements/{index}")
    return problems


def _context_problems(block: dict[str, Any], where: str) -> list[str]:
    too_many = len(block.get("elements") or []) > 10
    return [f"no more than 10 items allowed [json-pointer:{where}/elements]"] if too_many else []


def _element_problems(element: dict[str, Any], where: str) -> list[str]:
    kind = element.get("type")
    problems: list[str] = []
    if kind == "button":
        problems += _text_limit(element.get("text"), 75, f"{where}/text", minimum=1)
        if len(_as_str(element.get("url"))) > 3000:
            problems.append(f"must be at most 3000 characters [json-pointer:{where}/url]")
    if kind == "plain_text_input":
        if element.get("initial_value") == "":
            problems.append(f"must be at least 1 character(s) [json-pointer:{where}/initial_value]")
        if int(element.get("max_length") or 0) > 3000:
            problems.append(f"must be at most 3000 [json-pointer:{where}/max_length]")
    options = element.get("options")
    if isinstance(options, list):
        problems += _option_problems(options, f"{where}/options")
    return problems


def _option_problems(options: list[Any], where: str) -> list[str]:
    problems = [f"no more than 100 items allowed [json-pointer:{where}]"] if len(options) > 100 else []
    for index, option in enumerate(options):
        if not isinstance(option, dict):
            continue
        problems += _text_limit(option.get("text"), 75, f"{where}/{index}/text", minimum=1)
        if len(_as_str(option.get("value"))) > 150:
            problems.append(f"must be at most 150 characters [json-pointer:{where}/{index}/value]")
    return problems


_BLOCK_CHECKS: dict[str, Callable[[dict[str, Any], str], list[str]]] = {
    "section": _section_problems,
    "header": _header_problems,
    "input": _input_problems,
    "actions": _actions_problems,
    "context": _context_problems,
}


# --- helpers --------------------------------------------------------------------------------------


def _positive(times: int) -> int:
    if times < 1:
        raise ValueError(f"times must be at least 1, got {times}")
    return times


def _as_str(value: Any) -> str:
    return "" if value is None else str(value)


def _invalid_arguments(message: str) -> _ApiError:
    return _ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]})


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    return int(seconds or 0), int(fraction or 0)


def _tz_offset(tz: str) -> int:
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds()) if offset is not None else 0


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {name: REDACTED if name == "authorization" else value for name, value in headers.items()}


def _without_secrets(args: dict[str, Any]) -> dict[str, Any]:
    cleaned = {key: value for key, value in args.items() if key != "token"}
    for key in _SECRET_FIELDS:
        if key in cleaned:
            cleaned[key] = REDACTED
    return cleaned


def _summary(call: Call) -> str:
    response = call.response or {}
    if response.get("ok"):
        return f"{call.method} (ok)"
    return f"{call.method} ({response.get('error') or response.get('body') or 'failed'})"


def _outcome(reply: _Reply) -> str:
    recorded = reply.recorded or {}
    if recorded.get("ok"):
        return "ok"
    return f"HTTP {reply.status} {recorded.get('error') or recorded.get('body') or ''}".strip()


# --- HTTP -----------------------------------------------------------------------------------------


def _decode_body(content_type: str, body: bytes) -> dict[str, Any]:
    """Arguments from a form, JSON or multipart body, with JSON-string fields decoded."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json":
        parsed = json.loads(body.decode("utf-8") or "{}")
        args = parsed if isinstance(parsed, dict) else {}
    elif media_type == "multipart/form-data":
        args = _decode_multipart(content_type, body)
    else:
        args = _decode_query(body.decode("utf-8"))
    return _decode_json_fields(args)


def _decode_query(query: str) -> dict[str, Any]:
    """A query string or form body as a dict; a repeated key keeps every value in a list."""
    pairs = urllib.parse.parse_qs(query, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in pairs.items()}


def _decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    """Turn JSON-looking strings in the fields Slack takes as JSON into Python objects."""
    decoded = dict(args)
    for key in _JSON_FIELDS:
        value = decoded.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                decoded[key] = json.loads(value)
            except json.JSONDecodeError:
                logger.debug("Fake Slack kept unparsable JSON field %s as text", key)
    return decoded


def _decode_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    args: dict[str, Any] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        args[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    return args


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 makes a burst of concurrent clients wait a second for a SYN retry.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeSlack) -> None:
        super().__init__(address, _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    def _dispatch(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            reply = self._route(split.path, split.query, headers)
        except Exception:
            logger.exception("Fake Slack failed on %s", split.path)
            reply = _Reply.of_json({"ok": False, "error": "fake_slack_internal_error"}, 500)
        self._send(reply)

    def _route(self, path: str, query: str, headers: dict[str, str]) -> _Reply:
        body = self.rfile.read(int(headers.get("content-length") or 0))
        if not path.startswith(("/api/", "/response/")):
            return _Reply.of_text("not found", 404)
        try:
            args = {**_decode_query(query), **_decode_body(headers.get("content-type", ""), body)}
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _Reply.of_json({"ok": False, "error": "invalid_json"})
        if path.startswith("/response/"):
            return self.server.fake._handle_response_url(path, _unwrap_payload(args), headers)
        return self.server.fake._handle_api(path.removeprefix("/api/"), args, headers)

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)


def _unwrap_payload(args: dict[str, Any]) -> dict[str, Any]:
    # Incoming-webhook style: a form body with the JSON in one "payload" field.
    payload = args.get("payload")
    if len(args) == 1 and isinstance(payload, str):
        try:
            parsed = json.loads(payload)
        except json.JSONDecodeError:
            return args
        if isinstance(parsed, dict):
            return _decode_json_fields(parsed)
    return args
