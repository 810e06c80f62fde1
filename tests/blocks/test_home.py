from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.blocks import ids
from bot.blocks.home import (
    HOME_CHANNELS,
    HOME_TICKETS,
    ChannelSubscriptions,
    home_order,
    home_view,
    subscriptions_by_channel,
)
from bot.blocks.limits import MAX_VIEW_BLOCKS, view_problems
from bot.support.models import Ticket

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def ticket(ticket_id: int, status: str = "open", hours_ago: int = 1, **fields: object) -> Ticket:
    values: dict[str, object] = {
        "id": ticket_id,
        "subject": f"Ticket {ticket_id}",
        "status": status,
        "severity": "normal",
        "urlUI": f"https://app.doit.com/customers/c1/support/tickets/{ticket_id}",
        "updateTime": int((NOW - timedelta(hours=hours_ago)).timestamp() * 1000),
        **fields,
    }
    return Ticket.model_validate(values)


def sections(view: dict) -> list[str]:
    return [block["text"]["text"] for block in view["blocks"] if block["type"] == "section"]


def contexts(view: dict) -> list[str]:
    return [block["elements"][0]["text"] for block in view["blocks"] if block["type"] == "context"]


def test_home_order_when_mixed_puts_open_tickets_first_then_the_latest_update() -> None:
    tickets = [
        ticket(1, "solved", hours_ago=1),
        ticket(2, "open", hours_ago=9),
        ticket(3, "pending", hours_ago=2),
        ticket(4, "closed", hours_ago=3),
        ticket(5, "brand-new-status", hours_ago=0),
        ticket(6, "hold", hours_ago=5, updateTime=None),
    ]

    assert [t.id for t in home_order(tickets)] == [3, 2, 6, 5, 1, 4]


def test_home_view_with_tickets_shows_each_with_status_severity_update_and_link() -> None:
    view = home_view(requester_email="dana@example.com", tickets=[ticket(7, severity="high")], updated_at=NOW)

    stamp = int((NOW - timedelta(hours=1)).timestamp())
    assert sections(view)[1] == (
        "*<https://app.doit.com/customers/c1/support/tickets/7|Ticket 7>*  #7\n"
        ":large_blue_circle: Open · :warning: High (P2) · "
        f"last update <!date^{stamp}^{{date_short_pretty}} at {{time}}|2026-03-02 11:00 UTC>"
    )
    assert (
        contexts(view)[0]
        == "Requested by dana@example.com; open tickets first, then the latest update first."
    )
    assert view["type"] == "home"
    assert view_problems(view) == []


def test_home_view_has_a_new_ticket_button() -> None:
    view = home_view(requester_email=None, tickets=None, tickets_problem="No email.")

    actions = [block for block in view["blocks"] if block["type"] == "actions"]
    assert [[e["action_id"] for e in block["elements"]] for block in actions] == [[ids.HOME_NEW_TICKET]]


def test_home_view_without_tickets_shows_the_problem_as_a_warning() -> None:
    view = home_view(
        requester_email=None, tickets=None, tickets_problem="Your profile has <no> email & so on."
    )

    assert sections(view)[1] == ":warning: Your profile has &lt;no&gt; email &amp; so on."


def test_home_view_with_no_tickets_says_how_to_file_one() -> None:
    view = home_view(requester_email="dana@example.com", tickets=[])

    assert sections(view)[1].startswith("No recent DoiT tickets were requested by dana@example.com.")


def test_home_view_with_hostile_subject_neither_pings_nor_hides_a_link() -> None:
    view = home_view(
        requester_email="a@b.c",
        tickets=[ticket(8, subject="<!channel> see <https://evil.example|here> & a<b")],
    )

    rendered = json.dumps(view)
    assert "<!channel>" not in rendered
    assert "<https://evil.example|" not in rendered
    assert "&lt;!channel&gt; see &lt;https://evil.example|here&gt; &amp; a&lt;b" in sections(view)[1]


def test_home_view_with_more_than_fit_stays_under_100_blocks_and_counts_the_rest() -> None:
    tickets = [ticket(n, subject="🔥" * 2000) for n in range(1, 61)]
    channels = [
        ChannelSubscriptions(f"C{n:08d}", tuple((m, "x" * 500) for m in range(1, 21))) for n in range(45)
    ]

    view = home_view(
        requester_email="dana@example.com", tickets=tickets, subscriptions=channels, hidden_subscriptions=3
    )

    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert view_problems(view) == []
    assert len([s for s in sections(view) if "last update" in s]) == HOME_TICKETS
    assert len([s for s in sections(view) if s.startswith("*<#C")]) == HOME_CHANNELS
    assert "40 more tickets not shown here: `/doit list mine` lists them all." in contexts(view)
    assert (
        "15 more channels · 3 subscriptions in private channels are not shown. "
        "`/doit subscriptions` in a channel lists its own." in contexts(view)
    )


def test_home_view_without_subscriptions_says_how_to_add_one() -> None:
    view = home_view(requester_email="a@b.c", tickets=[])

    assert sections(view)[-1] == (
        "No channel follows DoiT tickets yet. Run `/doit subscribe [query]` in a channel to post new and "
        "changed tickets there."
    )


def test_home_view_with_subscriptions_lists_them_by_channel_and_number() -> None:
    channels = subscriptions_by_channel(
        [
            ("C0SUPPORT", 2, "open tickets & more"),
            ("C0OPS", 1, "all tickets"),
            ("C0SUPPORT", 1, "your tickets"),
        ]
    )

    view = home_view(requester_email="a@b.c", tickets=[], subscriptions=channels)

    assert sections(view)[-2:] == [
        "*<#C0OPS>*\n1. all tickets",
        "*<#C0SUPPORT>*\n1. your tickets\n2. open tickets &amp; more",
    ]


def test_home_view_when_subscriptions_cannot_be_read_says_so() -> None:
    view = home_view(requester_email="a@b.c", tickets=[], subscriptions_problem="Not now.")

    assert sections(view)[-1] == ":warning: Not now."
