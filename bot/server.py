"""Serving the app: over HTTP behind gunicorn, or over Socket Mode.

HTTP mode answers ``POST /slack/events`` (commands, interactivity, options and events all use
that one URL) and ``GET /healthz``. gunicorn runs ``WEB_CONCURRENCY`` worker processes (one by
default), each with a pool of threads:
Bolt acks on the request thread and finishes listeners on its own executor, so a slow DoiT never
delays an ack.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App, *, health: Callable[[], dict[str, Any]] | None = None) -> WsgiApp:
    """A WSGI callable: Bolt at ``/slack/events``, a health check at ``/healthz``."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body = json.dumps({"ok": True, **(health() if health else {})}).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return slack(environ, start_response)

    return application


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, load: Callable[[], WsgiApp], options: dict[str, Any]) -> None:
        self._load = load
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WsgiApp:
        return self._load()


def serve_http(
    load: Callable[[], WsgiApp],
    *,
    port: int,
    host: str = "0.0.0.0",  # noqa: S104
    threads: int = 16,
    workers: int = 1,
) -> None:
    """Run gunicorn in the foreground. ``load`` builds the app inside each worker process.

    More than one worker is safe: duplicates and rate limits live in the database, and the
    watchers of all workers share one lease, so only one of them polls.
    """
    logger.info("Serving Slack requests on http://%s:%d%s (%d workers)", host, port, EVENTS_PATH, workers)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        # Building the app in the worker keeps the watcher thread and DB pool out of the master.
        "preload_app": False,
    }
    _Gunicorn(load, options).run()
