from __future__ import annotations

from bot.blocks import ids
from bot.blocks.card_actions import action_reply, comment_echo, notice_modal
from bot.blocks.comment_modal import comment_modal
from bot.blocks.limits import message_problems, view_problems


def test_comment_echo_when_text_is_hostile_escapes_it_and_names_the_author() -> None:
    message = comment_echo(42, "U0DANA", "<!channel> & <https://evil.example|click>")

    assert message.blocks[0]["elements"][0]["text"] == "<@U0DANA> added a comment to DoiT ticket #42:"
    assert message.blocks[1]["text"]["text"] == "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    assert message.text == (
        "<@U0DANA> commented on DoiT ticket #42: &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    )


def test_comment_echo_when_escaping_outgrows_a_section_splits_it_without_breaking_entities() -> None:
    message = comment_echo(42, "U0DANA", "a&" * 1500)

    chunks = [block["text"]["text"] for block in message.blocks[1:]]
    assert "".join(chunks) == "a&amp;" * 1500
    assert [len(chunk) for chunk in chunks] == [3000, 3000, 3000]
    assert message_problems(message.text, message.blocks) == []


def test_comment_echo_when_it_needs_more_than_three_sections_cuts_the_rest() -> None:
    message = comment_echo(42, "U0DANA", "<" * 3000)

    chunks = [block["text"]["text"] for block in message.blocks[1:]]
    assert len(chunks) == 3
    assert chunks[-1].endswith("&lt;…")
    assert message_problems(message.text, message.blocks) == []


def test_action_reply_marks_success_and_information_differently() -> None:
    assert action_reply("Done.").blocks[0]["text"]["text"] == ":white_check_mark: Done."
    assert (
        action_reply("Not allowed.", ok=False).blocks[0]["text"]["text"]
        == ":information_source: Not allowed."
    )


def test_notice_modal_has_one_sentence_and_a_close_button() -> None:
    view = notice_modal("A title far longer than twenty-four characters", "Ticket *#7* is closed.")

    assert view["title"]["text"] == "A title far longer than…"
    assert view["close"]["text"] == "Close"
    assert "submit" not in view
    assert view["blocks"][0]["text"]["text"] == ":information_source: Ticket *#7* is closed."
    assert view_problems(view) == []


def test_comment_modal_with_initial_comment_fills_the_comment_input_only() -> None:
    view = comment_modal(7, "Subject", notice="DoiT is down.", initial_comment="My words")

    comment = next(block for block in view["blocks"] if block.get("block_id") == ids.COMMENT)
    assert comment["element"]["initial_value"] == "My words"
    assert view_problems(view) == []


def test_comment_modal_with_blank_initial_comment_leaves_the_key_out() -> None:
    view = comment_modal(7, "Subject", initial_comment="  ")

    comment = next(block for block in view["blocks"] if block.get("block_id") == ids.COMMENT)
    assert "initial_value" not in comment["element"]
