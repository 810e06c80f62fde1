from __future__ import annotations

from bot.store import SCHEMA_VERSION, Store


def test_migrate_on_a_new_database_reaches_the_current_version(database_url: str) -> None:
    store = Store.connect(database_url)
    assert store.version() == SCHEMA_VERSION
    store.close()


def test_migrate_run_twice_changes_nothing(database_url: str) -> None:
    first = Store.connect(database_url)
    first.claim_submission("k1", "U1", now=100.0)
    first.close()
    second = Store.connect(database_url)
    assert second.version() == SCHEMA_VERSION
    assert second.recent_submissions("U1", window=10, now=105.0) == 1
    second.close()


def test_claim_submission_when_already_filing_returns_the_earlier_claim(store: Store) -> None:
    assert store.claim_submission("view-1", "U1", now=10.0) is None
    earlier = store.claim_submission("view-1", "U1", now=11.0)
    assert earlier is not None
    assert (earlier["state"], earlier["ticket_id"]) == ("filing", None)


def test_claim_submission_after_filed_returns_the_ticket(store: Store) -> None:
    store.claim_submission("view-1", "U1")
    store.finish_submission("view-1", ticket_id=4242)
    earlier = store.claim_submission("view-1", "U1")
    assert earlier is not None
    assert (earlier["state"], earlier["ticket_id"]) == ("filed", 4242)


def test_claim_submission_after_failure_can_be_claimed_again(store: Store) -> None:
    store.claim_submission("view-1", "U1")
    store.finish_submission("view-1", ticket_id=None)
    assert store.claim_submission("view-1", "U1") is None


def test_recent_submissions_counts_only_the_window_and_not_failures(store: Store) -> None:
    store.claim_submission("a", "U1", now=100.0)
    store.claim_submission("b", "U1", now=200.0)
    store.claim_submission("c", "U1", now=250.0)
    store.finish_submission("c", ticket_id=None)
    store.claim_submission("d", "U2", now=250.0)
    assert store.recent_submissions("U1", window=100, now=260.0) == 1
