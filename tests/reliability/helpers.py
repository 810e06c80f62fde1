"""Small helpers the reliability scenarios share: timed waits on the fake Slack, the create form."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.blocks import ids
from bot.fakeslack import Call, FakeSlack
from tests.slack.harness import SlackDriver

POLL_SECONDS = 0.005


def reply_to(
    slack: FakeSlack, response_url: str, *, since: float, timeout: float = 10.0
) -> tuple[dict, float]:
    """The first post to ``response_url`` and how long after ``since`` (monotonic) it was seen."""
    deadline = since + timeout
    while time.monotonic() < deadline:
        for call in slack.calls_to("response_url"):
            if call.args.get("_url") == response_url:
                return call.args, time.monotonic() - since
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"nothing reached {response_url} within {timeout} s")


def next_call(
    slack: FakeSlack, method: str, *, after: int, since: float, timeout: float = 15.0
) -> tuple[Call, float]:
    """The first call to ``method`` beyond the first ``after`` ones, and how long after ``since``."""
    deadline = since + timeout
    while time.monotonic() < deadline:
        calls = slack.calls_to(method)
        if len(calls) > after:
            return calls[after], time.monotonic() - since
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"no new {method} within {timeout} s")


def open_create_form(driver: SlackDriver, slack: FakeSlack, text: str = "new") -> dict[str, Any]:
    """Run `/doit new` and return the create form as the fake Slack holds it once filled in."""
    opened_before = len(slack.calls_to("views.open"))
    updated_before = len(slack.calls_to("views.update"))
    response, _ = driver.command(text)
    assert (response.status, response.body) == (200, "")
    opened, _ = next_call(slack, "views.open", after=opened_before, since=time.monotonic())
    if opened.args["view"]["callback_id"] == ids.CREATE_CALLBACK:
        return slack.views[opened.response["view"]["id"]]  # type: ignore[index]
    updated, _ = next_call(slack, "views.update", after=updated_before, since=time.monotonic())
    return slack.views[updated.args["view_id"]]


def typed_values(view: dict[str, Any]) -> dict[str, str | None]:
    """What each input of a create form shows already filled in, by block id."""
    values: dict[str, str | None] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        if "initial_option" in element:
            values[block["block_id"]] = element["initial_option"]["value"]
        elif "initial_conversation" in element:
            values[block["block_id"]] = element["initial_conversation"]
        else:
            values[block["block_id"]] = element.get("initial_value")
    return values


def notice_text(view: dict[str, Any]) -> str:
    """The text of the sentence a form or result view shows above its inputs."""
    notices = [block for block in view.get("blocks", []) if block.get("block_id") == ids.NOTICE]
    return json.dumps(notices, ensure_ascii=False)
