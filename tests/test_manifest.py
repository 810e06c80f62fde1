"""`manifest.yml` against Slack's schema and against what the code really registers and calls.

How the listeners are read. Bolt keeps a listener's command name, callback id or event type only
inside the closure of its matcher function, so reading ``app._listeners`` would mean poking at
private attributes and closure cells that change between Bolt versions. Instead both directions
go through Bolt's public surface:

* code -> manifest: while the real app is built, ``App.command``, ``App.shortcut``, ``App.event``
  and the other registration decorators are wrapped to record what they were given;
* manifest -> code: every declared command, shortcut and event is sent to that app as a signed
  request through ``app.dispatch``, as Slack would send it; Bolt answers 404 to a request no
  listener matched.

Scopes: every Web API method called under ``bot/`` (but for the parts that only ever talk to the
fake Slack) is found by parsing the source (an attribute call whose name is a ``WebClient``
method, plus ``api_call("x.y")`` and ``say``) and looked up in :data:`METHOD_SCOPES`, which
documents the bot scope each one needs. A method missing from that table fails the test until
someone adds it with its scope.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import SecretStr
from slack_bolt import App
from slack_sdk import WebClient

import bot
from bot.app import build_app
from bot.config import load_settings
from bot.fakeslack import FakeSlack
from bot.services import Services
from bot.support.sandbox import DEFAULT_API_KEY, Sandbox
from tests.conftest import shared_file
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET, SlackDriver

REPO = Path(__file__).resolve().parents[1]
MANIFEST_PATH = REPO / "manifest.yml"
SCHEMA_PARTS = ("reference", "slack-manifest.schema.1.0.0.json")
PACKAGE = Path(bot.__file__).resolve().parent

METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    # Posting ticket cards, list replies, status updates and notices.
    "chat.postMessage": ("chat:write",),
    # The watcher edits a ticket's card when its status changes.
    "chat.update": ("chat:write",),
    # Previews of pasted ticket links.
    "chat.unfurl": ("links:write",),
    # A DM to a user, when a channel refuses a card or a requester is told of a change.
    "conversations.open": ("im:write",),
    # /doit subscribe checks the channel, public or private (DMs are refused before the call).
    "conversations.info": ("channels:read", "groups:read"),
    # The watcher looks for its own earlier post in channels, private channels and DMs before
    # posting again, so an uncertain retry never doubles a message.
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history"),
    # The asker's profile email; users:read.email is what makes `profile.email` appear at all.
    "users.info": ("users:read", "users:read.email"),
    "users.lookupByEmail": ("users:read.email",),
    # Modals and the Home tab need no scope.
    "views.open": (),
    "views.update": (),
    "views.push": (),
    "views.publish": (),
    # A message's permalink for a ticket filed from it.
    "chat.getPermalink": (),
    # doctor and `run` check the token; any token may call it.
    "auth.test": (),
    # doctor checks the app-level token; its scope connections:write is no bot scope.
    "apps.connections.open": (),
}
"""Web API method -> the bot scopes it needs, for the conversations the bot uses it on."""

EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_home_opened": (),
    "link_shared": ("links:read",),
}
"""Bot event -> the scope Slack requires before it delivers the event."""

COMMAND_SCOPE = "commands"
"""Slash commands and shortcuts (message and global) both need it."""

OFFLINE_ONLY = frozenset({"fakeslack.py", "tryout"})
"""Parts of the package that only ever call the loopback fake Slack: they need no scope."""

REGISTRATION_METHODS = (
    "command",
    "shortcut",
    "global_shortcut",
    "message_shortcut",
    "event",
    "message",
    "action",
    "block_action",
    "view",
    "view_submission",
    "view_closed",
    "options",
    "block_suggestion",
)


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def services(slack: FakeSlack, tmp_path: Path) -> Iterator[Services]:
    with Sandbox(tickets=20, seed=5) as sandbox:
        settings = load_settings(
            None,
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_api_base_url=slack.api_url,
            doit_api_key=SecretStr(DEFAULT_API_KEY),
            doit_api_base_url=sandbox.base_url,
            database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        )
        built = Services.from_settings(settings)
        yield built
        built.close()


@pytest.fixture
def registrations(monkeypatch: pytest.MonkeyPatch, services: Services) -> list[tuple[str, Any]]:
    """(decorator name, its first argument) for every listener the real app registers."""
    recorded: list[tuple[str, Any]] = []
    for name in REGISTRATION_METHODS:
        monkeypatch.setattr(App, name, _recording(name, getattr(App, name), recorded))
    build_app(services.settings, services)
    return recorded


@pytest.fixture
def driver(services: Services, slack: FakeSlack) -> Iterator[SlackDriver]:
    yield SlackDriver(app=build_app(services.settings, services), slack=slack)
    _wait_until_quiet(slack)


def _recording(name: str, original: Callable[..., Any], recorded: list[tuple[str, Any]]) -> Callable:
    def register(self: App, *args: Any, **kwargs: Any) -> Any:
        first = args[0] if args else kwargs.get("keyword", kwargs.get("constraints"))
        recorded.append((name, first))
        return original(self, *args, **kwargs)

    return register


def _wait_until_quiet(slack: FakeSlack, *, quiet: float = 0.2, timeout: float = 5.0) -> None:
    """Let the listeners Bolt finishes on its thread pool make their calls before the fakes stop."""
    deadline = time.monotonic() + timeout
    count, since = len(slack.calls), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.02)
        if len(slack.calls) != count:
            count, since = len(slack.calls), time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


# --- what the manifest declares ---------------------------------------------------------------------


def declared_commands(manifest: dict[str, Any]) -> set[str]:
    return {entry["command"] for entry in manifest["features"].get("slash_commands", [])}


def declared_shortcuts(manifest: dict[str, Any]) -> set[tuple[str, str]]:
    """(type, callback_id) with type "message" or "global"."""
    return {(entry["type"], entry["callback_id"]) for entry in manifest["features"].get("shortcuts", [])}


def declared_events(manifest: dict[str, Any]) -> set[str]:
    return set(manifest["settings"].get("event_subscriptions", {}).get("bot_events", []))


def declared_scopes(manifest: dict[str, Any]) -> list[str]:
    return list(manifest["oauth_config"]["scopes"]["bot"])


# --- what the code registers ------------------------------------------------------------------------


def registered_commands(registrations: list[tuple[str, Any]]) -> set[str]:
    return {_exact(value) for name, value in registrations if name == "command"}


def registered_shortcuts(registrations: list[tuple[str, Any]]) -> set[tuple[str | None, str]]:
    """(type or None when the listener takes both kinds, callback_id)."""
    found: set[tuple[str | None, str]] = set()
    for name, value in registrations:
        if name == "global_shortcut":
            found.add(("global", _exact(value)))
        elif name == "message_shortcut":
            found.add(("message", _exact(value)))
        elif name == "shortcut" and isinstance(value, dict):
            kind = {"shortcut": "global", "message_action": "message"}[value["type"]]
            found.add((kind, _exact(value["callback_id"])))
        elif name == "shortcut":
            found.add((None, _exact(value)))
    return found


def registered_events(registrations: list[tuple[str, Any]]) -> set[str]:
    found = {"message" for name, _ in registrations if name == "message"}
    for name, value in registrations:
        if name == "event":
            found.add(_exact(value["type"] if isinstance(value, dict) else value))
    return found


def _exact(value: Any) -> str:
    # A pattern could match names nobody declared; the manifest test needs names it can compare.
    assert isinstance(value, str), f"register listeners with exact strings, not {value!r}"
    return value


# --- Web API methods the code calls -----------------------------------------------------------------


@functools.cache
def web_client_methods() -> dict[str, str]:
    """``WebClient`` attribute name -> the Web API method it calls, read from the SDK's source."""
    methods: dict[str, str] = {}
    for name, function in inspect.getmembers(WebClient, inspect.isfunction):
        if name.startswith("_"):
            continue
        match = re.search(r'api_call\(\s*"([a-zA-Z.]+)"', inspect.getsource(function))
        if match:
            methods[name] = match.group(1)
    return methods


@functools.cache
def called_methods() -> dict[str, frozenset[str]]:
    """Web API method -> the ``path:line`` places under ``bot/`` that call it (real Slack only)."""
    client_methods = web_client_methods()
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] in OFFLINE_ONLY:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            method = _called_method(node, client_methods)
            if method:
                found.setdefault(method, set()).add(f"{path.relative_to(REPO)}:{node.lineno}")
    return {method: frozenset(places) for method, places in found.items()}


def _called_method(node: ast.AST, client_methods: dict[str, str]) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Name) and node.func.id == "say":
        return "chat.postMessage"  # Bolt's say() posts in the request's channel
    if not isinstance(node.func, ast.Attribute):
        return None
    if node.func.attr == "api_call" and node.args and isinstance(node.args[0], ast.Constant):
        return str(node.args[0].value)
    return client_methods.get(node.func.attr)


def needed_scopes(registrations: list[tuple[str, Any]]) -> dict[str, str]:
    """Scope -> one reason the code needs it."""
    needed: dict[str, str] = {}
    for method, places in called_methods().items():
        for scope in METHOD_SCOPES.get(method, ()):
            needed.setdefault(scope, f"{method} at {min(places)}")
    for event in registered_events(registrations):
        for scope in EVENT_SCOPES.get(event, ()):
            needed.setdefault(scope, f"the {event} event")
    if registered_commands(registrations) or registered_shortcuts(registrations):
        needed.setdefault(COMMAND_SCOPE, "slash commands and shortcuts")
    return needed


# --- probes: requests as Slack sends them -----------------------------------------------------------


def probe_command(driver: SlackDriver, command: str) -> int:
    response, _ = driver.command("help", command=command)
    return response.status


def probe_shortcut(driver: SlackDriver, kind: str, callback_id: str) -> int:
    payload: dict[str, Any] = {
        "type": "shortcut" if kind == "global" else "message_action",
        "callback_id": callback_id,
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "user": {"id": "U0DANA", "username": "dana"},
        "action_ts": "1733300000.000100",
    }
    if kind == "message":
        driver.slack.add_message("C0SUPPORT", "1733299999.000100", text="VPN is down", user="U0LEE")
        payload.update(
            channel={"id": "C0SUPPORT", "name": "support"},
            message={"type": "message", "user": "U0LEE", "text": "VPN is down", "ts": "1733299999.000100"},
            message_ts="1733299999.000100",
            response_url=driver.slack.response_url(),
        )
    return driver.interact(payload).status


SAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    "app_home_opened": {"type": "app_home_opened", "user": "U0DANA", "channel": "DU0DANA", "tab": "home"},
    "link_shared": {
        "type": "link_shared",
        "channel": "C0SUPPORT",
        "user": "U0DANA",
        "message_ts": "1733299999.000200",
        "unfurl_id": "unfurl-1",
        "source": "conversations_history",
        "links": [{"domain": "app.doit.com", "url": "https://app.doit.com/customers/c/support/tickets/1"}],
    },
}


def probe_event(driver: SlackDriver, event_type: str) -> int:
    assert event_type in SAMPLE_EVENTS, f"add a sample {event_type} event to SAMPLE_EVENTS"
    return driver.event(dict(SAMPLE_EVENTS[event_type])).status


# --- the tests --------------------------------------------------------------------------------------


def test_manifest_when_validated_against_slack_schema_has_no_errors(manifest: dict[str, Any]) -> None:
    schema = json.loads(shared_file(*SCHEMA_PARTS).read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)

    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]

    assert errors == []


def test_manifest_background_color_when_read_is_a_hex_color(manifest: dict[str, Any]) -> None:
    # The schema states this pattern under "regex", which JSON Schema validators ignore.
    assert re.fullmatch(
        r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", manifest["display_information"]["background_color"]
    )


def test_manifest_when_socket_mode_is_on_still_has_http_urls_for_http_mode(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    urls = [
        *(entry.get("url") for entry in manifest["features"]["slash_commands"]),
        settings["event_subscriptions"].get("request_url"),
        settings["interactivity"].get("request_url"),
        settings["interactivity"].get("message_menu_options_url"),
    ]

    assert settings["socket_mode_enabled"] is True
    assert urls == ["https://YOUR-HOST/slack/events"] * 4


def test_registered_commands_when_app_is_built_are_all_declared(
    manifest: dict[str, Any], registrations: list[tuple[str, Any]]
) -> None:
    assert registered_commands(registrations) - declared_commands(manifest) == set()


def test_registered_shortcuts_when_app_is_built_are_all_declared(
    manifest: dict[str, Any], registrations: list[tuple[str, Any]]
) -> None:
    declared = declared_shortcuts(manifest)
    declared_ids = {callback_id for _, callback_id in declared}

    undeclared = {
        (kind, callback_id)
        for kind, callback_id in registered_shortcuts(registrations)
        if (kind, callback_id) not in declared and not (kind is None and callback_id in declared_ids)
    }

    assert undeclared == set()


def test_registered_events_when_app_is_built_are_all_declared(
    manifest: dict[str, Any], registrations: list[tuple[str, Any]]
) -> None:
    declared = declared_events(manifest)
    # A "message" listener hears whichever message.* events the manifest subscribes to.
    subscribed = declared | ({"message"} if any(e.startswith("message.") for e in declared) else set())

    assert registered_events(registrations) - subscribed == set()


def test_interactive_listeners_when_registered_have_interactivity_enabled(
    manifest: dict[str, Any], registrations: list[tuple[str, Any]]
) -> None:
    interactive = {"shortcut", "global_shortcut", "message_shortcut", "action", "block_action", "view"}
    interactive |= {"view_submission", "view_closed", "options", "block_suggestion"}
    uses_options = any(name in ("options", "block_suggestion") for name, _ in registrations)
    interactivity = manifest["settings"]["interactivity"]

    assert any(name in interactive for name, _ in registrations)
    assert interactivity["is_enabled"] is True
    assert uses_options
    assert interactivity["message_menu_options_url"] == "https://YOUR-HOST/slack/events"


def test_declared_commands_when_sent_are_handled(manifest: dict[str, Any], driver: SlackDriver) -> None:
    statuses = {command: probe_command(driver, command) for command in declared_commands(manifest)}

    assert statuses == {"/doit": 200}


def test_declared_shortcuts_when_sent_are_handled(manifest: dict[str, Any], driver: SlackDriver) -> None:
    statuses = {
        (kind, callback_id): probe_shortcut(driver, kind, callback_id)
        for kind, callback_id in declared_shortcuts(manifest)
    }

    assert statuses == {("message", "doit_file_from_message"): 200, ("global", "doit_new_ticket"): 200}


def test_declared_events_when_sent_are_handled(manifest: dict[str, Any], driver: SlackDriver) -> None:
    statuses = {event: probe_event(driver, event) for event in declared_events(manifest)}

    assert statuses == {"app_home_opened": 200, "link_shared": 200}


def test_home_tab_and_unfurl_domains_when_their_events_are_declared_are_enabled(
    manifest: dict[str, Any],
) -> None:
    features = manifest["features"]

    assert ("app_home_opened" in declared_events(manifest)) == features["app_home"]["home_tab_enabled"]
    assert ("link_shared" in declared_events(manifest)) == bool(features.get("unfurl_domains"))


def test_web_api_methods_when_called_by_the_code_are_all_in_the_scope_table() -> None:
    unknown = {method: sorted(places) for method, places in called_methods().items()}
    unknown = {method: places for method, places in unknown.items() if method not in METHOD_SCOPES}

    assert unknown == {}, "add these methods and the bot scopes they need to METHOD_SCOPES"


def test_declared_scopes_when_compared_with_the_code_miss_none(
    manifest: dict[str, Any], registrations: list[tuple[str, Any]]
) -> None:
    needed = needed_scopes(registrations)

    missing = {scope: why for scope, why in needed.items() if scope not in declared_scopes(manifest)}

    assert missing == {}


def test_declared_scopes_when_compared_with_the_code_are_all_used(
    manifest: dict[str, Any], registrations: list[tuple[str, Any]]
) -> None:
    needed = needed_scopes(registrations)

    unused = [scope for scope in declared_scopes(manifest) if scope not in needed]

    assert unused == []


def test_declared_scopes_when_listed_have_no_duplicates(manifest: dict[str, Any]) -> None:
    scopes = declared_scopes(manifest)

    assert sorted(scopes) == sorted(set(scopes))


def test_called_methods_when_scanning_the_package_find_a_known_call() -> None:
    # Guards the scanner itself: the card poster's chat.postMessage must be seen.
    places = called_methods()["chat.postMessage"]

    assert any(place.startswith("bot/slack/cards.py:") for place in places)
