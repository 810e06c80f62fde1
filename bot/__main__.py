"""The command line: ``doit-slack run | worker | sandbox | doctor | try``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import SecretStr

from bot.config import Settings, SettingsError, load_settings
from bot.logs import configure_logging

logger = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="doit-slack", description="DoiT support tickets from Slack.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="serve Slack: Socket Mode when SLACK_APP_TOKEN is set, else HTTP")
    run.add_argument("--sandbox", action="store_true", help="use a built-in DoiT sandbox instead of DoiT")
    run.add_argument("--no-watcher", action="store_true", help="leave notifications to a `worker` process")

    commands.add_parser("worker", help="run only the notification watcher (the Procfile's worker)")

    sandbox = commands.add_parser(
        "sandbox",
        help="serve a local DoiT Support API for trying things out",
        description="A local DoiT Support API on 127.0.0.1. Point the bot at it with "
        "DOIT_API_BASE_URL=http://127.0.0.1:PORT and DOIT_API_KEY=sandbox-key.",
    )
    sandbox.add_argument("--port", type=_port, default=8765, help="TCP port (default 8765)")
    sandbox.add_argument("--tickets", type=_count, default=300, help="tickets to seed (default 300)")
    sandbox.add_argument(
        "--advance-every",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="move some open tickets to their next status this often (default: never)",
    )

    commands.add_parser("doctor", help="check the settings, the Slack token, the DoiT key and the database")

    try_ = commands.add_parser(
        "try", help="run the bot against the sandbox and a stand-in Slack, in the terminal"
    )
    try_.add_argument("line", nargs="*", help='a command line such as "/doit list severity:high"')
    try_.add_argument("--demo", action="store_true", help="run a short tour of the commands")
    return parser


def _port(text: str) -> int:
    number = int(text) if text.isascii() and text.isdigit() else 0
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port between 1 and 65535")
    return number


def _count(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text} is not a whole number of 0 or more")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except SettingsError as exc:
        print(f"doit-slack: {exc}", file=sys.stderr)
        if args.command == "run" and "SLACK_BOT_TOKEN is not set" in str(exc):
            print(
                "doit-slack: to see the bot work without Slack, run: doit-slack try --demo", file=sys.stderr
            )
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "sandbox":
        from bot.support.sandbox import serve

        configure_logging("INFO")
        try:
            serve(port=args.port, tickets=args.tickets, advance_every=args.advance_every)
        except OSError as exc:
            print(
                f"doit-slack: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}): pick another --port."
            )
            return 2
        return 0
    if args.command == "try":
        from bot.tryout import run_try

        return run_try(args.line, demo=args.demo)
    settings = load_settings()
    configure_logging(settings.log_level, _secrets(settings))
    if args.command == "doctor":
        from bot.doctor import run_doctor

        return run_doctor(settings)
    if args.command == "worker":
        from bot.notify.worker import run_worker

        run_worker(settings)
        return 0
    from bot.runner import run_bot

    return run_bot(settings, sandbox=args.sandbox, watcher=not args.no_watcher)


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.doit_api_key,
    ]
    return [value.get_secret_value() for value in values if isinstance(value, SecretStr)]


if __name__ == "__main__":
    sys.exit(main())
