"""The message shortcut "File a DoiT ticket" and the global shortcut "New DoiT ticket"."""

from __future__ import annotations

import json

import pytest

from bot.blocks import ids
from bot.blocks.create_modal import DESCRIPTION_MAX, SUBJECT_MAX
from bot.blocks.limits import view_problems
from bot.blocks.text import truncate
from bot.fakeslack import PERMALINK_BASE, FakeSlack
from bot.slack.shortcuts import draft_from_message, slack_to_plain
from bot.support.sandbox import Sandbox
from tests.slack.harness import SlackDriver, filled_form, submission
from tests.slack.payloads import global_shortcut, message_shortcut

MESSAGE_TS = "1733299999.000200"
PERMALINK = f"{PERMALINK_BASE}/archives/C0SUPPORT/p1733299999000200"


def run_message_shortcut(driver: SlackDriver, slack: FakeSlack, message: dict, **kwargs: str) -> dict:
    payload = message_shortcut(message, callback_id=ids.FILE_FROM_MESSAGE_SHORTCUT, **kwargs)
    response = driver.interact(payload)
    assert (response.status, response.body) == (200, "")
    [update] = slack.wait_for("views.update")
    return slack.views[update.args["view_id"]]


def initial(view: dict, block_id: str) -> str | None:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return block["element"].get("initial_value") or block["element"].get("initial_conversation")


def test_message_shortcut_on_a_5000_character_message_cuts_subject_and_keeps_the_permalink(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    first_line = "Checkout fails for every EU customer since the deploy " * 6
    text = first_line + "\n" + "\n".join(f"line {n}: " + "stack frame " * 8 for n in range(60))
    text = text[:5000]
    assert len(text) == 5000

    view = run_message_shortcut(driver, slack, {"ts": MESSAGE_TS, "text": text})

    [opened] = slack.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == ids.LOADING_CALLBACK
    assert view["callback_id"] == ids.CREATE_CALLBACK
    assert initial(view, ids.SUBJECT) == truncate(first_line.strip(), SUBJECT_MAX)
    assert len(initial(view, ids.SUBJECT) or "") == SUBJECT_MAX
    description = initial(view, ids.DESCRIPTION) or ""
    footer = f"\n\nSlack message: {PERMALINK}"
    assert description == truncate(text, DESCRIPTION_MAX - len(footer)) + footer
    assert description.endswith(f"stack…{footer}")
    assert len(description) <= DESCRIPTION_MAX
    assert initial(view, ids.CHANNEL) == "C0SUPPORT"
    assert json.loads(view["private_metadata"]) == {"origin_channel": "C0SUPPORT", "thread_ts": MESSAGE_TS}
    assert view_problems(view) == []


def test_message_shortcut_on_a_message_with_only_a_file_names_the_file(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    message = {
        "ts": MESSAGE_TS,
        "text": "",
        "files": [{"id": "F1", "name": "error.png", "title": "error.png"}],
    }

    view = run_message_shortcut(driver, slack, message)

    assert initial(view, ids.SUBJECT) == "About the file error.png"
    assert initial(view, ids.DESCRIPTION) == (
        f"Files attached to the Slack message: error.png\nSlack message: {PERMALINK}"
    )
    assert view_problems(view) == []


def test_message_shortcut_then_submit_files_with_the_permalink_and_threads_the_card(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    slack.add_message("C0SUPPORT", MESSAGE_TS, text="The VPN to eu-west-1 is down", user="U0LEE")
    view = run_message_shortcut(driver, slack, {"ts": MESSAGE_TS, "text": "The VPN to eu-west-1 is down"})
    values = filled_form(
        subject=initial(view, ids.SUBJECT) or "", description=initial(view, ids.DESCRIPTION) or ""
    )

    driver.interact(submission(view, values))

    [post] = slack.wait_for("chat.postMessage")
    assert (post.args["channel"], post.args["thread_ts"]) == ("C0SUPPORT", MESSAGE_TS)
    [created] = sandbox.requests_to("POST", "/support/v1/tickets")
    assert created.json["ticket"]["subject"] == "The VPN to eu-west-1 is down"
    assert created.json["ticket"]["body"] == f"The VPN to eu-west-1 is down\n\nSlack message: {PERMALINK}"
    assert [reply["ts"] for reply in slack.thread("C0SUPPORT", MESSAGE_TS)] == [post.response["ts"]]


def test_message_shortcut_on_a_thread_reply_puts_the_card_in_that_thread(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    message = {"ts": MESSAGE_TS, "thread_ts": "1733299000.000100", "text": "Same here since 9:00"}

    view = run_message_shortcut(driver, slack, message)

    assert json.loads(view["private_metadata"])["thread_ts"] == "1733299000.000100"


@pytest.mark.parametrize("settings_overrides", [{"doit_notify_channel": "C0GENERAL"}])
def test_message_shortcut_in_a_direct_message_sends_the_card_to_the_default_channel(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    view = run_message_shortcut(
        driver, slack, {"ts": MESSAGE_TS, "text": "Billing looks off"}, channel_id="DU0LEE"
    )

    assert initial(view, ids.CHANNEL) == "C0GENERAL"
    assert json.loads(view["private_metadata"]) == {}


def test_message_shortcut_when_the_permalink_fails_still_opens_the_form_with_the_text(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    slack.fail("chat.getPermalink", "message_not_found")

    view = run_message_shortcut(driver, slack, {"ts": MESSAGE_TS, "text": "Disk full\non db-1"})

    assert (initial(view, ids.SUBJECT), initial(view, ids.DESCRIPTION)) == ("Disk full", "Disk full\non db-1")


@pytest.mark.parametrize("settings_overrides", [{"doit_notify_channel": "C0GENERAL"}])
def test_global_shortcut_opens_an_empty_form_with_the_default_channel(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    response = driver.interact(global_shortcut(callback_id=ids.NEW_TICKET_SHORTCUT))

    assert (response.status, response.body) == (200, "")
    [update] = slack.wait_for("views.update")
    view = slack.views[update.args["view_id"]]
    assert view["callback_id"] == ids.CREATE_CALLBACK
    assert (initial(view, ids.SUBJECT), initial(view, ids.DESCRIPTION)) == (None, None)
    assert initial(view, ids.CHANNEL) == "C0GENERAL"
    assert slack.calls_to("chat.getPermalink") == []


def test_slack_to_plain_when_given_markup_reads_like_the_message() -> None:
    text = "<@U0LEE|lee> says <https://status.example|the status page> is red &amp; <!here> in <#C1|ops>"

    assert slack_to_plain(text) == "@lee says the status page (https://status.example) is red & @here in #ops"


def test_draft_from_message_when_text_and_files_are_absent_has_only_the_permalink() -> None:
    draft = draft_from_message({"ts": MESSAGE_TS}, permalink=PERMALINK)

    assert (draft.subject, draft.description) == ("", f"Slack message: {PERMALINK}")


def test_draft_from_message_with_many_long_file_names_still_fits_the_description() -> None:
    files = [{"name": f"{n}-" + "x" * 300} for n in range(40)]

    draft = draft_from_message({"ts": MESSAGE_TS, "text": "y" * 4000, "files": files}, permalink=PERMALINK)

    assert len(draft.description) == DESCRIPTION_MAX
    assert draft.description.endswith(f"and 30 more\nSlack message: {PERMALINK}")


def test_message_shortcut_uses_the_trigger_before_any_other_slack_call(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    run_message_shortcut(driver, slack, {"ts": MESSAGE_TS, "text": "Disk full on db-1"})
    methods = [c.method for c in slack.calls]
    assert methods.index("views.open") < methods.index("chat.getPermalink")
