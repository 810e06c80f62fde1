"""`doit-slack worker`: the watcher alone, for deployments that keep polling out of the web process.

It runs in the foreground until SIGTERM or SIGINT (what Heroku and systemd send), then gives the
lease up so another instance can take over at once instead of waiting for it to lapse.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from bot.config import Settings
from bot.notify.watcher import DEFAULT_LEASE_SECONDS, Watcher, default_holder
from bot.services import Services
from bot.slack.web import make_web_client

logger = logging.getLogger(__name__)


def run_worker(settings: Settings, *, stop: threading.Event | None = None) -> None:
    """Run the watcher until a termination signal (or ``stop``, for tests) arrives."""
    settings.require("SLACK_BOT_TOKEN", "DOIT_API_KEY")
    stop = stop or threading.Event()
    services = Services.from_settings(settings)
    try:
        watcher = Watcher(
            services,
            make_web_client(settings),
            holder=default_holder(),
            interval=settings.doit_watch_interval,
            lease_seconds=DEFAULT_LEASE_SECONDS,
        )
        _stop_on_signals(stop)
        watcher.run_forever(stop)
    finally:
        services.close()


def _stop_on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be installed from the main thread

    def handle(signum: int, _frame: FrameType | None) -> None:
        logger.info("Received %s: stopping the watcher", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
