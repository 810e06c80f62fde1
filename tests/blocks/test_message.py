import pytest

from bot.blocks.message import Message
from bot.blocks.text import ELLIPSIS


def test_message_as_kwargs_when_built_returns_text_and_blocks():
    blocks = [{"type": "divider"}]

    assert Message(text="hi", blocks=blocks).as_kwargs() == {"text": "hi", "blocks": blocks}


@pytest.mark.parametrize("text", ["", "  \n"])
def test_message_when_text_blank_raises(text):
    with pytest.raises(ValueError, match="non-empty text"):
        Message(text=text, blocks=[])


def test_message_when_text_over_3000_cuts_it_without_splitting_entities():
    message = Message(text="a" * 2997 + "&amp;bc", blocks=[])

    assert message.text == "a" * 2997 + ELLIPSIS
