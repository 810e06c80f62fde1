"""The one settings object, read once at start-up from the environment and `.env`.

A missing or malformed setting stops start-up with :class:`SettingsError`, whose message is a single
sentence naming the variable and saying how to fix it. Tokens and keys are ``SecretStr`` so they
never show up in a repr, a log line or a traceback.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///doit-slack.sqlite3"
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class SettingsError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


class RequesterMode(StrEnum):
    SLACK_USER = "slack-user"
    """Send the Slack user's email as the ticket's requester (service-account keys need this)."""
    KEY_OWNER = "key-owner"
    """Leave the requester out, so the key's owner becomes requester (personal keys need this)."""


_HINTS: dict[str, str] = {
    "SLACK_BOT_TOKEN": "set it to the Bot User OAuth Token (xoxb-...) from OAuth & Permissions",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from your app's Basic Information page",
    "SLACK_APP_TOKEN": "set it to an app-level token (xapp-...) with connections:write, or leave it empty",
    "SLACK_API_BASE_URL": "set it to a URL such as https://slack.com/api/ or leave it empty",
    "DOIT_API_KEY": "create an API key in the DoiT console (Profile > API) and set it",
    "DOIT_API_BASE_URL": "set it to a URL such as https://api.doit.com",
    "DOIT_TENANT_ID": "set it to your DoiT customer id, or leave it empty when your key reaches one customer",
    "DOIT_REQUESTER": "set it to slack-user (service-account keys) or key-owner (personal keys)",
    "DATABASE_URL": "set it to a SQLAlchemy URL such as sqlite:///doit-slack.sqlite3 or postgres://user@host/db",
    "PORT": "set it to a TCP port number between 1 and 65535",
    "WEB_CONCURRENCY": "set it to how many gunicorn worker processes to run, from 1 to 32",
    "HOST": "set it to the address to listen on, such as 0.0.0.0 or 127.0.0.1",
    "DOIT_NOTIFY_CHANNEL": "set it to a channel id such as C0123456789, or leave it empty",
    "LOG_LEVEL": "set it to DEBUG, INFO, WARNING or ERROR",
    "DOIT_WATCH_INTERVAL": "set it to a number of seconds of at least 5",
    "DOIT_CREATE_LIMIT": "set it to how many tickets one person may file per window, at least 1",
    "DOIT_CREATE_WINDOW": "set it to the window in seconds for DOIT_CREATE_LIMIT, at least 1",
    "DOIT_NOTIFY_REQUESTER": "set it to true or false",
    "DOIT_ADMINS": "set it to Slack user ids separated by commas, such as U012ABC,U034DEF",
}


class Settings(BaseSettings):
    """Everything the bot reads from its environment. Built once by :func:`load_settings`."""

    # env_ignore_empty: `.env.example` says an empty value means "not set", so a blanked PORT= or
    # LOG_LEVEL= falls back to its default instead of stopping start-up as malformed.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_base_url: str | None = None

    doit_api_key: SecretStr | None = None
    doit_api_base_url: str = "https://api.doit.com"
    doit_tenant_id: str | None = None
    doit_requester: RequesterMode = RequesterMode.SLACK_USER

    # repr=False: a PostgreSQL URL usually carries a password.
    database_url: str = Field(default=DEFAULT_DATABASE_URL, repr=False)
    port: int = Field(default=3000, ge=1, le=65535)
    web_concurrency: int = Field(default=1, ge=1, le=32)
    host: str = "0.0.0.0"  # noqa: S104 - a web process must listen beyond loopback (Heroku, containers)
    doit_notify_channel: str | None = None
    log_level: str = "INFO"

    doit_watch_interval: float = Field(default=60.0, ge=5)
    doit_create_limit: int = Field(default=5, ge=1)
    doit_create_window: float = Field(default=600.0, ge=1)
    doit_notify_requester: bool = True
    doit_admins: str = ""

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "doit_api_key",
        "slack_api_base_url",
        "doit_tenant_id",
        "doit_notify_channel",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `.env.example` leaves optional values empty; an empty string means "not set".
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("doit_notify_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.fullmatch(value):
            raise ValueError("must be a channel id such as C0123456789, not a name")
        return value

    @field_validator("doit_admins")
    @classmethod
    def _user_ids(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip() and not _USER_ID.fullmatch(part.strip()):
                raise ValueError("must be Slack user ids such as U012ABCDEF, not names")
        return value

    @field_validator("slack_api_base_url", "doit_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must start with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must start with xapp-")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip() or DEFAULT_DATABASE_URL
        # Heroku hands out postgres://, which SQLAlchemy no longer accepts as a dialect name.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value.removeprefix(prefix)
        if not value.startswith(("sqlite:", "postgresql+")):
            raise ValueError("must be a sqlite: or postgres:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("unknown level")
        return level

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def admin_user_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.doit_admins.split(",") if part.strip())

    def require(self, *names: str) -> None:
        """Stop with a sentence naming the first of ``names`` that is unset."""
        for name in names:
            if getattr(self, name.lower()) is None:
                raise SettingsError(f"{name} is not set: {_HINTS[name]} (in the environment or .env).")


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Read the settings; turn pydantic's report into one sentence a person can act on."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "a setting"
        reason = error["msg"].removeprefix("Value error, ")
        hint = _HINTS.get(name, "check its value")
        # The input value is left out on purpose: it may be a secret.
        raise SettingsError(f"{name} is malformed ({reason}): {hint}.") from None
