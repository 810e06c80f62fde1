"""`doit-slack try`: the real app against the sandbox and the fake Slack, printed for a terminal."""

from __future__ import annotations

import io
import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from bot.tryout import run_try
from bot.tryout.render import Names, builder_link, format_slack_date, mrkdwn_text, view_payload
from bot.tryout.session import SAMPLE_COMMENT, TrySession, join_words, split_line

BUILDER = "└ Block Kit Builder: https://app.slack.com/block-kit-builder/#"
TICKET_LINE = re.compile(r"^│ .+ \(https://app\.doit\.com/customers/\w+/support/tickets/(\d+)\)  #\1$")
NAMES = Names(user=lambda user_id: {"U0DANA": "dana"}.get(user_id, user_id), channel=lambda _: "support")


def run(*line: str, demo: bool = False, stdin: str = "") -> tuple[int, list[str]]:
    out = io.StringIO()
    code = run_try(list(line), demo=demo, out=out, stdin=io.StringIO(stdin))
    return code, out.getvalue().splitlines()


def builder_payloads(lines: list[str]) -> list[dict]:
    return [json.loads(unquote(line.removeprefix(BUILDER))) for line in lines if line.startswith(BUILDER)]


# --- one-shot, prompt and demo --------------------------------------------------------------------------


def test_run_try_when_one_shot_list_prints_header_ticket_lines_and_a_builder_link() -> None:
    code, lines = run("/doit list severity:high")

    assert code == 0
    assert lines[1:5] == [
        "── Reply only you can see ──",
        "│ DoiT tickets",
        "│ ════════════",
        "│   tickets of high severity · Showing 1–10 (page 1)",
    ]
    assert len([line for line in lines if TICKET_LINE.match(line)]) == 10
    payloads = builder_payloads(lines)
    assert len(payloads) == 1
    assert payloads[0]["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "DoiT tickets", "emoji": True},
    }


def test_run_try_when_words_come_separately_joins_them_into_one_line() -> None:
    code, lines = run("list", "severity:high")

    assert code == 0
    assert lines[4] == "│   tickets of high severity · Showing 1–10 (page 1)"


def test_run_try_when_the_subcommand_is_unknown_prints_the_bots_usage() -> None:
    code, lines = run("/doit frobnicate")

    assert code == 0
    assert lines[1:3] == [
        "── Reply only you can see ──",
        "│ I don't know `frobnicate`. Here is what `/doit` can do:",
    ]
    assert "│ • `/doit show <id>`: one ticket with its latest comments" in lines


def test_run_try_when_another_slash_command_is_typed_says_only_doit_is_installed() -> None:
    code, lines = run("/jira list")

    assert code == 0
    assert lines == ["", "  Only /doit is installed in this stand-in Slack, so /jira goes nowhere."]


def test_run_try_when_submit_comes_before_any_form_says_to_open_one() -> None:
    code, lines = run("submit")

    assert code == 0
    assert lines == ["", "  No form is open: type /doit new [subject] first."]


def test_run_try_when_lines_are_piped_in_runs_each_until_exit() -> None:
    code, lines = run(stdin="list severity:high\nclick Next\nexit\nlist open\n")

    contexts = [line for line in lines if "tickets of high severity" in line or "open tickets" in line]
    assert code == 0
    assert contexts == [
        "│   tickets of high severity · Showing 1–10 (page 1)",
        "│   tickets of high severity · Showing 11–20 (page 2)",
    ]
    assert "── Replaces the message you clicked, only you see it ──" in lines


def test_run_try_when_home_is_typed_shows_the_home_tab_and_its_button_opens_the_form() -> None:
    code, lines = run(stdin="home\nclick New ticket\n")

    assert code == 0
    assert lines[1:5] == ["doit> home", "", "── Your Home tab shows ──", "│ ┌ Home tab"]  # piped lines echoed
    assert "│ [New ticket]" in lines
    assert lines.count("── A modal opens ──") == 1
    assert "│ ┌ New DoiT ticket" in lines


def test_try_session_when_the_comment_form_is_submitted_adds_the_sample_comment_in_doit() -> None:
    with TrySession(tickets=20) as session:
        ticket_id = session.sample_ticket_id()
        session.send(f"/doit show {ticket_id}")
        opened = session.click("Add comment")
        replies = session.submit()
        comments = session.sandbox.comments(ticket_id)

    assert [reply.where for reply in opened] == ["A modal opens"]
    assert [reply.where for reply in replies] == [
        "note",  # which values `submit` typed in
        "The form, as soon as you submit it",
        "The modal changes to",
    ]
    assert SAMPLE_COMMENT in comments[-1]["body"]


def test_run_try_when_demo_runs_files_the_ticket_and_shows_the_card(
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()

    code, lines = run(demo=True)

    elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed < 10
    for expected in (
        "doit> /doit help",
        "doit> /doit list open",
        "doit> /doit new VPN down in eu-west-1",
        "── A modal opens ──",
        "│   [ VPN down in eu-west-1 ]",
        "doit> submit",
        "── The form, as soon as you submit it ──",
        "│ ⏳ Filing your ticket…",
        "── Posted in #support ──",
        "│   Severity: 🟡 Normal (P3)",  # the form's own default: submit only fills empty inputs
        "── The modal changes to ──",
        "│ ┌ Ticket filed",
        "│ I posted the ticket card in #support.",
    ):
        assert expected in lines, expected
    assert any(line.startswith("│ ✅ Filed DoiT ticket #") for line in lines)
    assert lines[-1] == "That was the tour. Run `doit-slack try` to type your own commands."
    assert "Traceback" not in capsys.readouterr().err


def test_run_try_when_environment_and_env_file_hold_bad_settings_ignores_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=not-a-bot-token\nDATABASE_URL=mysql://nope\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PORT", "not-a-port")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-from-the-environment")
    monkeypatch.setenv("DOIT_TENANT_ID", "a-tenant-the-sandbox-never-heard-of")

    code, lines = run("/doit list severity:high")

    assert code == 0
    assert lines[4] == "│   tickets of high severity · Showing 1–10 (page 1)"


# --- rendering ------------------------------------------------------------------------------------------


def test_mrkdwn_text_when_it_holds_links_mentions_and_escapes_makes_them_readable() -> None:
    text = (
        "*<https://x.test/1|VPN &amp; DNS>* by <@U0DANA> in <#C0SUPPORT> &lt;!channel&gt; <!here> :warning:"
    )

    assert mrkdwn_text(text, NAMES) == "VPN & DNS (https://x.test/1) by @dana in #support <!channel> @here ⚠️"


def test_mrkdwn_text_when_it_holds_a_date_token_shows_the_local_time() -> None:
    moment = datetime(2026, 11, 3, 14, 5).astimezone()

    shown = mrkdwn_text(
        f"<!date^{int(moment.timestamp())}^{{date_num}} at {{time}}|2026-11-03 13:05 UTC>", NAMES
    )

    assert shown == "2026-11-03 at 14:05"


def test_format_slack_date_when_pretty_shows_today_and_yesterday_in_words() -> None:
    now = datetime(2026, 12, 4, 12, 0).astimezone()

    shown = [
        format_slack_date(now - timedelta(days=days), "{date_short_pretty}", now=now) for days in (0, 1, 9)
    ]

    assert shown == ["today", "yesterday", "Nov 25, 2026"]


def test_builder_link_when_decoded_gives_back_the_payload() -> None:
    view = {
        "type": "modal",
        "id": "V1",
        "hash": "h",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": [],
    }

    link = builder_link(view_payload(view))

    assert json.loads(unquote(link.removeprefix("https://app.slack.com/block-kit-builder/#"))) == {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": [],
    }


def test_split_line_when_no_slash_command_is_typed_means_doit() -> None:
    assert [split_line(line) for line in ("/DoIt list open", "show 12", "")] == [
        ("/doit", "list open"),
        ("/doit", "show 12"),
        ("/doit", ""),
    ]


def test_join_words_when_the_shell_split_a_phrase_quotes_it_again() -> None:
    assert [join_words(["/doit list open"]), join_words(["list", "vpn down", "open"])] == [
        "/doit list open",
        'list "vpn down" open',
    ]
