"""The pure parts of a cycle: the snapshot diff and who hears about what."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.notify.cards import Card
from bot.notify.fanout import Follower, Kind, plan_deliveries
from bot.notify.snapshots import Snapshot, diff_tickets, ticket_from_json, ticket_json
from bot.support.models import Ticket
from bot.support.query import parse_query

CREATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CREATED_MS = int(CREATED.timestamp() * 1000)


def _ticket(ticket_id: int, status: str = "open", **fields: object) -> Ticket:
    values: dict[str, object] = {"id": ticket_id, "subject": f"T{ticket_id}", "status": status}
    values.update(severity="normal", createTime=CREATED_MS, requester="lee@example.com")
    values.update(fields)
    return Ticket.model_validate(values)


def _snapshot(ticket_id: int, status: str, version: int = 0) -> Snapshot:
    return Snapshot(ticket_id, status, status in ("new", "open", "pending", "hold"), version, CREATED_MS)


def _follower(channel: str, number: int, text: str) -> Follower:
    return Follower(channel, number, parse_query(text))


def _card(ticket_id: int, channel: str, status: str) -> Card:
    return Card(ticket_id=ticket_id, channel_id=channel, message_ts="1.000100", status=status, posted_at=1.0)


def test_diff_on_the_baseline_records_every_ticket_quietly() -> None:
    diff = diff_tickets({}, [_ticket(1), _ticket(2, "new")], created_since_ms=None)
    assert ([t.id for t in diff.quiet], diff.new, diff.changed) == ([1, 2], [], [])


def test_diff_tells_new_from_old_unknown_tickets_by_creation_time() -> None:
    fresh, old = _ticket(1), _ticket(2, createTime=CREATED_MS - 1)
    diff = diff_tickets({}, [fresh, old], created_since_ms=CREATED_MS)
    assert ([t.id for t in diff.new], [t.id for t in diff.quiet]) == ([1], [2])


def test_diff_of_a_status_change_numbers_it_after_the_snapshot_version() -> None:
    known = {1: _snapshot(1, "open", version=4), 2: _snapshot(2, "pending")}
    diff = diff_tickets(
        known, [_ticket(1, "solved"), _ticket(2, "pending")], created_since_ms=0, missing=[3, 2]
    )
    assert [(c.ticket.id, c.old, c.ticket.status, c.version) for c in diff.changed] == [
        (1, "open", "solved", 5)
    ]
    assert (diff.new, diff.quiet, diff.forget) == ([], [], [2])


def test_plan_for_a_new_ticket_posts_once_per_matching_channel_and_not_where_it_has_a_card() -> None:
    ticket = _ticket(7, "new", severity="high")
    diff = diff_tickets({}, [ticket], created_since_ms=0)
    followers = [
        _follower("C1", 1, "severity:high"),
        _follower("C1", 3, "status:new"),
        _follower("C2", 1, "severity:low"),
        _follower("C3", 2, "open"),
        _follower("C4", 1, ""),
    ]
    planned = plan_deliveries(diff, followers=followers, cards={7: [_card(7, "C4", "new")]}, now=5.0)
    assert [(p.event_key, p.kind, p.payload["subscriptions"]) for p in planned] == [
        ("new:7:C1", Kind.POST_NEW, [1, 3]),
        ("new:7:C3", Kind.POST_NEW, [2]),
    ]


def test_plan_for_a_status_change_redraws_cards_threads_replies_posts_elsewhere_and_tells_the_requester() -> (
    None
):
    diff = diff_tickets({7: _snapshot(7, "open", 1)}, [_ticket(7, "solved")], created_since_ms=0)
    followers = [
        _follower("C1", 1, "open"),
        _follower("C2", 1, "closed"),
        _follower("C3", 1, "severity:urgent"),
    ]
    cards = {7: [_card(7, "C1", "open")]}

    planned = plan_deliveries(
        diff, followers=followers, cards=cards, pending_posts={7: frozenset({"C9"})}, now=5.0
    )

    assert [(p.event_key, p.kind, p.channel_id) for p in planned] == [
        ("update:7:v2:C1", Kind.UPDATE_CARD, "C1"),
        ("reply:7:v2:C1", Kind.REPLY, "C1"),
        ("update:7:v2:C9", Kind.UPDATE_CARD, "C9"),
        ("reply:7:v2:C9", Kind.REPLY, "C9"),
        ("change:7:v2:C2", Kind.POST_CHANGE, "C2"),
        ("dm:7:v2", Kind.DM_REQUESTER, ""),
    ]
    assert planned[1].payload == {"old": "open", "new": "solved", "changed_at": 5.0}


def test_plan_for_a_change_to_open_does_not_message_the_requester() -> None:
    diff = diff_tickets({7: _snapshot(7, "pending")}, [_ticket(7, "open")], created_since_ms=0)
    assert plan_deliveries(diff, followers=[], cards={}, now=5.0) == []


def test_plan_when_requester_notices_are_off_sends_no_dm() -> None:
    diff = diff_tickets({7: _snapshot(7, "open")}, [_ticket(7, "pending")], created_since_ms=0)
    assert plan_deliveries(diff, followers=[], cards={}, notify_requester=False, now=5.0) == []


def test_plan_for_a_ticket_seen_first_with_a_stale_card_brings_the_card_up_to_date() -> None:
    diff = diff_tickets({}, [_ticket(7, "open", createTime=CREATED_MS - 10)], created_since_ms=CREATED_MS)
    planned = plan_deliveries(
        diff, followers=[_follower("C1", 1, "")], cards={7: [_card(7, "C5", "new")]}, now=5.0
    )
    assert [p.event_key for p in planned] == ["update:7:v0:C5", "reply:7:v0:C5"]


def test_ticket_json_round_trip_keeps_what_a_card_shows() -> None:
    ticket = _ticket(7, "hold", urlUI="https://app.doit.com/t/7", platform="amazon_web_services", tags=["x"])
    assert ticket_from_json(ticket_json(ticket)) == ticket
