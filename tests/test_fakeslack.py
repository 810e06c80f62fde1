"""The fake Slack Web API, driven by the real slack_sdk WebClient over loopback HTTP."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from bot.fakeslack import DEFAULT_SCOPES, REDACTED, FakeSlack, block_problems

TITLE = {"type": "plain_text", "text": "New ticket"}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(base_url=fake.api_url, token="xoxb-test")


def slack_error(call: Any, **kwargs: Any) -> dict[str, Any]:
    """The body of the error answer a WebClient call raised."""
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return caught.value.response.data


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(*blocks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": TITLE, "blocks": list(blocks), **extra}


def berlin_offset() -> int:
    """Berlin's UTC offset now, in seconds (0 where the system has no time zone data)."""
    try:
        offset = datetime.now(ZoneInfo("Europe/Berlin")).utcoffset()
    except ZoneInfoNotFoundError:
        return 0
    return int(offset.total_seconds()) if offset is not None else 0


def post_json(url: str, body: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


# --- lifecycle ------------------------------------------------------------------------------------


def test_start_when_started_returns_api_url_under_root_url() -> None:
    fake = FakeSlack()
    api_url = fake.start()
    try:
        assert api_url == fake.api_url == fake.root_url + "/api/"
        assert fake.root_url.startswith("http://127.0.0.1:")
    finally:
        fake.stop()
    fake.stop()


def test_api_url_when_not_started_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = FakeSlack().api_url


def test_start_when_already_started_raises_runtime_error(fake: FakeSlack) -> None:
    with pytest.raises(RuntimeError, match="already started"):
        fake.start()


# --- auth -----------------------------------------------------------------------------------------


def test_auth_test_when_bot_token_answers_identity_and_scopes_header(client: WebClient) -> None:
    response = client.auth_test()

    assert response.data == {
        "ok": True,
        "url": "https://fake.slack.test/",
        "team": "Demo Workspace",
        "user": "doit",
        "team_id": "T0DEMO",
        "user_id": "U0BOT",
        "bot_id": "B0BOT",
        "is_enterprise_install": False,
    }
    assert response.headers["x-oauth-scopes"] == ",".join(DEFAULT_SCOPES)


def test_auth_test_when_user_token_answers_first_user_without_bot_id(fake: FakeSlack) -> None:
    response = WebClient(base_url=fake.api_url, token="xoxp-person").auth_test()

    assert (response["user_id"], "bot_id" in response.data) == ("U0DANA", False)
    assert fake.calls[0].token == "user"


def test_call_when_bot_token_differs_answers_invalid_auth() -> None:
    with FakeSlack(bot_token="xoxb-right") as fake:
        wrong = WebClient(base_url=fake.api_url, token="xoxb-wrong")
        right = WebClient(base_url=fake.api_url, token="xoxb-right")

        assert slack_error(wrong.auth_test) == {"ok": False, "error": "invalid_auth"}
        assert right.auth_test()["ok"] is True


def test_call_when_token_missing_answers_not_authed(fake: FakeSlack) -> None:
    assert slack_error(WebClient(base_url=fake.api_url).auth_test) == {"ok": False, "error": "not_authed"}
    assert fake.calls[0].token is None


def test_call_when_token_prefix_unknown_answers_invalid_auth(fake: FakeSlack) -> None:
    assert (
        slack_error(WebClient(base_url=fake.api_url, token="nonsense").auth_test)["error"] == "invalid_auth"
    )


def test_call_when_token_in_form_body_authenticates_and_is_not_recorded(fake: FakeSlack) -> None:
    response = WebClient(base_url=fake.api_url).api_call("auth.test", params={"token": "xoxb-in-body"})

    assert response["ok"] is True
    assert (fake.calls[0].args, fake.calls[0].token) == ({}, "bot")


def test_call_when_recorded_redacts_authorization_header(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()

    call = fake.calls[0]
    assert call.headers["authorization"] == REDACTED
    assert "xoxb-test" not in repr(call)
    assert call.token == "bot"


def test_apps_connections_open_when_app_token_answers_unused_url(fake: FakeSlack) -> None:
    response = WebClient(base_url=fake.api_url, token="xapp-1-A0-1-abc").apps_connections_open(
        app_token="xapp-1-A0-1-abc"
    )

    assert response.data == {"ok": True, "url": "ws://127.0.0.1:1/unused"}
    assert fake.calls_to("apps.connections.open")[0].token == "app"


def test_apps_connections_open_when_bot_token_answers_not_allowed_token_type(client: WebClient) -> None:
    assert slack_error(client.api_call, api_method="apps.connections.open") == {
        "ok": False,
        "error": "not_allowed_token_type",
    }


def test_call_when_app_token_on_bot_method_answers_not_allowed_token_type(fake: FakeSlack) -> None:
    app_client = WebClient(base_url=fake.api_url, token="xapp-1-x")

    assert slack_error(app_client.auth_test)["error"] == "not_allowed_token_type"


def test_apps_connections_open_when_app_token_differs_answers_invalid_auth() -> None:
    with FakeSlack(app_token="xapp-right") as fake:
        app_client = WebClient(base_url=fake.api_url, token="xapp-wrong")

        assert slack_error(app_client.api_call, api_method="apps.connections.open")["error"] == "invalid_auth"


def test_bolt_app_when_built_against_fake_verifies_token(fake: FakeSlack) -> None:
    App(
        token="xoxb-test",
        signing_secret="secret",
        client=WebClient(base_url=fake.api_url, token="xoxb-test"),
    )

    assert [call.method for call in fake.calls] == ["auth.test"]


def test_unknown_method_when_called_answers_unknown_method_and_records(
    fake: FakeSlack, client: WebClient
) -> None:
    assert slack_error(client.api_call, api_method="nope.method") == {"ok": False, "error": "unknown_method"}
    assert [call.method for call in fake.calls] == ["nope.method"]


# --- chat.postMessage -----------------------------------------------------------------------------


def test_post_message_when_valid_answers_increasing_ts_and_stores_message(
    fake: FakeSlack, client: WebClient
) -> None:
    first = client.chat_postMessage(channel="C0SUPPORT", text="hello", blocks=[section("*hello*")])
    second = client.chat_postMessage(channel="C0GENERAL", text="again")

    assert (first["ts"], second["ts"]) == ("1733300000.000100", "1733300000.000200")
    assert first.data == {
        "ok": True,
        "channel": "C0SUPPORT",
        "ts": "1733300000.000100",
        "message": {
            "type": "message",
            "text": "hello",
            "user": "U0BOT",
            "bot_id": "B0BOT",
            "app_id": "A0DEMO",
            "ts": "1733300000.000100",
            "team": "T0DEMO",
            "blocks": [section("*hello*")],
        },
    }
    assert fake.message("C0SUPPORT", first["ts"]) == first["message"]
    assert set(fake.messages) == {("C0SUPPORT", first["ts"]), ("C0GENERAL", second["ts"])}


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ("C0NOPE", "channel_not_found"),
        ("C0NOTIN", "not_in_channel"),
        ("C0ARCHIVED", "is_archived"),
        ("", "channel_not_found"),
    ],
)
def test_post_message_when_channel_unusable_answers_error(
    fake: FakeSlack, client: WebClient, channel: str, error: str
) -> None:
    assert slack_error(client.chat_postMessage, channel=channel, text="x") == {"ok": False, "error": error}
    assert fake.messages == {}


def test_post_message_when_private_channel_without_bot_answers_channel_not_found(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.add_channel("G0SECRET", name="secret", is_private=True, is_member=False)

    assert slack_error(client.chat_postMessage, channel="G0SECRET", text="x")["error"] == "channel_not_found"


def test_post_message_when_chat_write_public_scope_posts_in_unjoined_public_channel() -> None:
    with FakeSlack(scopes=(*DEFAULT_SCOPES, "chat:write.public")) as fake:
        client = WebClient(base_url=fake.api_url, token="xoxb-test")

        assert client.chat_postMessage(channel="C0NOTIN", text="x")["channel"] == "C0NOTIN"


def test_post_message_when_channel_is_user_id_or_name_resolves_it(client: WebClient) -> None:
    assert client.chat_postMessage(channel="U0LEE", text="x")["channel"] == "DU0LEE"
    assert client.chat_postMessage(channel="#support", text="x")["channel"] == "C0SUPPORT"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, "no_text"),
        ({"text": ""}, "no_text"),
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"text": "x", "blocks": [section("b")] * 51}, "invalid_blocks"),
        ({"text": "x", "blocks": [section("x" * 3001)]}, "invalid_blocks"),
        ({"text": "x", "metadata": {"event_payload": {}}}, "invalid_metadata_format"),
    ],
)
def test_post_message_when_content_invalid_answers_error(
    client: WebClient, kwargs: dict[str, Any], error: str
) -> None:
    assert slack_error(client.chat_postMessage, channel="C0SUPPORT", **kwargs)["error"] == error


def test_post_message_when_text_exactly_at_limit_succeeds(client: WebClient) -> None:
    assert client.chat_postMessage(channel="C0SUPPORT", text="x" * 40_000)["ok"] is True


def test_post_message_when_too_many_blocks_explains_in_response_metadata(client: WebClient) -> None:
    body = slack_error(client.chat_postMessage, channel="C0SUPPORT", text="x", blocks=[section("b")] * 51)

    assert body["response_metadata"] == {
        "messages": ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
    }


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_post_message_when_attachments_only_succeeds(client: WebClient) -> None:
    response = client.chat_postMessage(channel="C0SUPPORT", attachments=[{"text": "a"}])

    assert response["message"]["attachments"] == [{"text": "a"}]


def test_post_message_when_chat_write_scope_missing_answers_missing_scope() -> None:
    with FakeSlack(scopes=("users:read",)) as fake:
        client = WebClient(base_url=fake.api_url, token="xoxb-test")

        body = slack_error(client.chat_postMessage, channel="C0SUPPORT", text="x")

    assert body == {"ok": False, "error": "missing_scope", "needed": "chat:write", "provided": "users:read"}


# --- threads --------------------------------------------------------------------------------------


def test_thread_when_replies_posted_returns_them_oldest_first_without_parent(
    fake: FakeSlack, client: WebClient
) -> None:
    parent = client.chat_postMessage(channel="C0SUPPORT", text="card")["ts"]
    client.chat_postMessage(channel="C0SUPPORT", text="elsewhere")
    client.chat_postMessage(channel="C0SUPPORT", text="one", thread_ts=parent)
    client.chat_postMessage(channel="C0SUPPORT", text="two", thread_ts=parent)
    # Seeded last but older than every reply above: ordering follows ts, not arrival.
    fake.add_message("C0SUPPORT", "1733299999.000001", text="zero", user="U0DANA", thread_ts=parent)

    replies = fake.thread("C0SUPPORT", parent)

    assert [reply["text"] for reply in replies] == ["zero", "one", "two"]
    assert {reply["thread_ts"] for reply in replies} == {parent}
    assert fake.message("C0SUPPORT", parent)["reply_count"] == 3
    assert fake.thread("C0GENERAL", parent) == []


def test_conversations_replies_when_thread_exists_answers_parent_then_replies(client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0SUPPORT", text="card")["ts"]
    client.chat_postMessage(channel="C0SUPPORT", text="one", thread_ts=parent)

    response = client.conversations_replies(channel="C0SUPPORT", ts=parent)

    assert [message["text"] for message in response["messages"]] == ["card", "one"]


def test_conversations_history_when_messages_answers_top_level_newest_first(client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0SUPPORT", text="first")["ts"]
    client.chat_postMessage(channel="C0SUPPORT", text="reply", thread_ts=parent)
    client.chat_postMessage(channel="C0SUPPORT", text="second")

    response = client.conversations_history(channel="C0SUPPORT")

    assert [message["text"] for message in response["messages"]] == ["second", "first"]


# --- chat.postEphemeral, update, delete, getPermalink, unfurl -------------------------------------


def test_post_ephemeral_when_valid_answers_message_ts_and_stores_nothing(
    fake: FakeSlack, client: WebClient
) -> None:
    response = client.chat_postEphemeral(channel="C0SUPPORT", user="U0DANA", text="only you")

    assert response.data == {"ok": True, "message_ts": "1733300000.000100"}
    assert fake.messages == {}


def test_post_ephemeral_when_bot_not_in_public_channel_succeeds(client: WebClient) -> None:
    assert client.chat_postEphemeral(channel="C0NOTIN", user="U0DANA", text="x")["ok"] is True


@pytest.mark.parametrize(
    ("channel", "user", "error"),
    [
        ("C0NOPE", "U0DANA", "channel_not_found"),
        ("C0ARCHIVED", "U0DANA", "is_archived"),
        ("C0SUPPORT", "U0GHOST", "user_not_found"),
        ("DU0DANA", "U0LEE", "user_not_in_channel"),
        ("C0SUPPORT", "", "invalid_arguments"),
    ],
)
def test_post_ephemeral_when_target_unusable_answers_error(
    client: WebClient, channel: str, user: str, error: str
) -> None:
    assert slack_error(client.chat_postEphemeral, channel=channel, user=user, text="x")["error"] == error


def test_update_when_text_only_replaces_text_and_keeps_blocks(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0SUPPORT", text="old", blocks=[section("card")])["ts"]

    response = client.chat_update(channel="C0SUPPORT", ts=ts, text="new")

    assert (response["channel"], response["ts"], response["text"]) == ("C0SUPPORT", ts, "new")
    message = fake.message("C0SUPPORT", ts)
    assert (message["text"], message["blocks"]) == ("new", [section("card")])
    assert message["edited"]["user"] == "U0BOT"


def test_update_when_blocks_given_replaces_blocks(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0SUPPORT", text="t", blocks=[section("old")])["ts"]

    client.chat_update(channel="C0SUPPORT", ts=ts, text="t", blocks=[section("new")])

    assert fake.message("C0SUPPORT", ts)["blocks"] == [section("new")]


def test_update_when_message_missing_answers_message_not_found(client: WebClient) -> None:
    assert (
        slack_error(client.chat_update, channel="C0SUPPORT", ts="1.2", text="x")["error"]
        == "message_not_found"
    )


def test_update_when_someone_elses_message_answers_cant_update_message(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.add_message("C0SUPPORT", "1700000000.000001", text="mine", user="U0DANA")

    body = slack_error(client.chat_update, channel="C0SUPPORT", ts="1700000000.000001", text="x")

    assert body["error"] == "cant_update_message"
    assert fake.message("C0SUPPORT", "1700000000.000001")["text"] == "mine"


def test_delete_when_message_exists_removes_it_and_second_delete_fails(
    fake: FakeSlack, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel="C0SUPPORT", text="bye")["ts"]

    assert client.chat_delete(channel="C0SUPPORT", ts=ts).data == {
        "ok": True,
        "channel": "C0SUPPORT",
        "ts": ts,
    }
    assert fake.messages == {}
    assert slack_error(client.chat_delete, channel="C0SUPPORT", ts=ts)["error"] == "message_not_found"


def test_message_when_unknown_raises_key_error_naming_known_ts(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0SUPPORT", text="x")["ts"]

    with pytest.raises(KeyError, match=ts):
        fake.message("C0SUPPORT", "9.9")


def test_get_permalink_when_top_level_answers_archive_url(client: WebClient) -> None:
    response = client.chat_getPermalink(channel="C0SUPPORT", message_ts="1733300000.000100")

    assert response.data == {
        "ok": True,
        "channel": "C0SUPPORT",
        "permalink": "https://fake.slack.test/archives/C0SUPPORT/p1733300000000100",
    }


def test_get_permalink_when_reply_adds_thread_query(client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0SUPPORT", text="card")["ts"]
    reply = client.chat_postMessage(channel="C0SUPPORT", text="r", thread_ts=parent)["ts"]

    permalink = client.chat_getPermalink(channel="C0SUPPORT", message_ts=reply)["permalink"]

    assert permalink == (
        "https://fake.slack.test/archives/C0SUPPORT/p1733300000000200"
        "?thread_ts=1733300000.000100&cid=C0SUPPORT"
    )


def test_get_permalink_when_channel_unknown_answers_channel_not_found(client: WebClient) -> None:
    assert (
        slack_error(client.chat_getPermalink, channel="C0NOPE", message_ts="1.2")["error"]
        == "channel_not_found"
    )


def test_unfurl_when_called_records_decoded_unfurls(fake: FakeSlack, client: WebClient) -> None:
    unfurls = {"https://example.com/t/1": {"blocks": [section("ticket 1")]}}

    assert client.chat_unfurl(channel="C0SUPPORT", ts="1.2", unfurls=unfurls).data == {"ok": True}
    assert fake.calls_to("chat.unfurl")[0].args == {"channel": "C0SUPPORT", "ts": "1.2", "unfurls": unfurls}


# --- conversations --------------------------------------------------------------------------------


def test_conversations_info_when_known_answers_channel(client: WebClient) -> None:
    channel = client.conversations_info(channel="C0NOTIN")["channel"]

    assert (channel["id"], channel["name"], channel["is_member"], channel["is_archived"]) == (
        "C0NOTIN",
        "random",
        False,
        False,
    )
    assert (channel["is_channel"], channel["is_private"], channel["is_im"]) == (True, False, False)


def test_conversations_info_when_unknown_answers_channel_not_found(client: WebClient) -> None:
    assert slack_error(client.conversations_info, channel="C0NOPE")["error"] == "channel_not_found"


def test_conversations_open_when_user_known_answers_dm_id(fake: FakeSlack, client: WebClient) -> None:
    response = client.conversations_open(users="U0LEE")

    assert response["channel"] == {"id": "DU0LEE"}
    info = client.conversations_info(channel="DU0LEE")["channel"]
    assert (info["is_im"], info["user"]) == (True, "U0LEE")
    assert fake.calls_to("conversations.open")[0].args == {"users": "U0LEE"}


@pytest.mark.parametrize(("user", "error"), [("U0GHOST", "user_not_found"), ("U0BOT", "cannot_dm_bot")])
def test_conversations_open_when_user_unusable_answers_error(
    client: WebClient, user: str, error: str
) -> None:
    assert slack_error(client.conversations_open, users=user)["error"] == error


def test_conversations_members_when_everyone_answers_users_and_bot(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.add_channel("C0SMALL", name="small", members=["U0LEE"])

    assert client.conversations_members(channel="C0GENERAL")["members"] == [
        "U0DANA",
        "U0NOMAIL",
        "U0LEE",
        "U0BOT",
    ]
    assert client.conversations_members(channel="C0SMALL")["members"] == ["U0LEE", "U0BOT"]


# --- users ----------------------------------------------------------------------------------------


def test_users_info_when_known_answers_profile_with_email(client: WebClient) -> None:
    user = client.users_info(user="U0DANA")["user"]

    assert (user["id"], user["name"], user["real_name"], user["is_admin"], user["deleted"]) == (
        "U0DANA",
        "dana",
        "Dana Reyes",
        True,
        False,
    )
    assert (user["tz"], user["profile"]["email"]) == ("Europe/Berlin", "dana@example.com")
    assert user["tz_offset"] == berlin_offset()


def test_users_info_when_email_hidden_omits_profile_email(client: WebClient) -> None:
    assert "email" not in client.users_info(user="U0NOMAIL")["user"]["profile"]


def test_users_info_when_email_scope_missing_omits_profile_email() -> None:
    with FakeSlack(scopes=("users:read",)) as fake:
        user = WebClient(base_url=fake.api_url, token="xoxb-test").users_info(user="U0LEE")["user"]

    assert "email" not in user["profile"]


def test_users_info_when_unknown_answers_user_not_found(client: WebClient) -> None:
    assert slack_error(client.users_info, user="U0GHOST") == {"ok": False, "error": "user_not_found"}


def test_users_info_when_added_deleted_user_answers_deleted(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("U0GONE", name="gone", email="gone@example.com", deleted=True, tz="UTC")

    user = client.users_info(user="U0GONE")["user"]

    assert (user["deleted"], user["real_name"], user["tz_offset"]) == (True, "gone", 0)


def test_lookup_by_email_when_case_differs_finds_user(client: WebClient) -> None:
    assert client.users_lookupByEmail(email="Lee@Example.COM")["user"]["id"] == "U0LEE"


def test_lookup_by_email_when_unknown_answers_users_not_found(client: WebClient) -> None:
    assert slack_error(client.users_lookupByEmail, email="who@example.com")["error"] == "users_not_found"


def test_lookup_by_email_when_scope_missing_answers_missing_scope() -> None:
    with FakeSlack(scopes=("users:read",)) as fake:
        client = WebClient(base_url=fake.api_url, token="xoxb-test")

        body = slack_error(client.users_lookupByEmail, email="lee@example.com")

    assert (body["error"], body["needed"]) == ("missing_scope", "users:read.email")


def test_users_profile_get_when_user_given_answers_profile(client: WebClient) -> None:
    profile = client.users_profile_get(user="U0LEE")["profile"]

    assert (profile["email"], profile["real_name"], profile["display_name"]) == (
        "lee@example.com",
        "Lee Park",
        "lee",
    )


# --- views ----------------------------------------------------------------------------------------


def test_views_open_when_valid_answers_view_with_id_and_hash(fake: FakeSlack, client: WebClient) -> None:
    view = client.views_open(trigger_id="1.2.abc", view=modal(section("hi"), external_id="create-1"))["view"]

    assert (view["id"], view["hash"], view["external_id"], view["type"]) == (
        "V00000001",
        "1733300000.00000002",
        "create-1",
        "modal",
    )
    assert (view["root_view_id"], view["team_id"], view["state"]) == ("V00000001", "T0DEMO", {"values": {}})
    assert fake.views == {"V00000001": view}


def test_views_open_when_trigger_missing_answers_invalid_arguments(client: WebClient) -> None:
    assert slack_error(client.views_open, trigger_id="", view=modal())["error"] == "invalid_arguments"


def test_views_open_when_over_100_blocks_answers_invalid_blocks(fake: FakeSlack, client: WebClient) -> None:
    assert slack_error(client.views_open, trigger_id="t", view=modal(*[section("b")] * 101))["error"] == (
        "invalid_blocks"
    )
    assert fake.views == {}


@pytest.mark.parametrize(
    "view",
    [
        {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": []},
        {"type": "modal", "blocks": []},
        {"type": "home", "blocks": []},
        modal(private_metadata="x" * 3001),
        modal({"type": "input", "label": TITLE, "element": {"type": "plain_text_input", "action_id": "a"}}),
    ],
)
def test_views_open_when_view_fields_invalid_answers_invalid_arguments(
    client: WebClient, view: dict[str, Any]
) -> None:
    body = slack_error(client.views_open, trigger_id="t", view=view)

    assert body["error"] == "invalid_arguments"
    assert len(body["response_metadata"]["messages"]) == 1


def test_views_open_when_external_id_reused_answers_duplicate_external_id(client: WebClient) -> None:
    client.views_open(trigger_id="t1", view=modal(external_id="same"))

    assert slack_error(client.views_open, trigger_id="t2", view=modal(external_id="same"))["error"] == (
        "duplicate_external_id"
    )


def test_views_update_when_by_view_id_replaces_view_and_changes_hash(
    fake: FakeSlack, client: WebClient
) -> None:
    opened = client.views_open(trigger_id="t", view=modal(section("loading"), external_id="e1"))["view"]

    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal(section("done")))[
        "view"
    ]

    assert (updated["id"], updated["external_id"], updated["blocks"]) == (
        opened["id"],
        "e1",
        [section("done")],
    )
    assert updated["hash"] != opened["hash"]
    assert fake.views[opened["id"]] == updated


def test_views_update_when_by_external_id_replaces_view(fake: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(trigger_id="t", view=modal(section("loading"), external_id="e1"))["view"]

    client.views_update(external_id="e1", view=modal(section("done")))

    assert fake.views[opened["id"]]["blocks"] == [section("done")]


def test_views_update_when_hash_stale_answers_hash_conflict(fake: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(trigger_id="t", view=modal(section("v1")))["view"]
    client.views_update(view_id=opened["id"], view=modal(section("v2")))

    body = slack_error(
        client.views_update, view_id=opened["id"], hash=opened["hash"], view=modal(section("v3"))
    )

    assert body["error"] == "hash_conflict"
    assert fake.views[opened["id"]]["blocks"] == [section("v2")]


def test_views_update_when_view_unknown_answers_not_found(client: WebClient) -> None:
    assert slack_error(client.views_update, view_id="V0NOPE", view=modal())["error"] == "not_found"
    assert slack_error(client.views_update, external_id="nope", view=modal())["error"] == "not_found"


def test_views_push_when_valid_answers_new_view(fake: FakeSlack, client: WebClient) -> None:
    first = client.views_open(trigger_id="t1", view=modal(section("one")))["view"]

    pushed = client.views_push(trigger_id="t2", view=modal(section("two")))["view"]

    assert pushed["id"] != first["id"]
    assert set(fake.views) == {first["id"], pushed["id"]}


def test_views_publish_when_republished_keeps_view_id_and_replaces_content(
    fake: FakeSlack, client: WebClient
) -> None:
    first = client.views_publish(user_id="U0DANA", view={"type": "home", "blocks": [section("v1")]})["view"]

    second = client.views_publish(user_id="U0DANA", view={"type": "home", "blocks": [section("v2")]})["view"]

    assert second["id"] == first["id"]
    assert fake.home("U0DANA")["blocks"] == [section("v2")]
    with pytest.raises(KeyError):
        fake.home("U0LEE")


def test_views_publish_when_user_unknown_answers_user_not_found(client: WebClient) -> None:
    body = slack_error(client.views_publish, user_id="U0GHOST", view={"type": "home", "blocks": []})

    assert body["error"] == "user_not_found"


# --- failure injection ----------------------------------------------------------------------------


def test_fail_when_set_fails_next_calls_then_recovers(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", "fatal_error", times=2)

    assert slack_error(client.chat_postMessage, channel="C0SUPPORT", text="x") == {
        "ok": False,
        "error": "fatal_error",
    }
    assert slack_error(client.chat_postMessage, channel="C0SUPPORT", text="x")["error"] == "fatal_error"
    assert client.chat_postMessage(channel="C0SUPPORT", text="x")["ok"] is True
    assert len(fake.messages) == 1


def test_fail_when_channel_given_fails_only_that_channel(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", "restricted_action", channel="C0GENERAL")

    assert client.chat_postMessage(channel="C0SUPPORT", text="x")["ok"] is True
    assert slack_error(client.chat_postMessage, channel="C0GENERAL", text="x")["error"] == "restricted_action"


def test_fail_when_times_not_positive_raises_value_error(fake: FakeSlack) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        fake.fail("chat.postMessage", "x", times=0)


def test_rate_limit_when_retry_handler_retries_and_second_call_succeeds(fake: FakeSlack) -> None:
    fake.rate_limit("chat.postMessage", retry_after=0)
    client = WebClient(
        base_url=fake.api_url,
        token="xoxb-test",
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )

    response = client.chat_postMessage(channel="C0SUPPORT", text="x")

    calls = fake.calls_to("chat.postMessage")
    assert [call.response for call in calls] == [{"ok": False, "error": "ratelimited"}, response.data]
    assert response["ok"] is True
    assert len(fake.messages) == 1


def test_rate_limit_when_no_retry_handler_raises_429_with_retry_after(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.rate_limit("users.info", retry_after=7)

    with pytest.raises(SlackApiError) as caught:
        client.users_info(user="U0DANA")

    response = caught.value.response
    assert (response.status_code, response.headers["Retry-After"], response.data) == (
        429,
        "7",
        {"ok": False, "error": "ratelimited"},
    )


def test_fail_http_when_set_answers_plain_text_status(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_http("views.open", 503)

    with pytest.raises(SlackApiError) as caught:
        client.views_open(trigger_id="t", view=modal())

    assert caught.value.response.status_code == 503
    assert fake.calls[0].response == {"ok": False, "status": 503, "body": "fake HTTP 503 for views.open"}
    assert client.views_open(trigger_id="t", view=modal())["ok"] is True


# --- wait_for and clear ---------------------------------------------------------------------------


def test_wait_for_when_call_arrives_later_returns_it(fake: FakeSlack, client: WebClient) -> None:
    worker = threading.Timer(0.05, lambda: client.chat_postMessage(channel="C0SUPPORT", text="late"))
    worker.start()

    calls = fake.wait_for("chat.postMessage", timeout=5)

    worker.join()
    assert [call.args["text"] for call in calls] == ["late"]


def test_wait_for_when_timeout_raises_listing_received_calls(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    slack_error(client.chat_postMessage, channel="C0NOTIN", text="x")

    with pytest.raises(AssertionError) as caught:
        fake.wait_for("views.open", count=2, timeout=0.05)

    assert str(caught.value) == (
        "expected 2 call(s) to views.open within 0.05s, got 0; "
        "fake Slack received: auth.test (ok), chat.postMessage (not_in_channel)"
    )


def test_concurrent_posts_when_many_threads_get_unique_ts(fake: FakeSlack) -> None:
    def post(index: int) -> None:
        WebClient(base_url=fake.api_url, token="xoxb-test").chat_postMessage(
            channel="C0SUPPORT", text=str(index)
        )

    workers = [threading.Thread(target=post, args=(index,)) for index in range(20)]
    for worker in workers:
        worker.start()

    calls = fake.wait_for("chat.postMessage", count=20)

    for worker in workers:
        worker.join()
    assert len(calls) == 20
    assert len({ts for _, ts in fake.messages}) == 20


def test_clear_when_called_forgets_calls_but_keeps_messages(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0SUPPORT", text="keep")["ts"]

    fake.clear()

    assert fake.calls == []
    assert fake.message("C0SUPPORT", ts)["text"] == "keep"


# --- response_url ---------------------------------------------------------------------------------


def test_response_url_when_posted_records_body_and_answers_ok(fake: FakeSlack) -> None:
    url = fake.response_url("create")
    body = {"replace_original": True, "response_type": "ephemeral", "text": "done", "blocks": [section("d")]}

    assert post_json(url, body) == (200, "ok")
    assert url.startswith(fake.root_url + "/response/create/")
    [call] = fake.calls_to("response_url")
    assert (call.args, call.token) == ({**body, "_url": url}, None)


def test_response_url_when_fresh_differs_each_time(fake: FakeSlack) -> None:
    assert fake.response_url() != fake.response_url()


def test_response_url_when_never_issued_answers_404_unrecorded(fake: FakeSlack) -> None:
    assert post_json(fake.root_url + "/response/made-up", {"text": "x"}) == (404, "no_service")
    assert fake.calls == []


def test_response_url_when_failed_answers_404_with_error(fake: FakeSlack) -> None:
    url = fake.response_url()
    fake.fail("response_url", "expired_url")

    assert post_json(url, {"delete_original": True}) == (404, "expired_url")
    assert post_json(url, {"delete_original": True}) == (200, "ok")


def test_response_url_when_form_payload_decodes_it(fake: FakeSlack) -> None:
    url = fake.response_url()
    data = "payload=" + urllib.parse.quote(json.dumps({"text": "x", "blocks": [section("s")]}))
    request = urllib.request.Request(url, data=data.encode(), method="POST")

    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200

    assert fake.calls[0].args == {"text": "x", "blocks": [section("s")], "_url": url}


# --- request bodies -------------------------------------------------------------------------------


def test_form_and_json_bodies_when_same_arguments_record_same_args(
    fake: FakeSlack, client: WebClient
) -> None:
    blocks = [section("hi")]
    client.api_call(
        "chat.postMessage", params={"channel": "C0SUPPORT", "text": "t", "blocks": json.dumps(blocks)}
    )
    client.api_call("chat.postMessage", json={"channel": "C0SUPPORT", "text": "t", "blocks": blocks})

    form_call, json_call = fake.calls_to("chat.postMessage")
    assert form_call.args == json_call.args == {"channel": "C0SUPPORT", "text": "t", "blocks": blocks}
    assert form_call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert json_call.headers["content-type"] == "application/json;charset=utf-8"
    assert [message["blocks"] for message in fake.messages.values()] == [blocks, blocks]


def test_form_body_when_view_is_json_string_decodes_view(fake: FakeSlack, client: WebClient) -> None:
    response = client.api_call(
        "views.open", params={"trigger_id": "t", "view": json.dumps(modal(section("x")))}
    )

    assert response["view"]["blocks"] == [section("x")]
    assert fake.calls[0].args["view"] == modal(section("x"))


def test_form_body_when_blocks_not_json_answers_invalid_blocks_format(client: WebClient) -> None:
    params = {"channel": "C0SUPPORT", "text": "t", "blocks": "[oops"}

    body = slack_error(client.api_call, api_method="chat.postMessage", params=params)

    assert body == {"ok": False, "error": "invalid_blocks_format"}


def test_multipart_body_when_file_sent_records_fields(fake: FakeSlack, client: WebClient) -> None:
    # An unknown method to the fake, but the body is still decoded and recorded.
    slack_error(
        client.api_call,
        api_method="files.upload",
        data={"channels": "C0SUPPORT"},
        files={"file": b"log line\n"},
    )

    assert fake.calls[0].args == {"channels": "C0SUPPORT", "file": b"log line\n"}


def test_query_string_when_present_merges_into_args(fake: FakeSlack) -> None:
    request = urllib.request.Request(
        fake.api_url + "users.info?user=U0LEE", headers={"Authorization": "Bearer xoxb-test"}
    )

    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["user"]["id"] == "U0LEE"


def test_json_body_when_malformed_answers_invalid_json(fake: FakeSlack) -> None:
    request = urllib.request.Request(
        fake.api_url + "auth.test",
        data=b"{nope",
        headers={"Content-Type": "application/json", "Authorization": "Bearer xoxb-test"},
    )

    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read()) == {"ok": False, "error": "invalid_json"}


# --- block checks ---------------------------------------------------------------------------------


def test_block_problems_when_limits_broken_lists_each_with_pointer() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
        {"type": "input", "label": TITLE, "element": {"type": "plain_text_input", "initial_value": ""}},
        {
            "type": "actions",
            "block_id": "b",
            "elements": [
                {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "ok"}},
                {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "x" * 76}},
            ],
        },
        {"type": "divider", "block_id": "b"},
    ]

    assert block_problems(blocks, "/blocks", 50) == [
        "[ERROR] must be at most 150 characters [json-pointer:/blocks/0/text/text]",
        "[ERROR] must be at least 1 character(s) [json-pointer:/blocks/1/element/initial_value]",
        "[ERROR] action_id must be unique within the block [json-pointer:/blocks/2/elements]",
        "[ERROR] must be at most 75 characters [json-pointer:/blocks/2/elements/1/text/text]",
        "[ERROR] duplicate block_id [json-pointer:/blocks/3/block_id]",
    ]


def test_block_problems_when_blocks_valid_returns_empty() -> None:
    options = [{"text": {"type": "plain_text", "text": "GCP"}, "value": "google_cloud"}]
    blocks = [
        section("x" * 3000),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 10},
        {"type": "input", "label": TITLE, "element": {"type": "static_select", "options": options}},
        {"type": "divider"},
    ]

    assert block_problems(blocks, "/blocks", 50) == []
