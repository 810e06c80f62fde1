"""`/doit new`: the modal, its submission, the ticket that reaches DoiT and the card."""

from __future__ import annotations

import json
import threading

import pytest

from bot.blocks import ids
from bot.blocks.limits import message_problems, view_problems
from bot.fakeslack import FakeSlack
from bot.support.sandbox import Sandbox
from tests.slack.harness import SlackDriver, filled_form, submission

HOSTILE_SUBJECT = "<!channel> VPN down & <https://evil.example|reset password> if a<b"


def open_form(driver: SlackDriver, slack: FakeSlack, text: str = "new", **kwargs: str) -> dict:
    """Run the command and return the create form as the fake Slack holds it."""
    response, _ = driver.command(text, **kwargs)
    assert (response.status, response.body) == (200, "")
    opened = slack.wait_for("views.open")[-1]
    if opened.args["view"]["callback_id"] == ids.CREATE_CALLBACK:
        view_id = opened.response["view"]["id"]  # catalog and email were cached: opened directly
    else:
        view_id = slack.wait_for("views.update")[-1].args["view_id"]
    view = slack.views[view_id]
    assert view["callback_id"] == ids.CREATE_CALLBACK
    return view


def submit(driver: SlackDriver, view: dict, **form: object) -> dict:
    response = driver.interact(submission(view, filled_form(**form)))  # type: ignore[arg-type]
    assert response.status == 200
    return json.loads(response.body) if response.body else {}


def block_ids(view: dict) -> list[str]:
    return [block.get("block_id", "") for block in view["blocks"]]


def test_new_opens_a_loading_view_then_the_form_prefilled(driver: SlackDriver, slack: FakeSlack) -> None:
    view = open_form(driver, slack, "new VPN down")
    [opened] = slack.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == ids.LOADING_CALLBACK
    assert block_ids(view)[-7:] == [
        "subject",
        "description",
        "severity",
        "platform",
        "product",
        "requester",
        "channel",
    ]
    subject = next(b for b in view["blocks"] if b.get("block_id") == "subject")
    assert subject["element"]["initial_value"] == "VPN down"
    requester = next(b for b in view["blocks"] if b.get("block_id") == "requester")
    assert requester["element"]["initial_value"] == "dana@example.com"
    channel = next(b for b in view["blocks"] if b.get("block_id") == "channel")
    assert channel["element"]["initial_conversation"] == "C0SUPPORT"
    assert view_problems(view) == []


def test_new_a_second_time_opens_the_form_with_one_slack_call(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    open_form(driver, slack)
    slack.clear()
    view = open_form(driver, slack, "new again")
    assert [c.method for c in slack.calls] == ["views.open"]
    assert (
        next(b for b in view["blocks"] if b.get("block_id") == "subject")["element"]["initial_value"]
        == "again"
    )
    assert len(sandbox.requests_to("GET", "/support/v1/metadata/platforms")) == 1


@pytest.mark.parametrize("settings_overrides", [{"doit_requester": "key-owner"}])
def test_new_with_key_owner_mode_has_no_requester_input(driver: SlackDriver, slack: FakeSlack) -> None:
    view = open_form(driver, slack)
    assert "requester" not in block_ids(view)


def test_new_for_a_user_without_email_leaves_the_requester_for_them_to_type(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    view = open_form(driver, slack, user_id="U0NOMAIL")
    requester = next(b for b in view["blocks"] if b.get("block_id") == "requester")
    assert "initial_value" not in requester["element"]
    assert "no email" in json.dumps(view["blocks"][0])


def test_submit_files_one_ticket_with_current_field_names_and_posts_the_card(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    view = open_form(driver, slack)
    ack = submit(driver, view)
    assert ack["response_action"] == "update"
    assert ack["view"]["callback_id"] == ids.FILING_CALLBACK

    [post] = slack.wait_for("chat.postMessage")
    [posted] = sandbox.requests_to("POST", "/support/v1/tickets")
    assert posted.json == {
        "ticket": {
            "subject": "VPN down in eu-west-1",
            "body": "Since 09:00 no tunnel comes up.",
            "severity": "high",
            "platform": "amazon_web_services",
            "product": "compute__amazon_ec2",
            "requester": "dana@example.com",
        }
    }
    ticket = sandbox.tickets()[0]
    assert post.args["channel"] == "C0SUPPORT"
    assert f"#{ticket['id']}" in post.args["text"]
    assert message_problems(post.args["text"], post.args["blocks"]) == []
    card = json.dumps(post.args["blocks"])
    assert ticket["urlUI"] in card
    assert "<@U0DANA>" in card  # the requester is a member, so the card mentions them

    final = slack.wait_for("views.update", count=2)[-1]
    filed = slack.views[final.args["view_id"]]
    assert filed["callback_id"] == ids.FILED_CALLBACK
    assert str(ticket["id"]) in json.dumps(filed["blocks"])


@pytest.mark.parametrize("settings_overrides", [{"doit_requester": "key-owner"}])
def test_submit_in_key_owner_mode_leaves_the_requester_out(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    view = open_form(driver, slack)
    submit(driver, view, requester=None)
    slack.wait_for("chat.postMessage")
    [posted] = sandbox.requests_to("POST", "/support/v1/tickets")
    assert "requester" not in posted.json["ticket"]


def test_submit_with_hostile_subject_posts_no_ping_and_no_hidden_link(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    view = open_form(driver, slack)
    submit(driver, view, subject=HOSTILE_SUBJECT)
    [post] = slack.wait_for("chat.postMessage")
    [posted] = sandbox.requests_to("POST", "/support/v1/tickets")
    assert posted.json["ticket"]["subject"] == HOSTILE_SUBJECT  # DoiT gets the text as typed
    rendered = post.args["text"] + json.dumps(post.args["blocks"])
    assert "<!channel>" not in rendered
    assert "<https://evil.example|" not in rendered
    assert "&lt;!channel&gt; VPN down &amp; &lt;https://evil.example|reset password&gt; if a&lt;b" in rendered


@pytest.mark.parametrize(
    ("form", "block"),
    [
        ({"subject": "   "}, "subject"),
        ({"description": "      "}, "description"),
        ({"requester": "not-an-email"}, "requester"),
    ],
)
def test_submit_with_bad_input_shows_the_error_under_that_input(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, form: dict, block: str
) -> None:
    view = open_form(driver, slack)
    ack = submit(driver, view, **form)
    assert ack["response_action"] == "errors"
    assert list(ack["errors"]) == [block]
    assert sandbox.requests_to("POST", "/support/v1/tickets") == []


def test_submit_without_product_shows_the_error_under_product(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    view = open_form(driver, slack)
    values = filled_form()
    del values["product"]
    response = driver.interact(submission(view, values))
    ack = json.loads(response.body)
    assert ack == {"response_action": "errors", "errors": {"product": "Pick a product."}}
    assert sandbox.requests_to("POST", "/support/v1/tickets") == []


def test_submit_with_long_description_and_emoji_subject_files_it_whole(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    view = open_form(driver, slack)
    description = "x" * 2990 + " end."
    subject = "🔥" * 150
    submit(driver, view, subject=subject, description=description)
    [post] = slack.wait_for("chat.postMessage")
    [posted] = sandbox.requests_to("POST", "/support/v1/tickets")
    assert posted.json["ticket"]["body"] == description
    assert posted.json["ticket"]["subject"] == subject
    assert message_problems(post.args["text"], post.args["blocks"]) == []


def test_submit_delivered_twice_files_one_ticket(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    view = open_form(driver, slack)
    payload = submission(view, filled_form())
    first = driver.interact(payload)
    second = driver.interact(payload)
    assert json.loads(first.body)["response_action"] == "update"
    # Still filing, or already filed: either way the second delivery files nothing.
    assert json.loads(second.body)["view"]["callback_id"] in (ids.FILING_CALLBACK, ids.FILED_CALLBACK)
    slack.wait_for("chat.postMessage")
    slack.wait_for("views.update", count=2)
    assert len(sandbox.requests_to("POST", "/support/v1/tickets")) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_double_click_from_two_threads_files_one_ticket(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    view = open_form(driver, slack)
    payload = submission(view, filled_form())
    threads = [threading.Thread(target=driver.interact, args=(payload,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slack.wait_for("chat.postMessage")
    assert len(sandbox.requests_to("POST", "/support/v1/tickets")) == 1


def test_submit_during_doit_503_keeps_the_draft_and_try_again_files_it(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    view = open_form(driver, slack)
    sandbox.inject(
        status=503, method="POST", path_prefix="/support/v1/tickets", times=1, message="Zendesk down"
    )
    submit(driver, view, subject="Disk full", description="The data disk is at 100 %.")
    retry_update = slack.wait_for("views.update", count=2)[-1]
    retry = slack.views[retry_update.args["view_id"]]
    assert retry["callback_id"] == ids.CREATE_CALLBACK
    assert retry["submit"]["text"] == "Try again"
    assert "unavailable" in json.dumps(retry["blocks"][0])
    subject = next(b for b in retry["blocks"] if b.get("block_id") == "subject")
    assert subject["element"]["initial_value"] == "Disk full"
    description = next(b for b in retry["blocks"] if b.get("block_id") == "description")
    assert description["element"]["initial_value"] == "The data disk is at 100 %."
    assert slack.calls_to("chat.postMessage") == []

    submit(driver, retry, subject="Disk full", description="The data disk is at 100 %.")
    slack.wait_for("chat.postMessage")
    assert len(sandbox.requests_to("POST", "/support/v1/tickets")) == 2  # the refused one and this one
    assert sum(1 for t in sandbox.tickets() if t["subject"] == "Disk full") == 1


def test_submit_when_doit_rejects_shows_its_own_message(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    view = open_form(driver, slack)
    submit(driver, view, product="no_such_product", product_label="Gone")
    retry_update = slack.wait_for("views.update", count=2)[-1]
    notice = json.dumps(slack.views[retry_update.args["view_id"]]["blocks"][0])
    assert "DoiT rejected the request" in notice
    assert "no_such_product" in notice


def test_submit_to_a_channel_the_bot_is_not_in_sends_the_card_privately_with_the_reason(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    view = open_form(driver, slack, channel_id="C0NOTIN")
    submit(driver, view, channel="C0NOTIN")
    posts = slack.wait_for("chat.postMessage", count=2)
    assert [p.ok for p in posts] == [False, True]
    assert posts[1].args["channel"].startswith("D")
    assert "not a member" in json.dumps(posts[1].args["blocks"])


def test_submit_more_than_the_limit_asks_to_slow_down(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    limit = 5  # DOIT_CREATE_LIMIT's default
    for number in range(limit):
        view = open_form(driver, slack)
        submit(driver, view, subject=f"Ticket {number}")
        slack.wait_for("chat.postMessage")
        # The filed view: this submission is done (the first form needed a views.update too).
        slack.wait_for("views.update", count=2 if number == 0 else 1)
        slack.clear()
    view = open_form(driver, slack)
    ack = submit(driver, view, subject="One too many")
    assert ack["response_action"] == "errors"
    assert "wait a little" in ack["errors"]["subject"]
    assert len(sandbox.requests_to("POST", "/support/v1/tickets")) == limit


def test_product_options_follow_the_chosen_platform_and_the_typed_text(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    view = open_form(driver, slack)
    payload = {
        "type": "block_suggestion",
        "user": {"id": "U0DANA"},
        "action_id": ids.PRODUCT_INPUT,
        "block_id": ids.PRODUCT,
        "value": "ec2",
        "view": {
            "id": view["id"],
            "callback_id": ids.CREATE_CALLBACK,
            "state": {
                "values": {
                    "platform": {"platform_input": {"selected_option": {"value": "amazon_web_services"}}}
                }
            },
        },
    }
    response = driver.interact(payload)
    options = json.loads(response.body)["options"]
    assert [o["value"] for o in options] == ["compute__amazon_ec2"]
