from bot.blocks.help import error_message, query_error_message, usage_message
from bot.blocks.limits import message_problems
from bot.blocks.message import Message


def _valid(message: Message) -> Message:
    assert message_problems(message.text, message.blocks) == []
    return message


USAGE = (
    "• `/doit new [subject]`: file a ticket (a form opens, with the subject filled in)\n"
    "• `/doit list [query]`: list tickets, for example `/doit list open`, `severity:high platform:aws`, "
    '`since:7d`, `mine` or `"vpn down"`; add `in:channel` to post the list for everyone here\n'
    "• `/doit show &lt;id&gt;`: one ticket with its latest comments\n"
    "• `/doit subscribe [query]`: post new and changed tickets in this channel\n"
    "• `/doit subscriptions`: this channel's subscriptions, numbered\n"
    "• `/doit unsubscribe &lt;n|all&gt;`: stop subscription number n, or all of them\n"
    "• `/doit help`: this message"
)


def test_usage_message_when_called_lists_every_subcommand():
    message = _valid(usage_message())

    assert message.text == "Here is what `/doit` can do:"
    assert message.blocks == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Here is what `/doit` can do:"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": USAGE}},
    ]


def test_usage_message_when_unknown_subcommand_starts_with_it_escaped():
    message = _valid(usage_message("/support", unknown="<!channel> `rm`"))

    assert message.text == "I don't know `&lt;!channel&gt; 'rm'`. Here is what `/support` can do:"
    assert message.blocks[1]["text"]["text"].startswith("• `/support new [subject]`")


def test_usage_message_when_unknown_is_long_cuts_it():
    message = _valid(usage_message(unknown="x" * 500))

    assert message.text == "I don't know `" + "x" * 99 + "…`. Here is what `/doit` can do:"


def test_query_error_message_when_called_says_problem_and_syntax():
    message = _valid(query_error_message("unknown key <x>", "`status:open`, `since:7d`"))

    assert message.text == "I couldn't read that query: unknown key &lt;x&gt;"
    assert message.blocks == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": ":warning: I couldn't read that query: unknown key &lt;x&gt;"},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "*What works:*\n`status:open`, `since:7d`"}},
    ]


def test_error_message_when_sentence_given_is_one_escaped_section():
    message = _valid(error_message("DoiT said <no> & stopped."))

    assert message.text == "DoiT said &lt;no&gt; &amp; stopped."
    assert message.blocks == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": ":warning: DoiT said &lt;no&gt; &amp; stopped."},
        }
    ]


def test_error_message_when_blank_uses_a_generic_sentence():
    assert error_message(" ").text == "Something went wrong. Please try again."
