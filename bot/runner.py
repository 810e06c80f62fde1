"""`doit-slack run`: check what the mode needs, build the app, start the watcher, serve."""

from __future__ import annotations

import atexit
import logging
import socket
import threading

from pydantic import SecretStr
from slack_sdk.errors import SlackApiError

from bot.app import build_app
from bot.config import Settings, SettingsError
from bot.server import WsgiApp, serve_http, wsgi_app
from bot.services import Services
from bot.slack.web import make_web_client

logger = logging.getLogger(__name__)


def with_sandbox(settings: Settings) -> tuple[Settings, object]:
    """Start the built-in DoiT sandbox in this process and point the settings at it."""
    from bot.support.sandbox import DEFAULT_API_KEY, Sandbox

    sandbox = Sandbox(advance_every=120.0)
    url = sandbox.start()
    logger.info("Using the built-in DoiT sandbox at %s instead of DoiT", url)
    updated = settings.model_copy(
        update={"doit_api_base_url": url, "doit_api_key": SecretStr(DEFAULT_API_KEY), "doit_tenant_id": None}
    )
    return updated, sandbox


def check_startup(settings: Settings) -> None:
    """Stop with one sentence when a setting this mode needs is missing or the token is refused."""
    settings.require("SLACK_BOT_TOKEN")
    if not settings.socket_mode:
        settings.require("SLACK_SIGNING_SECRET")
    settings.require("DOIT_API_KEY")
    try:
        make_web_client(settings).auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        raise SettingsError(
            f"SLACK_BOT_TOKEN was refused by Slack ({error}): copy the Bot User OAuth Token again "
            "from the app's OAuth & Permissions page."
        ) from None
    except OSError as exc:
        raise SettingsError(
            f"Slack could not be reached to check SLACK_BOT_TOKEN ({type(exc).__name__}): check the network "
            "or SLACK_API_BASE_URL."
        ) from None


def run_bot(settings: Settings, *, sandbox: bool = False, watcher: bool = True) -> int:
    if sandbox:
        settings.require("SLACK_BOT_TOKEN")  # before starting anything
        settings, _sandbox = with_sandbox(settings)
    check_startup(settings)
    if not settings.socket_mode:
        _check_port_free(settings)
    if settings.socket_mode:
        _serve_socket_mode(settings, watcher=watcher)
    else:
        serve_http(
            lambda: _load_http_app(settings, watcher=watcher),
            port=settings.port,
            host=settings.host,
            workers=settings.web_concurrency,
        )
    return 0


def _check_port_free(settings: Settings) -> None:
    """One sentence now, rather than gunicorn retrying a taken port for seconds and giving up."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            raise SettingsError(
                f"PORT {settings.port} on {settings.host} cannot be used ({exc.strerror}): stop what "
                "listens there or set PORT to another port."
            ) from None


def _load_http_app(settings: Settings, *, watcher: bool) -> WsgiApp:
    services = Services.from_settings(settings)
    _warm_up_in_background(services)
    app = build_app(settings, services)
    watcher_thread = _start_watcher(services, settings) if watcher else None

    def health() -> dict[str, object]:
        return {"watcher": bool(watcher_thread and watcher_thread.is_alive())}

    return wsgi_app(app, health=health)


def _serve_socket_mode(settings: Settings, *, watcher: bool) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    services = Services.from_settings(settings)
    _warm_up_in_background(services)
    app = build_app(settings, services)
    if watcher:
        _start_watcher(services, settings)
    assert settings.slack_app_token is not None
    logger.info("Connecting to Slack over Socket Mode")
    SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()


def _warm_up_in_background(services: Services) -> None:
    threading.Thread(target=services.warm_up, name="warm-up", daemon=True).start()


def _start_watcher(services: Services, settings: Settings) -> threading.Thread:
    from bot.notify.watcher import start_in_thread

    thread = start_in_thread(services, make_web_client(settings))
    # Give the lease up on a clean exit so another instance takes over at once, not after it lapses.
    atexit.register(thread.stop)
    return thread
