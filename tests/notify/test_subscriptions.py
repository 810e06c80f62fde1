"""Subscriptions in the database: numbering, duplicates, removal, pausing, and what a query may hold."""

from __future__ import annotations

import pytest

from bot.notify.subscriptions import (
    MAX_PER_CHANNEL,
    AddOutcome,
    SubscriptionError,
    active_subscriptions,
    add_subscription,
    list_subscriptions,
    pause_channel,
    remove_all_subscriptions,
    remove_subscription,
    resume_channel,
    subscription_query,
)
from bot.store import Store
from bot.support.query import QueryError


def _add(store: Store, channel: str, text: str, user: str = "U0DANA") -> tuple[int, AddOutcome]:
    added = add_subscription(store, channel, user, subscription_query(text), now=100.0)
    return added.subscription.number, added.outcome


def test_add_in_a_channel_numbers_from_one_and_stores_the_canonical_query(store: Store) -> None:
    assert _add(store, "C1", "severity:high platform:aws") == (1, AddOutcome.CREATED)
    assert _add(store, "C1", "open") == (2, AddOutcome.CREATED)
    assert _add(store, "C2", "open") == (1, AddOutcome.CREATED)
    assert [(sub.number, sub.query) for sub in list_subscriptions(store, "C1")] == [
        (1, "severity:high platform:amazon_web_services"),
        (2, "open"),
    ]


def test_add_when_the_same_query_is_typed_differently_says_it_exists(store: Store) -> None:
    _add(store, "C1", "severity:urgent,high status:new")
    assert _add(store, "C1", "STATUS:new   priority:high+") == (1, AddOutcome.EXISTS)
    assert len(list_subscriptions(store, "C1")) == 1


def test_remove_keeps_the_other_numbers_and_a_new_one_takes_the_next(store: Store) -> None:
    for text in ("open", "closed", "severity:low"):
        _add(store, "C1", text)
    removed = remove_subscription(store, "C1", 2)
    assert removed is not None and removed.query == "closed"
    assert remove_subscription(store, "C1", 2) is None
    assert _add(store, "C1", "severity:high") == (4, AddOutcome.CREATED)
    assert [sub.number for sub in list_subscriptions(store, "C1")] == [1, 3, 4]


def test_remove_all_empties_only_that_channel(store: Store) -> None:
    _add(store, "C1", "open")
    _add(store, "C1", "closed")
    _add(store, "C2", "open")
    assert [sub.number for sub in remove_all_subscriptions(store, "C1")] == [1, 2]
    assert list_subscriptions(store, "C1") == []
    assert [sub.channel_id for sub in active_subscriptions(store)] == ["C2"]


def test_pause_then_subscribing_again_resumes_the_same_subscription(store: Store) -> None:
    _add(store, "C1", "open")
    _add(store, "C1", "closed")
    paused = pause_channel(store, "C1", "not_in_channel", now=200.0)
    assert [(sub.number, sub.paused_reason, sub.paused_at) for sub in paused] == [
        (1, "not_in_channel", 200.0),
        (2, "not_in_channel", 200.0),
    ]
    assert pause_channel(store, "C1", "is_archived") == []
    assert active_subscriptions(store) == []
    assert _add(store, "C1", "closed") == (2, AddOutcome.RESUMED)
    assert [sub.number for sub in active_subscriptions(store)] == [2]
    assert [sub.number for sub in resume_channel(store, "C1")] == [1]
    assert [sub.paused for sub in list_subscriptions(store, "C1")] == [False, False]


def test_add_when_the_channel_is_full_is_refused(store: Store) -> None:
    for number in range(MAX_PER_CHANNEL):
        _add(store, "C1", f"word{number}")
    with pytest.raises(SubscriptionError, match=f"already has {MAX_PER_CHANNEL} subscriptions"):
        _add(store, "C1", "one-too-many")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("open mine", "`mine` can't be used in a subscription"),
        ("since:7d", "`since:` and `before:` pick a window of past tickets"),
        ("before:2026-01-01", "`since:` and `before:` pick a window of past tickets"),
        ("limit:5", "`limit:` caps a list"),
    ],
)
def test_subscription_query_with_a_term_that_makes_no_sense_for_a_channel_is_rejected(
    text: str, problem: str
) -> None:
    with pytest.raises(SubscriptionError) as caught:
        subscription_query(text)
    assert str(caught.value).startswith(problem)


def test_subscription_query_that_does_not_parse_raises_the_query_error() -> None:
    with pytest.raises(QueryError) as caught:
        subscription_query("stauts:open")
    assert caught.value.problem.startswith("Unknown term `stauts:open`")


def test_subscription_query_when_empty_means_every_ticket() -> None:
    assert subscription_query("   ").canonical() == ""
