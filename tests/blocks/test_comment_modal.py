import pytest

from bot.blocks import ids
from bot.blocks.comment_modal import CommentTarget, comment_from_state, comment_modal, comment_target
from bot.blocks.limits import view_problems


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def test_comment_modal_when_built_has_one_multiline_input_and_metadata():
    view = comment_modal(123, "VPN <down>", channel_id="C0SUPPORT", thread_ts="1722520000.000100")

    assert view_problems(view) == []
    assert view == {
        "type": "modal",
        "callback_id": ids.COMMENT_CALLBACK,
        "title": _plain("Comment on ticket"),
        "submit": _plain("Add comment"),
        "close": _plain("Cancel"),
        "private_metadata": '{"ticket_id":123,"channel":"C0SUPPORT","thread_ts":"1722520000.000100"}',
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Ticket *#123*: VPN &lt;down&gt;"}]},
            {
                "type": "input",
                "block_id": ids.COMMENT,
                "label": _plain("Comment"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.COMMENT_INPUT,
                    "multiline": True,
                    "max_length": 3000,
                    "placeholder": _plain("Your reply to DoiT support"),
                },
            },
        ],
    }


def test_comment_modal_when_notice_given_shows_it_and_says_try_again():
    view = comment_modal(7, "😀" * 1600, notice="DoiT is down & <slow>")

    assert view_problems(view) == []
    assert view["blocks"][0] == {
        "type": "section",
        "block_id": ids.NOTICE,
        "text": {"type": "mrkdwn", "text": ":warning: DoiT is down &amp; &lt;slow&gt;"},
    }
    assert view["submit"] == _plain("Try again")
    assert view["private_metadata"] == '{"ticket_id":7,"channel":null,"thread_ts":null}'
    assert view["blocks"][1]["elements"][0]["text"] == "Ticket *#7*: " + "😀" * 249 + "…"


def test_comment_target_when_metadata_from_modal_reads_it_back():
    view = comment_modal(123, "s", channel_id="C0SUPPORT", thread_ts="1.2")

    assert comment_target(view["private_metadata"]) == CommentTarget(123, "C0SUPPORT", "1.2")
    assert comment_target('{"ticket_id":"9","channel":""}') == CommentTarget(9)


@pytest.mark.parametrize("metadata", ["", "[]", '{"channel":"C1"}', '{"ticket_id":"x"}'])
def test_comment_target_when_metadata_broken_raises(metadata):
    with pytest.raises(ValueError, match="no ticket id"):
        comment_target(metadata)


def test_comment_from_state_when_value_present_returns_it():
    values = {ids.COMMENT: {ids.COMMENT_INPUT: {"type": "plain_text_input", "value": "Still broken"}}}

    assert comment_from_state(values) == "Still broken"
    assert comment_from_state({}) == ""
    assert comment_from_state({ids.COMMENT: {ids.COMMENT_INPUT: {"value": None}}}) == ""
