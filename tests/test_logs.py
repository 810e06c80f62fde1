"""RedactSecrets and configure_logging: a secret never reaches the output, wherever it hides in a record."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import REDACTED, RedactSecrets, configure_logging

SECRET = "dk-live-7c2f9a4d1e6b3058"
OTHER = "xoxb-1111-2222-s3cr3t"


class Captured:
    """A logger whose one handler carries the filter and writes formatted lines to a buffer."""

    def __init__(self, logger: logging.Logger, stream: io.StringIO) -> None:
        self.logger = logger
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()


def capture(name: str, secrets: list[str]) -> Captured:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger(f"tests.logs.{name}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return Captured(logger, stream)


@pytest.fixture
def log(request: pytest.FixtureRequest) -> Captured:
    return capture(request.node.name, [SECRET, OTHER])


def test_secret_when_in_message_text_then_redacted(log: Captured) -> None:
    # As a third-party library would: the secret is part of the message itself, not an argument.
    message = f"GET https://api.doit.com/x?key={SECRET} failed"
    log.logger.info(message)

    assert log.text == f"INFO GET https://api.doit.com/x?key={REDACTED} failed\n"


def test_secret_when_in_lazy_args_then_redacted(log: Captured) -> None:
    log.logger.warning("calling with key %s and token %s", SECRET, OTHER)

    assert log.text == f"WARNING calling with key {REDACTED} and token {REDACTED}\n"


def test_secret_when_inside_an_arg_repr_then_redacted(log: Captured) -> None:
    log.logger.debug("headers %r", {"Authorization": f"Bearer {SECRET}"})

    assert log.text == f"DEBUG headers {{'Authorization': 'Bearer {REDACTED}'}}\n"


def test_secret_when_in_exception_text_then_redacted(log: Captured) -> None:
    try:
        raise ValueError(f"the server rejected {SECRET}")
    except ValueError:
        log.logger.exception("call failed")

    assert SECRET not in log.text
    assert log.text.startswith("ERROR call failed\nTraceback (most recent call last):\n")
    assert log.text.endswith(f"ValueError: the server rejected {REDACTED}\n")


def test_secret_when_in_chained_exception_then_redacted(log: Captured) -> None:
    try:
        try:
            raise KeyError(OTHER)
        except KeyError as inner:
            raise RuntimeError("lookup failed") from inner
    except RuntimeError:
        log.logger.exception("boom")

    assert OTHER not in log.text
    assert f"KeyError: '{REDACTED}'" in log.text


def test_record_when_no_secret_then_left_lazy(log: Captured) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "ticket %s moved to %s", (42, "open"), None)

    assert RedactSecrets([SECRET]).filter(record) is True
    assert (record.msg, record.args) == ("ticket %s moved to %s", (42, "open"))


def test_record_when_secret_then_message_replaced_and_args_dropped() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key %s", (SECRET,), None)

    assert RedactSecrets([SECRET]).filter(record) is True
    assert (record.msg, record.args) == (f"key {REDACTED}", None)
    assert record.getMessage() == f"key {REDACTED}"


def test_secrets_when_one_contains_another_then_longest_redacted_whole() -> None:
    log = capture("overlap", ["abcdef", "abcdef-longer"])

    log.logger.info("abcdef-longer and abcdef")

    assert log.text == f"INFO {REDACTED} and {REDACTED}\n"


def test_secrets_when_empty_none_or_short_then_ignored() -> None:
    log = capture("short", ["", "abc", "12345"])

    log.logger.info("abc 12345 stay as they are")

    assert log.text == "INFO abc 12345 stay as they are\n"


def test_filter_when_no_secrets_then_passes_everything() -> None:
    log = capture("none", [])

    log.logger.info("plain %s", "text")

    assert log.text == "INFO plain text\n"


@pytest.fixture
def restored_root() -> Iterator[logging.Logger]:
    """configure_logging changes the root logger and a few library loggers: put them back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "urllib3")}
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, noisy_level in noisy.items():
        logging.getLogger(name).setLevel(noisy_level)


def test_configure_logging_when_called_twice_then_one_redacting_handler(
    restored_root: logging.Logger,
) -> None:
    configure_logging("DEBUG", [SECRET])
    configure_logging("INFO", [SECRET])

    ours = [h for h in restored_root.handlers if getattr(h, "_doit_slack", False)]
    assert len(ours) == 1
    assert restored_root.level == logging.INFO
    assert [type(f) for f in ours[0].filters] == [RedactSecrets]
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING


def test_configure_logging_when_secret_logged_then_output_redacted(restored_root: logging.Logger) -> None:
    configure_logging("INFO", [SECRET])
    [handler] = [h for h in restored_root.handlers if getattr(h, "_doit_slack", False)]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)

    logging.getLogger("tests.logs.configured").info("key=%s", SECRET)

    assert stream.getvalue().endswith(f"INFO tests.logs.configured: key={REDACTED}\n")
    assert SECRET not in stream.getvalue()
