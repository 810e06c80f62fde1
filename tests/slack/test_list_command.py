"""`/doit list`, its paging buttons, `/doit show` and the usage reply."""

from __future__ import annotations

import json

import pytest

from bot.blocks import ids
from bot.blocks.limits import message_problems
from bot.fakeslack import FakeSlack
from bot.support.sandbox import Sandbox
from tests.slack.harness import SlackDriver


def ticket_sections(reply: dict) -> list[dict]:
    return [b for b in reply["blocks"] if b["type"] == "section" and "#" in json.dumps(b)]


def button(reply: dict, action_id: str) -> dict | None:
    for block in reply["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element
    return None


def click(driver: SlackDriver, reply: dict, action_id: str, *, ephemeral: bool = True) -> str:
    """Press a button of ``reply``; returns the response_url the app answers on."""
    pressed = button(reply, action_id)
    assert pressed is not None, f"no {action_id} button"
    url = driver.slack.response_url()
    payload = {
        "type": "block_actions",
        "user": {"id": "U0DANA"},
        "channel": {"id": "C0SUPPORT"},
        "container": {"type": "message", "is_ephemeral": ephemeral, "message_ts": "1.2"},
        "response_url": url,
        "trigger_id": "t-1",
        "actions": [{"action_id": action_id, "block_id": ids.LIST_NAVIGATION, "value": pressed["value"]}],
    }
    assert driver.interact(payload).status == 200
    return url


def test_list_with_severity_acks_empty_and_replies_privately_with_one_doit_call(
    driver: SlackDriver, sandbox: Sandbox
) -> None:
    response, url = driver.command("list severity:high")
    assert (response.status, response.body) == (200, "")
    [reply] = driver.responses(url)
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0]["type"] == "header"
    assert "high severity" in json.dumps(reply["blocks"][1])
    expected = [t for t in sandbox.tickets() if t["severity"] == "high"][:10]
    sections = ticket_sections(reply)
    assert len(sections) == len(expected)
    for section, ticket in zip(sections, expected, strict=True):
        assert f"#{ticket['id']}" in json.dumps(section)
        assert "<!date^" in json.dumps(section)  # each reader sees their own local time
    [call] = sandbox.requests_to("GET", "/support/v1/tickets")
    assert call.query["filter"] == ["severity:high"]
    assert call.query["maxResults"] == ["10"]
    assert message_problems(reply["text"], reply["blocks"]) == []


def test_list_in_channel_posts_for_everyone(driver: SlackDriver) -> None:
    _, url = driver.command("list open in:channel")
    [reply] = driver.responses(url)
    assert reply["response_type"] == "in_channel"


def test_list_from_a_channel_the_bot_is_not_in_still_answers(driver: SlackDriver) -> None:
    _, url = driver.command("list", channel_id="C0NOTIN")
    [reply] = driver.responses(url)
    assert reply["blocks"][0]["type"] == "header"


def test_list_next_and_previous_walk_pages_without_overlap(driver: SlackDriver, sandbox: Sandbox) -> None:
    _, url = driver.command("list")
    [first] = driver.responses(url)
    assert button(first, ids.LIST_PREVIOUS) is None
    second_url = click(driver, first, ids.LIST_NEXT)
    [second] = driver.responses(second_url)
    assert second["replace_original"] is True
    first_ids = {json.dumps(s) for s in ticket_sections(first)}
    second_ids = {json.dumps(s) for s in ticket_sections(second)}
    assert len(second_ids) == 10
    assert not first_ids & second_ids
    back_url = click(driver, second, ids.LIST_PREVIOUS)
    [back] = driver.responses(back_url)
    assert ticket_sections(back) == ticket_sections(first)
    assert len(sandbox.requests_to("GET", "/support/v1/tickets")) == 3  # one DoiT call per page


def test_list_with_local_terms_pages_within_one_api_page(driver: SlackDriver, sandbox: Sandbox) -> None:
    _, url = driver.command("list platform:aws")
    [first] = driver.responses(url)
    aws = [t for t in sandbox.tickets()[:100] if t["platform"] == "amazon_web_services"]
    assert len(aws) > 10
    assert [f"#{t['id']}" in json.dumps(s) for s, t in zip(ticket_sections(first), aws, strict=False)] == [
        True
    ] * 10
    [call] = sandbox.requests_to("GET", "/support/v1/tickets")
    assert call.query["maxResults"] == ["100"]
    second_url = click(driver, first, ids.LIST_NEXT)
    [second] = driver.responses(second_url)
    assert f"#{aws[10]['id']}" in json.dumps(ticket_sections(second)[0])
    assert "Showing 11–" in second["blocks"][1]["elements"][0]["text"]
    assert (
        sandbox.requests_to("GET", "/support/v1/tickets")[1].query.get("pageToken") is None
    )  # same API page


def test_list_with_limit_shows_that_many_and_no_next(driver: SlackDriver) -> None:
    _, url = driver.command("list closed limit:3")
    [reply] = driver.responses(url)
    assert len(ticket_sections(reply)) == 3
    assert button(reply, ids.LIST_NEXT) is None


def test_list_with_a_large_limit_continues_after_the_last_ticket_that_fit(
    driver: SlackDriver, sandbox: Sandbox
) -> None:
    _, url = driver.command("list limit:60")
    [first] = driver.responses(url)
    shown_first = len(ticket_sections(first))
    second_url = click(driver, first, ids.LIST_NEXT)
    [second] = driver.responses(second_url)
    expected_next = sandbox.tickets()[shown_first]
    assert f"#{expected_next['id']}" in json.dumps(ticket_sections(second)[0])
    assert f"Showing {shown_first + 1}–" in second["blocks"][1]["elements"][0]["text"]
    assert shown_first + len(ticket_sections(second)) <= 60


def test_list_public_page_click_answers_the_clicker_privately(driver: SlackDriver) -> None:
    _, url = driver.command("list in:channel")
    [first] = driver.responses(url)
    second_url = click(driver, first, ids.LIST_NEXT, ephemeral=False)
    [second] = driver.responses(second_url)
    assert (second["replace_original"], second["response_type"]) == (False, "ephemeral")


def test_list_with_no_match_says_so_and_suggests_broader(driver: SlackDriver) -> None:
    _, url = driver.command('list "zzz no such subject zzz"')
    [reply] = driver.responses(url)
    assert "No DoiT tickets match" in reply["text"]
    assert "list open" in json.dumps(reply["blocks"])


def test_list_with_bad_query_shows_the_accepted_syntax(driver: SlackDriver, sandbox: Sandbox) -> None:
    _, url = driver.command("list colour:blue")
    [reply] = driver.responses(url)
    text = json.dumps(reply["blocks"])
    assert "colour:blue" in text
    assert "severity:" in text and "since:" in text
    assert sandbox.requests_to("GET", "/support/v1/tickets") == []


def test_list_mine_for_a_user_without_email_explains(driver: SlackDriver, sandbox: Sandbox) -> None:
    _, url = driver.command("list mine", user_id="U0NOMAIL")
    [reply] = driver.responses(url)
    assert "email" in reply["text"]
    assert sandbox.requests_to("GET", "/support/v1/tickets") == []


def test_list_mine_shows_only_the_askers_tickets(driver: SlackDriver, sandbox: Sandbox) -> None:
    _, url = driver.command("list mine")
    [reply] = driver.responses(url)
    mine = [t for t in sandbox.tickets() if t.get("requester") == "dana@example.com"][:10]
    assert len(ticket_sections(reply)) == len(mine) > 0


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (503, "unavailable right now"),
        (502, "unavailable right now"),
        (401, "doit-slack doctor"),
        (403, "may not do that"),
        (429, "too many requests"),
    ],
)
def test_list_when_doit_fails_answers_a_sentence_to_act_on(
    driver: SlackDriver, sandbox: Sandbox, status: int, words: str
) -> None:
    sandbox.inject(status=status, times=-1, path_prefix="/support/v1/tickets", retry_after=0.1)
    _, url = driver.command("list")
    [reply] = driver.responses(url, timeout=8)
    assert words in reply["text"]
    assert "Traceback" not in json.dumps(reply)


def test_list_when_doit_rejects_the_filter_shows_its_message(driver: SlackDriver, sandbox: Sandbox) -> None:
    sandbox.inject(status=400, times=1, message="Invalid filter key: x", path_prefix="/support/v1/tickets")
    _, url = driver.command("list")
    [reply] = driver.responses(url)
    assert reply["text"] == "DoiT rejected the request: Invalid filter key: x."


def test_list_when_doit_is_unreachable_answers_within_the_interactive_budget(
    driver: SlackDriver, sandbox: Sandbox
) -> None:
    sandbox.inject(latency=5.0, times=-1, path_prefix="/support/v1/tickets")
    _, url = driver.command("list")
    [reply] = driver.responses(url, timeout=4)
    assert "could not reach DoiT" in reply["text"]
    sandbox.clear_faults()


def test_show_prints_the_ticket_with_description_and_comments(driver: SlackDriver, sandbox: Sandbox) -> None:
    ticket = next(t for t in sandbox.tickets() if sandbox.comments(t["id"]))
    _, url = driver.command(f"show #{ticket['id']}")
    [reply] = driver.responses(url)
    body = json.dumps(reply["blocks"])
    assert f"#{ticket['id']}" in reply["text"]
    assert "Description" in body
    assert message_problems(reply["text"], reply["blocks"]) == []
    assert len(sandbox.requests_to("GET", f"/support/v1/tickets/{ticket['id']}/comments")) == 1


def test_show_of_an_unknown_ticket_says_so(driver: SlackDriver) -> None:
    _, url = driver.command("show 99")
    [reply] = driver.responses(url)
    assert reply["text"] == "DoiT has no ticket #99 that this bot can see."


def test_show_without_a_number_asks_which(driver: SlackDriver) -> None:
    _, url = driver.command("show abc")
    [reply] = driver.responses(url)
    assert "Which ticket?" in reply["text"]


@pytest.mark.parametrize("text", ["", "help", "frobnicate"])
def test_usage_for_nothing_help_or_unknown_word(driver: SlackDriver, text: str) -> None:
    _, url = driver.command(text)
    [reply] = driver.responses(url)
    body = json.dumps(reply["blocks"])
    assert "list" in body and "new" in body and "show" in body
    assert ("frobnicate" in body) == (text == "frobnicate")


def test_a_handler_crash_answers_with_a_reference_not_a_trace(
    driver: SlackDriver, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.slack import commands

    def explode(_request: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setitem(commands.SUBCOMMANDS, "list", explode)
    _, url = driver.command("list")
    [reply] = driver.responses(url)
    assert "reference" in reply["text"]
    assert "secret internals" not in json.dumps(reply)
