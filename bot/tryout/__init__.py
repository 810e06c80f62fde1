"""`doit-slack try`: the real bot in the terminal, against the DoiT sandbox and a stand-in Slack.

One-shot (``doit-slack try "/doit list severity:high"``), interactive (no arguments at a
terminal: a ``doit>`` prompt until EOF or ``exit``; lines piped in are run the same way without a
prompt), or ``--demo``: a short scripted tour. Each reply is printed as readable text followed by
a Block Kit Builder link that shows how Slack would draw it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import TextIO

from bot.tryout.render import builder_link, message_payload, render_message, render_view, view_payload
from bot.tryout.session import Reply, TrySession, join_words

logger = logging.getLogger(__name__)

PROMPT = "doit> "
SUBMIT_WORD = "submit"
CLICK_WORD = "click"
HOME_WORD = "home"
EXIT_WORDS = frozenset({"exit", "quit", "bye"})
DEMO_SUBJECT = "VPN down in eu-west-1"

_INTRO = (
    "This is the real bot, run against a local DoiT sandbox and a stand-in for Slack: nothing leaves\n"
    "this machine. Type /doit commands (or just `list open`); after /doit new, type `submit` to file\n"
    "the form with sample values; `click Next` (or `[Next]`) presses a button; `home` opens the\n"
    "bot's Home tab. `exit` or Ctrl-D ends."
)


def run_try(line: list[str], *, demo: bool, out: TextIO | None = None, stdin: TextIO | None = None) -> int:
    """Run one command line, the interactive prompt, or the demo; 0 unless the bot could not start."""
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    with _quiet_logging():
        try:
            session = TrySession()
            session.start()
        except OSError as exc:
            session.close()
            print(
                f"doit-slack try: could not start the local stand-ins ({type(exc).__name__}: {exc})", file=out
            )
            return 1
        try:
            if demo:
                return run_demo(session, out)
            if line:
                run_line(session, join_words(line), out)
                return 0
            return run_prompt(session, out, stdin)
        finally:
            session.close()


def run_demo(session: TrySession, out: TextIO) -> int:
    """The tour: help, a list, one ticket, a new ticket's form, then filing it."""
    print("A short tour of the bot, against the local DoiT sandbox.", file=out)
    steps = [
        "/doit help",
        "/doit list open",
        f"/doit show {session.sample_ticket_id()}",
        f"/doit new {DEMO_SUBJECT}",
        SUBMIT_WORD,
    ]
    for step in steps:
        print(f"\n{PROMPT}{step}", file=out)
        run_line(session, step, out)
    print("\nThat was the tour. Run `doit-slack try` to type your own commands.", file=out)
    return 0


def run_prompt(session: TrySession, out: TextIO, stdin: TextIO) -> int:
    """Read command lines until EOF or `exit`; a prompt only when a person is typing."""
    interactive = stdin.isatty()
    if interactive:
        print(_INTRO, file=out)
    for line in _lines(stdin, out, prompt=interactive):
        if line.lower() in EXIT_WORDS:
            break
        if line:
            if not interactive:
                # Piped lines are not echoed by a terminal: show each, so replies read in order.
                print(f"\n{PROMPT}{line}", file=out)
            run_line(session, line, out)
    return 0


def run_line(session: TrySession, line: str, out: TextIO) -> None:
    """Send one line to the bot and print what it showed."""
    word, _, rest = line.strip().partition(" ")
    if word.lower() == SUBMIT_WORD and not rest:
        replies = session.submit()
    elif word.lower() == HOME_WORD and not rest:
        replies = session.open_home()
    elif word.lower() == CLICK_WORD and rest.strip():
        replies = session.click(rest)
    elif line.strip().startswith("[") and line.strip().endswith("]"):
        replies = session.click(line.strip()[1:-1])
    else:
        replies = session.send(line)
    for reply in replies:
        print(format_reply(reply, session), file=out, flush=True)


def format_reply(reply: Reply, session: TrySession) -> str:
    """A reply as terminal text: where it shows, what it says, and its Block Kit Builder link."""
    if reply.is_note:
        heading = "" if reply.where == "note" else f"{reply.where}:\n"
        return f"\n{heading}{_indent(reply.text or '')}"
    if reply.view is not None:
        lines = render_view(reply.view, session.names)
        link = builder_link(view_payload(reply.view))
    else:
        lines = render_message(reply.text, reply.blocks, session.names)
        link = builder_link(message_payload(reply.blocks)) if reply.blocks else None
    text = f"\n── {reply.where} ──\n" + "\n".join(f"│ {row}".rstrip() for row in lines)
    if link:
        text += f"\n└ Block Kit Builder: {link}"
    return text


def _lines(stdin: TextIO, out: TextIO, *, prompt: bool) -> Iterator[str]:
    if prompt and stdin is sys.stdin and out is sys.stdout:
        yield from _typed_lines()
        return
    while True:
        if prompt:
            print(PROMPT, end="", file=out, flush=True)
        raw = stdin.readline()
        if not raw:
            if prompt:
                print(file=out)
            return
        yield raw.strip()


def _typed_lines() -> Iterator[str]:
    # input() gives line editing and history at a terminal, where readline is available.
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401
    while True:
        try:
            yield input(PROMPT).strip()
        except EOFError:
            print()
            return


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


@contextlib.contextmanager
def _quiet_logging() -> Iterator[None]:
    """Only errors reach the terminal, one line each: the replies are the output here."""
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineFormatter("doit-slack try: %(levelname)s %(name)s: %(message)s"))
    for existing in saved_handlers:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for existing in saved_handlers:
            root.addHandler(existing)
        root.setLevel(saved_level)


class _OneLineFormatter(logging.Formatter):
    """No tracebacks: a person trying the bot needs the sentence, not the stack."""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None
        saved, record.exc_info = record.exc_info, None
        try:
            return super().format(record)
        finally:
            record.exc_info = saved
