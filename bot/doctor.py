"""`doit-slack doctor`: check the settings, the Slack tokens, the DoiT key and the database.

Each check prints one line, ``ok: ...``, ``note: ...`` or ``problem: ...`` followed by the fix.
The exit code is 0 only when no check found a problem. Nothing secret is printed: tokens and keys
are only ever sent to the service they belong to, and a database URL is shown without its password.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

import bot
from bot.config import Settings, SettingsError
from bot.slack.web import make_web_client
from bot.store import SCHEMA_VERSION, Store, StoreError
from bot.support.client import RetryPolicy, SupportClient
from bot.support.errors import (
    BadApiKey,
    PermissionDenied,
    RateLimited,
    SupportError,
    SupportUnavailable,
    SupportUnreachable,
)

logger = logging.getLogger(__name__)

MANIFEST_PATH = Path(bot.__file__).resolve().parents[1] / "manifest.yml"
"""Where ``pip install -e .`` leaves the manifest: the repository root, next to the package."""

DOIT_RETRY = RetryPolicy(attempts=2, base_delay=0.5, max_delay=2.0, budget=10.0)
"""One retry at most: a person is waiting at the terminal, and a second answer settles it."""

_REFUSED_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
_SCOPE_FIX = "add them in OAuth & Permissions (or re-paste manifest.yml) and reinstall the app"


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: ``status`` is "ok", "note" or "problem"."""

    status: str
    check: str
    text: str
    fix: str | None = None

    @property
    def is_problem(self) -> bool:
        return self.status == "problem"

    def render(self) -> str:
        line = f"{self.status}: {self.check}: {self.text}"
        return f"{line}\n  fix: {self.fix}" if self.fix else line


def _ok(check: str, text: str) -> Finding:
    return Finding("ok", check, text)


def _note(check: str, text: str) -> Finding:
    return Finding("note", check, text)


def _problem(check: str, text: str, fix: str) -> Finding:
    return Finding("problem", check, text, fix)


def run_doctor(settings: Settings, *, manifest_path: Path = MANIFEST_PATH, out: TextIO | None = None) -> int:
    """Run every check, print what it found; 0 when nothing is wrong, else 1."""
    out = out or sys.stdout
    print("doit-slack doctor: checking the settings, Slack, DoiT and the database", file=out)
    problems = 0
    for finding in _all_checks(settings, manifest_path):
        print(finding.render(), file=out, flush=True)
        problems += finding.is_problem
    if problems:
        print(f"{problems} problem(s) found: fix them and run `doit-slack doctor` again.", file=out)
        return 1
    print("Everything the bot needs is in place.", file=out)
    return 0


def _all_checks(settings: Settings, manifest_path: Path) -> Iterator[Finding]:
    yield from check_settings(settings)
    yield from check_slack(settings, manifest_path)
    yield from check_doit(settings)
    yield from check_database(settings)


# --- settings -----------------------------------------------------------------------------------------


def check_settings(settings: Settings) -> Iterator[Finding]:
    """The mode the bot will run in, and the settings that mode needs."""
    if settings.socket_mode:
        yield _ok("settings", "Socket Mode, because SLACK_APP_TOKEN is set (no public URL needed)")
    elif settings.slack_signing_secret is None:
        yield _problem(
            "settings",
            "HTTP mode, because SLACK_APP_TOKEN is not set, but SLACK_SIGNING_SECRET is not set either",
            "set SLACK_SIGNING_SECRET to the Signing Secret from the app's Basic Information page, "
            "or set SLACK_APP_TOKEN to an app-level token (xapp-...) to use Socket Mode",
        )
    else:
        yield _ok("settings", f"HTTP mode on port {settings.port}, because SLACK_APP_TOKEN is not set")
    for name in ("SLACK_BOT_TOKEN", "DOIT_API_KEY"):
        try:
            settings.require(name)
        except SettingsError as exc:
            problem, _, fix = str(exc).partition(": ")
            yield _problem("settings", problem, fix)
        else:
            yield _ok("settings", f"{name} is set")


# --- Slack --------------------------------------------------------------------------------------------


def check_slack(settings: Settings, manifest_path: Path = MANIFEST_PATH) -> Iterator[Finding]:
    """``auth.test`` with the bot token, its scopes against the manifest, and the app token."""
    if settings.slack_bot_token is None:
        yield _note("slack", "skipped: SLACK_BOT_TOKEN is not set")
        return
    client = make_web_client(settings, rate_limit_retries=1)
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        yield _slack_refusal("SLACK_BOT_TOKEN", str(exc.response.get("error")))
        return
    except OSError as exc:
        yield _slack_unreachable(exc)
        return
    who = f"@{response.get('user')} in {response.get('team')} ({response.get('team_id')})"
    yield _ok("slack", f"the bot token works: {who}")
    yield _scope_finding(_granted_scopes(response.headers), manifest_scopes(manifest_path), manifest_path)
    if settings.slack_app_token is not None:
        yield _app_token_finding(settings, client.base_url)


def _slack_refusal(name: str, error: str) -> Finding:
    if error in _REFUSED_TOKEN_ERRORS:
        fix = (
            f"copy the Bot User OAuth Token (xoxb-...) again from OAuth & Permissions into {name}; "
            "if the app was uninstalled, install it again first"
        )
    else:
        fix = f"look up the error {error} in Slack's auth.test documentation"
    return _problem("slack", f"Slack refused {name} ({error})", fix)


def _slack_unreachable(exc: OSError) -> Finding:
    return _problem(
        "slack",
        f"Slack could not be reached ({type(exc).__name__})",
        "check the network and any proxy, or SLACK_API_BASE_URL if it is set",
    )


def _granted_scopes(headers: Mapping[str, Any]) -> set[str] | None:
    """The scopes Slack says the token has, from the ``x-oauth-scopes`` header; None when absent."""
    value = next((v for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    if isinstance(value, list):  # some transports keep repeated headers as a list
        value = ",".join(value)
    if value is None:
        return None
    return {scope.strip() for scope in str(value).split(",") if scope.strip()}


def manifest_scopes(path: Path = MANIFEST_PATH) -> list[str] | None:
    """The bot scopes ``manifest.yml`` asks for; None when the file is absent or unreadable."""
    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
        scopes = manifest["oauth_config"]["scopes"]["bot"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        logger.debug("Could not read the bot scopes from %s: %s", path, type(exc).__name__)
        return None
    return [str(scope) for scope in scopes]


def _scope_finding(granted: set[str] | None, wanted: list[str] | None, manifest_path: Path) -> Finding:
    if wanted is None:
        return _note("slack", f"skipped the scope check: no readable manifest.yml at {manifest_path}")
    if granted is None:
        return _note("slack", "skipped the scope check: Slack did not say which scopes the token has")
    missing = [scope for scope in wanted if scope not in granted]
    if missing:
        return _problem(
            "slack", f"the bot token lacks scopes manifest.yml asks for: {', '.join(missing)}", _SCOPE_FIX
        )
    return _ok("slack", f"the bot token has all {len(wanted)} scopes manifest.yml asks for")


def _app_token_finding(settings: Settings, base_url: str) -> Finding:
    assert settings.slack_app_token is not None
    client = WebClient(base_url=base_url, timeout=10)
    try:
        # Only asks for a WebSocket URL; nothing connects to it, and it expires unused.
        client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        return _problem(
            "slack",
            f"Slack refused SLACK_APP_TOKEN for Socket Mode ({error})",
            "create an app-level token with the connections:write scope under Basic Information > "
            "App-Level Tokens, and make sure Socket Mode is enabled for the app",
        )
    except OSError as exc:
        return _slack_unreachable(exc)
    return _ok("slack", "SLACK_APP_TOKEN may open Socket Mode connections")


# --- DoiT ---------------------------------------------------------------------------------------------


def check_doit(settings: Settings) -> Iterator[Finding]:
    """``GET /auth/v1/validate`` with the DoiT key: whose key it is, or why DoiT refused it."""
    if settings.doit_api_key is None:
        yield _note("doit", "skipped: DOIT_API_KEY is not set")
        return
    with SupportClient(
        settings.doit_api_key,
        base_url=settings.doit_api_base_url,
        tenant_id=settings.doit_tenant_id,
        retry=DOIT_RETRY,
    ) as client:
        try:
            owner = client.validate_key()
        except SupportError as exc:
            yield _doit_problem(exc, settings)
            return
    whose = " ".join(part for part in (owner.email, f"({owner.domain})" if owner.domain else None) if part)
    yield _ok("doit", f"the API key works; it belongs to {whose or 'an owner DoiT did not name'}")


def _doit_problem(exc: SupportError, settings: Settings) -> Finding:
    # SupportError messages never carry the key (see bot.support.errors).
    if isinstance(exc, BadApiKey):
        fix = "create a new API key in the DoiT console (Profile > API) and set DOIT_API_KEY to it"
    elif isinstance(exc, PermissionDenied):
        fix = "check DOIT_TENANT_ID, or ask a DoiT admin for a key that may use the Support API"
    elif isinstance(exc, SupportUnreachable):
        fix = f"check the network and any proxy, and DOIT_API_BASE_URL (now {settings.doit_api_base_url})"
    elif isinstance(exc, SupportUnavailable | RateLimited):
        fix = "DoiT is busy or down for a moment: run `doit-slack doctor` again in a few minutes"
    else:
        fix = "check DOIT_API_BASE_URL and DOIT_TENANT_ID"
    return _problem("doit", f"the DoiT API key check failed: {exc}", fix)


# --- database -----------------------------------------------------------------------------------------


def check_database(settings: Settings) -> Iterator[Finding]:
    """Connect, ping and read the schema version; never migrates or creates (``run`` does that)."""
    shown = _safe_database_url(settings.database_url)
    sqlite_file = _sqlite_file(settings.database_url)
    if sqlite_file is not None and not sqlite_file.exists():
        yield _new_sqlite_finding(shown, sqlite_file)
        return
    store: Store | None = None
    try:
        store = Store.connect(settings.database_url, migrate=False)
        store.ping()
        version = store.version()
    except (StoreError, SQLAlchemyError, ImportError) as exc:
        yield _problem(
            "database",
            f"{shown} does not answer ({_root_cause(exc)})",
            "check DATABASE_URL, and that the database server runs and lets this user in",
        )
        return
    finally:
        if store is not None:
            store.close()
    yield _schema_finding(shown, version)


def _schema_finding(shown: str, version: int) -> Finding:
    if version > SCHEMA_VERSION:
        return _problem(
            "database",
            f"{shown} has schema version {version}, newer than this bot's {SCHEMA_VERSION}",
            "upgrade doit-slack to the release that last ran against this database",
        )
    if version < SCHEMA_VERSION:
        return _ok(
            "database",
            f"{shown} answers; its schema (version {version}) is brought to version {SCHEMA_VERSION} "
            "when the bot starts",
        )
    return _ok("database", f"{shown} answers, schema version {version}")


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _new_sqlite_finding(shown: str, path: Path) -> Finding:
    # Connecting would create the file; a check should leave no trace, so look at the directory.
    directory = path.parent
    if not directory.is_dir():
        return _problem(
            "database",
            f"{shown}: the directory {directory} does not exist",
            "create the directory, or point DATABASE_URL at a file in an existing one",
        )
    if not os.access(directory, os.W_OK):
        return _problem(
            "database",
            f"{shown}: the directory {directory} is not writable",
            "let the bot's user write there, or point DATABASE_URL elsewhere",
        )
    return _ok("database", f"{shown} does not exist yet; the bot creates it when it starts")


def _safe_database_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "DATABASE_URL"


def _root_cause(exc: BaseException) -> str:
    # StoreError names only the SQLAlchemy class; the driver's own class says more (refused, auth).
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return type(exc).__name__
