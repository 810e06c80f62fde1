"""Regressions from an attack on the bot with hostile and malformed input.

Each test once failed: a second ticket for one submission, a crash on odd data from DoiT or
Slack, a negative time sent to DoiT, an invisible subject accepted.
"""

from __future__ import annotations

import json
import time

import pytest

from bot.blocks import ids
from bot.blocks.limits import message_problems
from bot.blocks.tickets import ticket_detail
from bot.fakeslack import FakeSlack
from bot.support import sandbox as sandbox_module
from bot.support.models import Ticket
from bot.support.sandbox import Sandbox
from tests.slack.harness import SlackDriver, filled_form, submission
from tests.slack.payloads import button_click
from tests.slack.test_create_flow import open_form, submit


def _page_click(driver: SlackDriver, value: str) -> str:
    url = driver.slack.response_url()
    payload = {
        "type": "block_actions",
        "user": {"id": "U0DANA"},
        "channel": {"id": "C0SUPPORT"},
        "container": {"type": "message", "is_ephemeral": True, "message_ts": "1.2"},
        "response_url": url,
        "trigger_id": "t-1",
        "actions": [{"action_id": ids.LIST_NEXT, "block_id": ids.LIST_NAVIGATION, "value": value}],
    }
    driver.interact(payload)
    return url


# --- /doit show ------------------------------------------------------------------------------------


def test_show_with_superscript_digit_when_typed_answers_which_ticket(driver: SlackDriver) -> None:
    # "²".isdigit() is True but int("²") raises: the command crashes into the "reference" reply.
    _, url = driver.command("show ²")
    [reply] = driver.responses(url)
    assert "Which ticket?" in reply["text"]


def test_show_of_ticket_with_2990_char_url_when_rendered_builds_a_valid_message() -> None:
    # The "Read the rest in DoiT" link leaves negative room for the description: the section
    # goes over 3,000 characters and slack_sdk raises SlackObjectFormationError (show crashes).
    url = "https://app.doit.com/" + "a" * 2970
    ticket = Ticket.model_validate(
        {"id": 7, "subject": "Disk full", "urlUI": url, "description": "word " * 1000, "status": "open"}
    )
    message = ticket_detail(ticket, [])
    assert message_problems(message.text, message.blocks) == []


# --- /doit list ------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["since:99999d", "since:1900-01-01", "before:1900-01-01"])
def test_list_with_date_before_1970_when_typed_never_sends_doit_a_negative_time(
    driver: SlackDriver, sandbox: Sandbox, query: str
) -> None:
    # The bot sends minCreationTime=-2208988800000 and shows DoiT's internal parameter error.
    _, url = driver.command(f"list {query}")
    [reply] = driver.responses(url)
    assert "CreationTime" not in json.dumps(reply)
    for call in sandbox.requests_to("GET", "/support/v1/tickets"):
        for name in ("minCreationTime", "maxCreationTime"):
            assert all(int(v) >= 0 for v in call.query.get(name, []))


@pytest.mark.parametrize("command", ["list", "show"])
def test_list_and_show_with_out_of_range_ticket_time_when_doit_sends_it_do_not_crash(
    driver: SlackDriver, sandbox: Sandbox, command: str
) -> None:
    # datetime.fromtimestamp raises OSError (not ValueError) inside the pydantic validator; it is
    # no SupportError, so the whole command dies with "Something went wrong ... reference".
    ticket = sandbox.add_ticket(subject="Far future", createTime=10**20)
    _, url = driver.command(command if command == "list" else f"show {ticket['id']}")
    [reply] = driver.responses(url)
    assert "reference" not in reply["text"]


@pytest.mark.parametrize(
    "value",
    ["null", "[]", '{"q": "", "h": [[null]]}', '{"q": "", "h": "abc"}', '{"q": "", "s": 1e400}'],
)
def test_list_next_with_tampered_value_when_clicked_answers_instead_of_silence(
    driver: SlackDriver, value: str
) -> None:
    # Only ValueError/KeyError/TypeError are caught around ListState.decode: AttributeError,
    # IndexError and OverflowError crash the listener and the clicker hears nothing.
    url = _page_click(driver, value)
    [reply] = driver.responses(url, timeout=3)
    assert "too old" in reply["text"]


@pytest.mark.parametrize("value", ['{"q": "", "p": -3}', '{"q": "", "p": 0}'])
def test_list_next_with_page_below_one_when_clicked_shows_no_negative_range(
    driver: SlackDriver, value: str
) -> None:
    url = _page_click(driver, value)
    [reply] = driver.responses(url)
    assert "-" not in reply["text"].split("showing")[-1]  # today: "showing -39–-30"


# --- card buttons ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action_id", [ids.CARD_REFRESH, ids.CARD_SOLVE, ids.CARD_COMMENT])
def test_card_button_with_superscript_digit_value_when_clicked_answers_stale(
    driver: SlackDriver, slack: FakeSlack, action_id: str
) -> None:
    # Click.from_body checks value.isdigit() then int(value): "²" raises and the click goes silent.
    payload, url = button_click(slack, action_id=action_id, value="²")
    driver.interact(payload)
    [reply] = driver.responses(url, timeout=3)
    assert "can no longer read" in json.dumps(reply)


# --- the create form ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "block"),
    [({"subject": "\u200b\u200b"}, "subject"), ({"description": "\u200b\ufeff"}, "description")],
)
def test_submit_with_only_zero_width_characters_when_submitted_shows_the_error(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, form: dict, block: str
) -> None:
    # str.strip() keeps U+200B/U+FEFF, so an invisible subject or description is filed.
    view = open_form(driver, slack)
    ack = submit(driver, view, **form)
    assert ack.get("response_action") == "errors"
    assert block in ack["errors"]
    assert sandbox.requests_to("POST", "/support/v1/tickets") == []


def test_submit_when_doit_answers_2xx_unreadably_does_not_claim_it_was_not_filed(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    # DoiT accepted the POST (2xx) but the body is not a ticket; the form says "Your ticket was
    # not filed", inviting a second ticket. It cannot know: it should say so, as after a timeout.
    view = open_form(driver, slack)
    sandbox.inject(status=200, method="POST", path_prefix="/support/v1/tickets", times=1)
    submit(driver, view)
    retry = slack.wait_for("views.update", count=2)[-1].args["view"]
    notice = json.dumps(retry["blocks"][0])
    assert "was not filed" not in notice
    assert "can't tell whether" in notice


def test_submit_when_doit_answers_an_out_of_range_time_files_one_ticket_and_says_so(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DoiT files the ticket, but parsing its "created" raises OSError (not a SupportError): the
    # listener dies, Slack gets a 404 for the submission, no card is posted and the claim is
    # released, so submitting the unchanged form again files a second ticket.
    original = sandbox_module._Ticket.created_response
    monkeypatch.setattr(
        sandbox_module._Ticket, "created_response", lambda self: {**original(self), "created": 10**20}
    )
    view = open_form(driver, slack)
    payload = submission(view, filled_form(subject="Odd created time"))
    first = driver.interact(payload)
    time.sleep(1.0)
    driver.interact(payload)  # the person presses the button again after Slack's error
    time.sleep(1.0)
    assert sum(1 for t in sandbox.tickets() if t["subject"] == "Odd created time") == 1
    assert first.status == 200


def test_submit_redelivered_after_an_uncertain_timeout_files_one_ticket(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first POST times out but DoiT files it; the claim is then marked "failed", so the same
    # payload delivered again (same view hash, not a "Try again" press) is filed a second time.
    from bot.slack import create

    monkeypatch.setattr(create, "CREATE_BUDGET", 1.0)
    view = open_form(driver, slack)
    payload = submission(view, filled_form(subject="Timeout twice"))
    sandbox.inject(latency=2.0, method="POST", path_prefix="/support/v1/tickets", times=1)
    driver.interact(payload)
    slack.wait_for("views.update", count=2, timeout=8)  # the "can't tell whether" retry form
    time.sleep(1.5)  # the sandbox finishes filing the slow request
    driver.interact(payload)
    time.sleep(1.5)
    assert sum(1 for t in sandbox.tickets() if t["subject"] == "Timeout twice") == 1


# --- malformed interaction payloads ------------------------------------------------------------------


def _mutated(view: dict, mutate) -> dict:
    payload = json.loads(json.dumps(submission(view, filled_form())))
    mutate(payload)
    return payload


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p["view"]["state"]["values"]["subject"]["subject_input"].update(value=5),
        lambda p: p["view"]["state"]["values"]["requester"]["requester_input"].update(value=["a"]),
        lambda p: p["view"].pop("state"),
        lambda p: p.pop("user"),
    ],
    ids=["subject_int", "requester_list", "no_state", "no_user"],
)
def test_submit_with_malformed_payload_when_delivered_does_not_answer_500(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, mutate
) -> None:
    view = open_form(driver, slack)
    response = driver.interact(_mutated(view, mutate))
    assert response.status == 200
    assert sandbox.requests_to("POST", "/support/v1/tickets") == []


@pytest.mark.parametrize(
    ("typed", "state"),
    [
        (5, {"platform": {"platform_input": {"selected_option": {"value": "amazon_web_services"}}}}),
        ("", {"platform": {"platform_input": {"selected_option": {"value": ["a"]}}}}),
        ("", {"platform": ["x"]}),
    ],
    ids=["value_int", "platform_list", "state_list"],
)
def test_product_options_with_wrong_types_when_requested_answer_empty_options(
    driver: SlackDriver, typed: object, state: dict
) -> None:
    payload = {
        "type": "block_suggestion",
        "user": {"id": "U0DANA"},
        "action_id": ids.PRODUCT_INPUT,
        "block_id": ids.PRODUCT,
        "value": typed,
        "view": {"id": "V1", "callback_id": ids.CREATE_CALLBACK, "state": {"values": state}},
    }
    response = driver.interact(payload)
    assert response.status == 200
    assert "options" in json.loads(response.body)
