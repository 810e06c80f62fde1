"""`doit-slack doctor` against the fake Slack, the DoiT sandbox and real databases on loopback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings, load_settings
from bot.doctor import MANIFEST_PATH, manifest_scopes, run_doctor
from bot.fakeslack import DEFAULT_SCOPES, FakeSlack
from bot.store import SCHEMA_VERSION, Store
from bot.support.sandbox import Sandbox

BOT_TOKEN = "xoxb-doctor-bot-token-0123456789"
APP_TOKEN = "xapp-doctor-app-token-0123456789"
SIGNING_SECRET = "doctor-signing-secret-0123456789"
DOIT_KEY = "doctor-doit-key-0123456789"
DB_PASSWORD = "doctor-db-password-0123456789"
SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, DOIT_KEY, DB_PASSWORD)

SCOPE_FIX = "  fix: add them in OAuth & Permissions (or re-paste manifest.yml) and reinstall the app"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        tickets=3, api_key=DOIT_KEY, owner_email="dana@example.com", domain="example.com"
    ) as running:
        yield running


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as fake:
        yield fake


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "bot.sqlite3"
    Store.connect(f"sqlite:///{path}").close()
    return path


def make_settings(slack: FakeSlack, sandbox: Sandbox, database: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_base_url": slack.api_url,
        "doit_api_key": DOIT_KEY,
        "doit_api_base_url": sandbox.base_url,
        "database_url": f"sqlite:///{database}",
        **overrides,
    }
    return load_settings(None, **values)


def passing_lines(database: Path) -> list[str]:
    scopes = len(manifest_scopes(MANIFEST_PATH) or [])
    return [
        "doit-slack doctor: checking the settings, Slack, DoiT and the database",
        "ok: settings: HTTP mode on port 3000, because SLACK_APP_TOKEN is not set",
        "ok: settings: SLACK_BOT_TOKEN is set",
        "ok: settings: DOIT_API_KEY is set",
        "ok: slack: the bot token works: @doit in Demo Workspace (T0DEMO)",
        f"ok: slack: the bot token has all {scopes} scopes manifest.yml asks for",
        "ok: doit: the API key works; it belongs to dana@example.com (example.com)",
        f"ok: database: sqlite:///{database} answers, schema version {SCHEMA_VERSION}",
        "Everything the bot needs is in place.",
    ]


def test_run_doctor_when_everything_works_exits_0(
    slack: FakeSlack, sandbox: Sandbox, sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_doctor(make_settings(slack, sandbox, sqlite_file))

    assert code == 0
    assert capsys.readouterr().out.splitlines() == passing_lines(sqlite_file)


def test_run_doctor_when_slack_refuses_the_bot_token_exits_1_with_the_fix(
    sandbox: Sandbox, sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeSlack(bot_token="xoxb-the-token-slack-knows-0000") as other:
        code = run_doctor(make_settings(other, sandbox, sqlite_file))

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[4:6] == [
        "problem: slack: Slack refused SLACK_BOT_TOKEN (invalid_auth)",
        "  fix: copy the Bot User OAuth Token (xoxb-...) again from OAuth & Permissions into "
        "SLACK_BOT_TOKEN; if the app was uninstalled, install it again first",
    ]
    assert lines[-1] == "1 problem(s) found: fix them and run `doit-slack doctor` again."


def test_run_doctor_when_a_manifest_scope_was_not_granted_lists_it_with_the_fix(
    sandbox: Sandbox, sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    granted = tuple(scope for scope in DEFAULT_SCOPES if scope not in ("links:write", "im:write"))
    with FakeSlack(bot_token=BOT_TOKEN, scopes=granted) as narrow:
        code = run_doctor(make_settings(narrow, sandbox, sqlite_file))

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[5:7] == [
        "problem: slack: the bot token lacks scopes manifest.yml asks for: im:write, links:write",
        SCOPE_FIX,
    ]


def test_run_doctor_when_the_manifest_is_absent_skips_the_scope_check_with_a_note(
    slack: FakeSlack, sandbox: Sandbox, sqlite_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "manifest.yml"

    code = run_doctor(make_settings(slack, sandbox, sqlite_file), manifest_path=missing)

    assert code == 0
    assert capsys.readouterr().out.splitlines()[5] == (
        f"note: slack: skipped the scope check: no readable manifest.yml at {missing}"
    )


def test_run_doctor_when_doit_refuses_the_key_exits_1_with_the_fix(
    slack: FakeSlack, sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox(tickets=0, api_key="a-key-doit-knows-0000") as other:
        code = run_doctor(make_settings(slack, other, sqlite_file))

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[6].startswith("problem: doit: the DoiT API key check failed: Invalid API key")
    assert (
        lines[7]
        == "  fix: create a new API key in the DoiT console (Profile > API) and set DOIT_API_KEY to it"
    )


def test_run_doctor_when_the_database_does_not_answer_exits_1_with_the_fix(
    slack: FakeSlack, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://doctor:{DB_PASSWORD}@127.0.0.1:1/test"
    settings = make_settings(slack, sandbox, Path("unused"), database_url=url)

    code = run_doctor(settings)

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[7:9] == [
        "problem: database: postgresql+psycopg://doctor:***@127.0.0.1:1/test does not answer "
        "(OperationalError)",
        "  fix: check DATABASE_URL, and that the database server runs and lets this user in",
    ]


def test_run_doctor_when_the_sqlite_file_is_new_reports_ok_and_creates_nothing(
    slack: FakeSlack, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "new.sqlite3"

    code = run_doctor(make_settings(slack, sandbox, database))

    assert code == 0
    assert capsys.readouterr().out.splitlines()[7] == (
        f"ok: database: sqlite:///{database} does not exist yet; the bot creates it when it starts"
    )
    assert list(tmp_path.iterdir()) == []


def test_run_doctor_when_http_mode_lacks_the_signing_secret_exits_1(
    slack: FakeSlack, sandbox: Sandbox, sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_doctor(make_settings(slack, sandbox, sqlite_file, slack_signing_secret=None))

    assert code == 1
    assert capsys.readouterr().out.splitlines()[1:3] == [
        "problem: settings: HTTP mode, because SLACK_APP_TOKEN is not set, but SLACK_SIGNING_SECRET is "
        "not set either",
        "  fix: set SLACK_SIGNING_SECRET to the Signing Secret from the app's Basic Information page, or "
        "set SLACK_APP_TOKEN to an app-level token (xapp-...) to use Socket Mode",
    ]


def test_run_doctor_when_tokens_are_unset_names_them_and_skips_their_checks(
    slack: FakeSlack, sandbox: Sandbox, sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(slack, sandbox, sqlite_file, slack_bot_token=None, doit_api_key=None)

    code = run_doctor(settings)

    assert code == 1
    assert capsys.readouterr().out.splitlines()[2:8] == [
        "problem: settings: SLACK_BOT_TOKEN is not set",
        "  fix: set it to the Bot User OAuth Token (xoxb-...) from OAuth & Permissions (in the environment "
        "or .env).",
        "problem: settings: DOIT_API_KEY is not set",
        "  fix: create an API key in the DoiT console (Profile > API) and set it "
        "(in the environment or .env).",
        "note: slack: skipped: SLACK_BOT_TOKEN is not set",
        "note: doit: skipped: DOIT_API_KEY is not set",
    ]


def test_run_doctor_when_socket_mode_app_token_works_exits_0(
    slack: FakeSlack, sandbox: Sandbox, sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(
        slack, sandbox, sqlite_file, slack_app_token=APP_TOKEN, slack_signing_secret=None
    )

    code = run_doctor(settings)

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[1] == "ok: settings: Socket Mode, because SLACK_APP_TOKEN is set (no public URL needed)"
    assert lines[6] == "ok: slack: SLACK_APP_TOKEN may open Socket Mode connections"


def test_run_doctor_when_slack_refuses_the_app_token_exits_1(
    slack: FakeSlack, sandbox: Sandbox, sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(slack, sandbox, sqlite_file, slack_app_token="xapp-not-the-right-one-000")

    code = run_doctor(settings)

    assert code == 1
    assert capsys.readouterr().out.splitlines()[6] == (
        "problem: slack: Slack refused SLACK_APP_TOKEN for Socket Mode (invalid_auth)"
    )


def test_run_doctor_when_checks_pass_or_fail_prints_and_logs_no_secret(
    slack: FakeSlack,
    sandbox: Sandbox,
    sqlite_file: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    run_doctor(make_settings(slack, sandbox, sqlite_file, slack_app_token=APP_TOKEN))
    with (
        FakeSlack(bot_token="xoxb-other-0000", app_token="xapp-other-0000") as other,
        Sandbox(tickets=0, api_key="other-key-0000") as other_sandbox,
    ):
        failing = make_settings(
            other,
            other_sandbox,
            sqlite_file,
            slack_app_token=APP_TOKEN,
            database_url=f"postgresql://doctor:{DB_PASSWORD}@127.0.0.1:1/test",
        )
        code = run_doctor(failing)

    captured = capsys.readouterr()
    printed = captured.out + captured.err + caplog.text
    assert code == 1
    assert [secret for secret in SECRETS if secret in printed] == []
