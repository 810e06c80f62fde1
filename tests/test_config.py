"""Settings: every variable, defaults, blank values, Heroku's database URL, errors that name the setting."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, RequesterMode, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]
NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_BASE_URL",
    "DOIT_API_KEY",
    "DOIT_API_BASE_URL",
    "DOIT_TENANT_ID",
    "DOIT_REQUESTER",
    "DATABASE_URL",
    "PORT",
    "DOIT_NOTIFY_CHANNEL",
    "LOG_LEVEL",
    "DOIT_WATCH_INTERVAL",
    "DOIT_CREATE_LIMIT",
    "DOIT_CREATE_WINDOW",
    "DOIT_NOTIFY_REQUESTER",
    "DOIT_ADMINS",
)
BOT_TOKEN = "xoxb-1111-2222-s3cr3tb0tt0k3n"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
APP_TOKEN = "xapp-1-A111-2222-s3cr3tapp"
API_KEY = "dk-live-7c2f9a4d1e6b3058"
DB_PASSWORD = "pg-pa55w0rd-x9"

SetEnv = Callable[..., None]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> SetEnv:
    """A clean environment; call the result with NAME=value pairs to set some."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def load(**values: str) -> Settings:
    return load_settings(env_file=None, **values)


def load_error(env: SetEnv, **values: str) -> str:
    env(**values)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    error = caught.value
    assert error.__cause__ is None and error.__suppress_context__
    return str(error)


def test_load_settings_when_environment_empty_then_defaults(env: SetEnv) -> None:
    settings = load()

    assert settings.slack_bot_token is None
    assert settings.slack_signing_secret is None
    assert settings.slack_app_token is None
    assert settings.slack_api_base_url is None
    assert settings.doit_api_key is None
    assert settings.doit_api_base_url == "https://api.doit.com"
    assert settings.doit_tenant_id is None
    assert settings.doit_requester is RequesterMode.SLACK_USER
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///doit-slack.sqlite3"
    assert settings.port == 3000
    assert settings.doit_notify_channel is None
    assert settings.log_level == "INFO"
    assert settings.doit_watch_interval == 60.0
    assert settings.doit_create_limit == 5
    assert settings.doit_create_window == 600.0
    assert settings.doit_notify_requester is True
    assert settings.admin_user_ids == frozenset()
    assert settings.socket_mode is False


def test_load_settings_when_every_variable_set_then_each_read(env: SetEnv) -> None:
    env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_BASE_URL="http://127.0.0.1:8999/api/",
        DOIT_API_KEY=API_KEY,
        DOIT_API_BASE_URL="http://127.0.0.1:8765",
        DOIT_TENANT_ID="2Gi0e4pPA3wsfJNOOohW",
        DOIT_REQUESTER="key-owner",
        DATABASE_URL="sqlite:////var/lib/doit/bot.sqlite3",
        PORT="8080",
        DOIT_NOTIFY_CHANNEL="C0123456789",
        LOG_LEVEL="debug",
        DOIT_WATCH_INTERVAL="30",
        DOIT_CREATE_LIMIT="2",
        DOIT_CREATE_WINDOW="120.5",
        DOIT_NOTIFY_REQUESTER="false",
        DOIT_ADMINS="U012ABC,U034DEF",
    )

    settings = load()

    assert settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value() == BOT_TOKEN
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == SIGNING_SECRET
    assert settings.slack_app_token is not None and settings.slack_app_token.get_secret_value() == APP_TOKEN
    assert settings.slack_api_base_url == "http://127.0.0.1:8999/api/"
    assert settings.doit_api_key is not None and settings.doit_api_key.get_secret_value() == API_KEY
    assert settings.doit_api_base_url == "http://127.0.0.1:8765"
    assert settings.doit_tenant_id == "2Gi0e4pPA3wsfJNOOohW"
    assert settings.doit_requester is RequesterMode.KEY_OWNER
    assert settings.database_url == "sqlite:////var/lib/doit/bot.sqlite3"
    assert settings.port == 8080
    assert settings.doit_notify_channel == "C0123456789"
    assert settings.log_level == "DEBUG"
    assert settings.doit_watch_interval == 30.0
    assert settings.doit_create_limit == 2
    assert settings.doit_create_window == 120.5
    assert settings.doit_notify_requester is False
    assert settings.admin_user_ids == frozenset({"U012ABC", "U034DEF"})
    assert settings.socket_mode is True


def test_load_settings_when_env_file_then_read_and_environment_wins(env: SetEnv, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"DOIT_API_KEY={API_KEY}\nPORT=4000\nDOIT_TENANT_ID=fromfile\n", encoding="utf-8")
    env(PORT="5000")

    settings = load_settings(env_file=dotenv)

    assert settings.doit_api_key is not None and settings.doit_api_key.get_secret_value() == API_KEY
    assert settings.port == 5000
    assert settings.doit_tenant_id == "fromfile"


def test_load_settings_when_env_example_copied_as_is_then_loads(env: SetEnv) -> None:
    settings = load_settings(env_file=ROOT / ".env.example")

    assert settings.slack_bot_token is None
    assert settings.doit_api_key is None
    assert settings.doit_tenant_id is None
    assert settings.doit_notify_channel is None
    assert settings.doit_api_base_url == "https://api.doit.com"
    assert settings.port == 3000
    assert settings.admin_user_ids == frozenset()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgres://bot:pw@db.example.com:5432/tickets",
            "postgresql+psycopg://bot:pw@db.example.com:5432/tickets",
        ),
        ("postgresql://bot@localhost/tickets", "postgresql+psycopg://bot@localhost/tickets"),
        ("postgresql+psycopg://bot@localhost/tickets", "postgresql+psycopg://bot@localhost/tickets"),
        ("sqlite:///doit.sqlite3", "sqlite:///doit.sqlite3"),
        ("  postgres://bot@h/db  ", "postgresql+psycopg://bot@h/db"),
        ("", DEFAULT_DATABASE_URL),
    ],
)
def test_database_url_when_heroku_or_sqlalchemy_form_then_psycopg_dialect(
    env: SetEnv, given: str, expected: str
) -> None:
    env(DATABASE_URL=given)

    assert load().database_url == expected


@pytest.mark.parametrize(
    "name",
    [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_BASE_URL",
        "DOIT_API_KEY",
        "DOIT_TENANT_ID",
        "DOIT_NOTIFY_CHANNEL",
    ],
)
@pytest.mark.parametrize("blank", ["", "   "])
def test_optional_value_when_blank_then_unset(env: SetEnv, name: str, blank: str) -> None:
    env(**{name: blank})

    assert getattr(load(), name.lower()) is None


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("DOIT_API_BASE_URL", "https://api.doit.com"),
        ("DOIT_REQUESTER", RequesterMode.SLACK_USER),
        ("PORT", 3000),
        ("LOG_LEVEL", "INFO"),
        ("DOIT_WATCH_INTERVAL", 60.0),
        ("DOIT_NOTIFY_REQUESTER", True),
    ],
)
def test_value_with_default_when_blank_then_default(env: SetEnv, name: str, default: object) -> None:
    # .env.example promises "Empty values mean not set"; a blanked line must not stop start-up.
    env(**{name: ""})

    assert getattr(load(), name.lower()) == default


def test_env_file_when_values_blank_then_defaults(env: SetEnv, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "PORT=\nLOG_LEVEL=\nDOIT_API_BASE_URL=\nDOIT_REQUESTER=\nSLACK_APP_TOKEN=\n", encoding="utf-8"
    )

    settings = load_settings(env_file=dotenv)

    assert (settings.port, settings.log_level, settings.doit_api_base_url) == (
        3000,
        "INFO",
        "https://api.doit.com",
    )
    assert settings.doit_requester is RequesterMode.SLACK_USER
    assert settings.socket_mode is False


def test_values_when_padded_then_stripped(env: SetEnv) -> None:
    env(SLACK_BOT_TOKEN=f"  {BOT_TOKEN} ", DOIT_TENANT_ID=" cust1 ", LOG_LEVEL=" warning ")

    settings = load()

    assert settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value() == BOT_TOKEN
    assert settings.doit_tenant_id == "cust1"
    assert settings.log_level == "WARNING"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"PORT": "eighty"},
            "PORT is malformed (Input should be a valid integer, unable to parse string as an integer): "
            "set it to a TCP port number between 1 and 65535.",
        ),
        (
            {"PORT": "70000"},
            "PORT is malformed (Input should be less than or equal to 65535): "
            "set it to a TCP port number between 1 and 65535.",
        ),
        (
            {"PORT": "0"},
            "PORT is malformed (Input should be greater than or equal to 1): "
            "set it to a TCP port number between 1 and 65535.",
        ),
        (
            {"LOG_LEVEL": "LOUD"},
            "LOG_LEVEL is malformed (unknown level): set it to DEBUG, INFO, WARNING or ERROR.",
        ),
        (
            {"DOIT_REQUESTER": "someone"},
            "DOIT_REQUESTER is malformed (Input should be 'slack-user' or 'key-owner'): "
            "set it to slack-user (service-account keys) or key-owner (personal keys).",
        ),
        (
            {"DOIT_API_BASE_URL": "api.doit.com"},
            "DOIT_API_BASE_URL is malformed (must be an http(s) URL): set it to a URL such as https://api.doit.com.",
        ),
        (
            {"DOIT_WATCH_INTERVAL": "1"},
            "DOIT_WATCH_INTERVAL is malformed (Input should be greater than or equal to 5): "
            "set it to a number of seconds of at least 5.",
        ),
    ],
)
def test_malformed_value_when_loading_then_one_sentence_naming_it(
    env: SetEnv, values: dict[str, str], message: str
) -> None:
    assert load_error(env, **values) == message


@pytest.mark.parametrize(
    ("name", "secret", "reason"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-9999-s3cr3tus3rt0k3n", "must start with xoxb-"),
        ("SLACK_BOT_TOKEN", APP_TOKEN, "must start with xoxb-"),
        ("SLACK_APP_TOKEN", BOT_TOKEN, "must start with xapp-"),
        (
            "DATABASE_URL",
            f"mysql://root:{DB_PASSWORD}@db.example.com/bot",
            "must be a sqlite: or postgres:// URL",
        ),
    ],
)
def test_malformed_secret_when_loading_then_named_without_its_value(
    env: SetEnv, name: str, secret: str, reason: str
) -> None:
    env(**{name: secret})

    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)

    message = str(caught.value)
    assert message.startswith(f"{name} is malformed ({reason}): set it to ")
    assert message.endswith(".")
    shown = message + "".join(traceback.format_exception(caught.value))
    assert secret not in shown
    assert DB_PASSWORD not in shown


def test_repr_when_secrets_and_database_url_set_then_none_shown(env: SetEnv) -> None:
    env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_APP_TOKEN=APP_TOKEN,
        DOIT_API_KEY=API_KEY,
        DATABASE_URL=f"postgres://bot:{DB_PASSWORD}@db.example.com/tickets",
    )

    settings = load()
    shown = repr(settings) + str(settings)

    for secret in (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, API_KEY, DB_PASSWORD, "db.example.com"):
        assert secret not in shown
    assert "slack_bot_token=SecretStr('**********')" in repr(settings)
    assert "database_url" not in repr(settings)


@pytest.mark.parametrize(
    ("admins", "expected"),
    [
        ("", frozenset()),
        ("U012ABC", frozenset({"U012ABC"})),
        (" U012ABC , U034DEF,,U056GHI ,", frozenset({"U012ABC", "U034DEF", "U056GHI"})),
    ],
)
def test_admin_user_ids_when_comma_separated_then_trimmed_set(
    env: SetEnv, admins: str, expected: frozenset[str]
) -> None:
    env(DOIT_ADMINS=admins)

    assert load().admin_user_ids == expected


def test_socket_mode_when_app_token_set_then_true_else_false(env: SetEnv) -> None:
    assert load().socket_mode is False
    assert load(slack_app_token=APP_TOKEN).socket_mode is True
    assert load(slack_app_token="").socket_mode is False


def test_require_when_set_then_passes(env: SetEnv) -> None:
    env(DOIT_API_KEY=API_KEY, SLACK_BOT_TOKEN=BOT_TOKEN)

    assert load().require("DOIT_API_KEY", "SLACK_BOT_TOKEN") is None


def test_require_when_unset_then_names_the_first_missing_and_how_to_fix(env: SetEnv) -> None:
    env(DOIT_API_KEY=API_KEY)

    with pytest.raises(SettingsError) as caught:
        load().require("DOIT_API_KEY", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")

    assert str(caught.value) == (
        "SLACK_BOT_TOKEN is not set: set it to the Bot User OAuth Token (xoxb-...) from OAuth & Permissions "
        "(in the environment or .env)."
    )


def test_require_when_api_key_unset_then_says_where_to_get_one(env: SetEnv) -> None:
    with pytest.raises(SettingsError) as caught:
        load().require("DOIT_API_KEY")

    assert str(caught.value) == (
        "DOIT_API_KEY is not set: create an API key in the DoiT console (Profile > API) and set it "
        "(in the environment or .env)."
    )


@pytest.mark.parametrize(
    ("name", "value"), [("DOIT_NOTIFY_CHANNEL", "#general"), ("DOIT_ADMINS", "bob,U012ABC")]
)
def test_ids_given_as_names_stop_start_up_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(None, **{name.lower(): value})
    assert str(caught.value).startswith(f"{name} is malformed")
