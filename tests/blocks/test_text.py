from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.blocks.text import (
    ELLIPSIS,
    bold,
    channel_mention,
    escape,
    fit_mrkdwn,
    html_to_text,
    link,
    mention,
    mrkdwn,
    plain,
    safe_url,
    slack_date,
    slack_length,
    truncate,
)

HOSTILE = "<!channel> VPN down & <https://evil.example|reset password> if a<b"


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_escape_when_hostile_subject_leaves_no_control_characters():
    escaped = escape(HOSTILE)

    assert escaped == (
        "&lt;!channel&gt; VPN down &amp; &lt;https://evil.example|reset password&gt; if a&lt;b"
    )
    assert "<" not in escaped and ">" not in escaped
    assert _unescape(escaped) == HOSTILE


def test_slack_length_when_astral_emoji_counts_two():
    assert slack_length("a😀é") == 4


def test_truncate_when_short_returns_text_unchanged():
    assert truncate("VPN down", 8) == "VPN down"


def test_truncate_when_long_ends_in_ellipsis_within_limit():
    assert truncate("VPN down again", 9) == "VPN down" + ELLIPSIS


def test_truncate_when_cut_after_space_drops_trailing_space():
    assert truncate("abc defgh", 5) == "abc" + ELLIPSIS


def test_truncate_when_1600_emoji_fits_3000_counting_astral_twice():
    cut = truncate("😀" * 1600, 3000)

    assert cut == "😀" * 1499 + ELLIPSIS
    assert slack_length(cut) == 2999


def test_truncate_when_cut_after_zero_width_joiner_drops_the_joiner():
    family = "👩\u200d👩\u200d👧"

    assert truncate(family * 3, 6) == "👩\u200d👩" + ELLIPSIS


def test_truncate_when_limit_below_one_raises():
    with pytest.raises(ValueError, match="at least 1"):
        truncate("x", 0)


def test_mrkdwn_when_cut_would_split_an_entity_backs_off_before_it():
    assert mrkdwn("ab&cd", 6) == "ab" + ELLIPSIS
    assert mrkdwn("ab&cd", 8) == "ab&amp;" + ELLIPSIS
    assert mrkdwn("a<b", 10) == "a&lt;b"


def test_mrkdwn_when_long_text_of_entities_never_ends_in_a_partial_entity():
    for limit in range(2, 40):
        cut = mrkdwn("<>&" * 20, limit)
        assert slack_length(cut) <= limit
        body = cut.removesuffix(ELLIPSIS)
        assert body.replace("&lt;", "").replace("&gt;", "").replace("&amp;", "") == ""


def test_fit_mrkdwn_when_cut_falls_in_a_link_drops_the_whole_link():
    assert fit_mrkdwn("see <https://x.example|here> now", 20) == "see" + ELLIPSIS


def test_plain_when_blank_returns_placeholder():
    assert plain("   \n", 150) == "(no subject)"
    assert plain(None, 150, placeholder="(none)") == "(none)"


def test_plain_when_long_strips_and_cuts():
    assert plain("  VPN down  ", 150) == "VPN down"
    assert plain("x" * 200, 150) == "x" * 149 + ELLIPSIS


@pytest.mark.parametrize(
    "url",
    [
        "https://console.doit.com/support/tickets/1",
        "http://localhost:8080/t?id=1&x=2",
        "HTTPS://console.doit.com/",
    ],
)
def test_safe_url_when_http_with_host_returns_it(url):
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "ftp://x",
        "https://",
        "https:///path",
        "https://a.example/x y",
        "https://a.example/\nx",
        "https://a.example/<x>",
        "https://a.example/|x",
        "https://[::1",
        "mailto:a@example.com",
        "https://a.example/" + "x" * 3000,
    ],
)
def test_safe_url_when_unsafe_returns_none(url):
    assert safe_url(url) is None


def test_link_when_url_safe_escapes_label_only():
    assert link("https://a.example/?a=1&b=2", "a<b", 100) == "<https://a.example/?a=1&b=2|a&lt;b>"


def test_link_when_url_unsafe_returns_escaped_label():
    assert link("javascript:alert(1)", "a<b", 100) == "a&lt;b"
    assert link(None, "", 100) == "(no subject)"


def test_link_when_label_long_cuts_label_to_fit_limit():
    result = link("https://a.example/", "x" * 100, 40)

    assert result == "<https://a.example/|" + "x" * 18 + ELLIPSIS + ">"
    assert slack_length(result) == 40


def test_link_when_url_leaves_no_room_shows_label_alone():
    assert link("https://a.example/" + "x" * 100, "label", 50) == "label"


def test_slack_date_when_aware_uses_epoch_and_utc_fallback():
    moment = datetime(2026, 8, 1, 16, 5, tzinfo=timezone(timedelta(hours=2)))

    assert slack_date(moment) == "<!date^1785593100^{date_short_pretty} at {time}|2026-08-01 14:05 UTC>"


def test_slack_date_when_naive_treats_it_as_utc():
    assert slack_date(datetime(2026, 8, 1, 14, 5), "{date}") == slack_date(
        datetime(2026, 8, 1, 14, 5, tzinfo=UTC), "{date}"
    )
    assert slack_date(datetime(1970, 1, 1), "{date}") == "<!date^0^{date}|1970-01-01 00:00 UTC>"


def test_mention_when_user_id_returns_mention():
    assert mention("U012AB3CD") == "<@U012AB3CD>"


def test_mention_when_not_an_id_returns_escaped_text():
    assert mention("<!channel>") == "&lt;!channel&gt;"
    assert channel_mention("C0123ABC") == "<#C0123ABC>"
    assert channel_mention("#general|x") == "#general|x"


def test_slack_date_when_fallback_format_given_uses_it():
    assert slack_date(datetime(2026, 8, 1, 14, 5), "{date_short}", fallback="%Y-%m-%d") == (
        "<!date^1785593100^{date_short}|2026-08-01>"
    )


def test_html_to_text_when_plain_text_keeps_it():
    assert html_to_text("if a<b then  \r\n\r\n\r\n\r\nstop ") == "if a<b then\n\nstop"


def test_html_to_text_when_html_keeps_text_and_line_breaks():
    body = (
        "<p>Hello&nbsp;world</p>\n<p>two\nwords<br>next</p>"
        "<ul><li>one</li><li>two</li></ul><script>x()</script>"
    )

    assert html_to_text(body) == "Hello world\n\ntwo words\nnext\n\n• one\n• two"


def test_html_to_text_when_entities_decode_to_raw_characters():
    assert html_to_text("<div>a &lt;!channel&gt; &amp; b</div>") == "a <!channel> & b"


def test_bold_when_text_has_no_marks_wraps_it() -> None:
    assert bold("Disk full", "Disk full") == "*Disk full*"


def test_bold_when_text_has_its_own_marks_leaves_it_plain() -> None:
    assert bold("Fix *this* now", "Fix *this* now") == "Fix *this* now"


def test_html_to_text_keeps_link_addresses_and_preformatted_lines() -> None:
    body = (
        '<p>See <a href="https://example.com/d?a=1&amp;b=2">the dashboard</a></p>'
        "<pre>ERROR one\nERROR two</pre>"
    )
    assert html_to_text(body) == "See the dashboard (https://example.com/d?a=1&b=2)\n\nERROR one\nERROR two"


def test_html_to_text_drops_unsafe_link_addresses() -> None:
    assert html_to_text('<a href="javascript:alert(1)">click</a>') == "click"
