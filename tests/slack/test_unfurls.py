"""Link unfurls: link_shared events for DoiT ticket links, and the 30-minute quiet period per channel."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.blocks.tickets import unfurl_card
from bot.fakeslack import Call, FakeSlack
from bot.services import Services
from bot.slack.unfurl_log import UNFURL_WINDOW, claim_unfurl, release_unfurl
from bot.slack.unfurls import ticket_id_in
from bot.store import Store
from bot.store import unfurls as unfurls_table
from bot.support.models import Ticket
from bot.support.sandbox import Sandbox
from tests.slack.harness import SlackDriver
from tests.slack.payloads import wait_until

CUSTOMER = "sandboxCustomer01"


def console_link(ticket_id: int) -> str:
    return f"https://console.doit.com/tickets/{ticket_id}"


def app_link(ticket_id: int) -> str:
    return f"https://app.doit.com/customers/{CUSTOMER}/support/tickets/{ticket_id}"


def share(
    driver: SlackDriver, *urls: str, channel: str = "C0SUPPORT", ts: str = "1733300001.000100", **extra: str
) -> None:
    event = {
        "type": "link_shared",
        "channel": channel,
        "is_bot_user_member": True,
        "user": "U0DANA",
        "message_ts": ts,
        "source": "conversations_history",
        "links": [{"domain": url.split("/")[2], "url": url} for url in urls],
        "event_ts": ts,
        **extra,
    }
    assert driver.event(event).status == 200


def unfurls(slack: FakeSlack, count: int = 1) -> list[Call]:
    return slack.wait_for("chat.unfurl", count=count)


def new_ticket(sandbox: Sandbox, subject: str = "Cloud SQL failover took 40 minutes") -> Ticket:
    return Ticket.model_validate(sandbox.add_ticket(subject=subject, status="open", severity="high"))


def expected_card(services: Services, sandbox: Sandbox, ticket_id: int) -> dict:
    ticket = Ticket.model_validate(sandbox.ticket(ticket_id))
    return unfurl_card(ticket, services.catalog.cached_platform_names())


def logged(store: Store) -> list[tuple[str, int]]:
    with store.engine.connect() as conn:
        return [(row.channel_id, row.ticket_id) for row in conn.execute(select(unfurls_table))]


def gets(sandbox: Sandbox, ticket_id: int) -> int:
    return len(sandbox.requests_to("GET", f"/support/v1/tickets/{ticket_id}"))


def test_link_to_a_ticket_unfurls_to_its_compact_card(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, services: Services
) -> None:
    ticket = new_ticket(sandbox)

    share(driver, console_link(ticket.id))

    [call] = unfurls(slack)
    assert call.ok
    assert (call.args["channel"], call.args["ts"]) == ("C0SUPPORT", "1733300001.000100")
    assert call.args["unfurls"] == {console_link(ticket.id): expected_card(services, sandbox, ticket.id)}
    text = call.args["unfurls"][console_link(ticket.id)]["blocks"][0]["text"]["text"]
    assert text == f"*<{ticket.url}|Cloud SQL failover took 40 minutes>*"
    assert logged(services.store) == [("C0SUPPORT", ticket.id)]


def test_both_link_forms_of_one_ticket_unfurl_with_one_doit_call(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, services: Services
) -> None:
    ticket = new_ticket(sandbox)
    console_customer_link = f"https://console.doit.com/customers/{CUSTOMER}/support/tickets/{ticket.id}"

    share(driver, console_link(ticket.id), app_link(ticket.id), console_customer_link)

    [call] = unfurls(slack)
    card = expected_card(services, sandbox, ticket.id)
    assert call.args["unfurls"] == {
        console_link(ticket.id): card,
        app_link(ticket.id): card,
        console_customer_link: card,
    }
    assert gets(sandbox, ticket.id) == 1


def test_link_to_a_ticket_that_does_not_exist_unfurls_to_nothing(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, services: Services
) -> None:
    ticket = new_ticket(sandbox)

    share(driver, app_link(999_999), app_link(ticket.id))

    [call] = unfurls(slack)
    assert list(call.args["unfurls"]) == [app_link(ticket.id)]
    assert gets(sandbox, 999_999) == 1
    # Nothing was unfurled for it, so nothing keeps the next paste quiet.
    assert claim_unfurl(services.store, "C0SUPPORT", 999_999) is not None


def test_link_to_a_ticket_the_key_may_not_see_unfurls_to_nothing(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    hidden, visible = new_ticket(sandbox, "Hidden"), new_ticket(sandbox, "Visible")
    sandbox.inject(status=403, method="GET", path_prefix=f"/support/v1/tickets/{hidden.id}")

    share(driver, console_link(hidden.id), console_link(visible.id))

    [call] = unfurls(slack)
    assert list(call.args["unfurls"]) == [console_link(visible.id)]


def test_link_of_a_missing_ticket_alone_makes_no_unfurl_call(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    share(driver, console_link(999_999))
    share(driver, console_link(new_ticket(sandbox).id), ts="1733300002.000100")

    [call] = unfurls(slack)  # the second event's; the first one made none
    assert call.args["ts"] == "1733300002.000100"
    wait_until(lambda: gets(sandbox, 999_999) == 1, what="the first event's DoiT call")
    time.sleep(0.05)  # what follows a 404 is local: releasing the claim
    assert len(slack.calls_to("chat.unfurl")) == 1


def test_same_ticket_again_in_the_channel_within_30_minutes_is_skipped(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    ticket, other = new_ticket(sandbox, "First"), new_ticket(sandbox, "Second")
    share(driver, console_link(ticket.id))
    unfurls(slack)

    share(driver, app_link(ticket.id), console_link(other.id), ts="1733300002.000100")

    second = unfurls(slack, count=2)[1]
    assert list(second.args["unfurls"]) == [console_link(other.id)]
    assert gets(sandbox, ticket.id) == 1


def test_same_ticket_in_another_channel_unfurls_there_too(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    ticket = new_ticket(sandbox)
    share(driver, console_link(ticket.id))
    unfurls(slack)

    share(driver, console_link(ticket.id), channel="C0GENERAL", ts="1733300002.000100")

    assert unfurls(slack, count=2)[1].args["channel"] == "C0GENERAL"


def test_same_ticket_after_30_minutes_unfurls_again(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, services: Services
) -> None:
    ticket = new_ticket(sandbox)
    claim_unfurl(services.store, "C0SUPPORT", ticket.id, now=time.time() - UNFURL_WINDOW - 1)

    share(driver, console_link(ticket.id))

    assert list(unfurls(slack)[0].args["unfurls"]) == [console_link(ticket.id)]


def test_unfurl_refused_by_slack_is_tried_again_on_the_next_paste(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox, services: Services
) -> None:
    ticket = new_ticket(sandbox)
    slack.fail("chat.unfurl", "cannot_unfurl_url")
    share(driver, console_link(ticket.id))
    unfurls(slack)
    wait_until(lambda: logged(services.store) == [], what="the refused unfurl's claim to be given back")

    share(driver, console_link(ticket.id), ts="1733300002.000100")

    assert [call.ok for call in unfurls(slack, count=2)] == [False, True]


def test_link_in_the_composer_unfurls_by_unfurl_id_every_time(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    ticket = new_ticket(sandbox)
    composer = {"source": "composer", "unfurl_id": "U0DANA-1b90fa12"}

    share(driver, console_link(ticket.id), channel="COMPOSER", ts="Uxxx-1", **composer)
    unfurls(slack)
    share(driver, console_link(ticket.id), channel="COMPOSER", ts="Uxxx-2", **composer)

    calls = unfurls(slack, count=2)
    assert [(call.args["unfurl_id"], call.args["source"]) for call in calls] == [
        ("U0DANA-1b90fa12", "composer")
    ] * 2
    assert all("channel" not in call.args for call in calls)


def test_other_links_are_left_alone(driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox) -> None:
    share(driver, "https://console.doit.com/analytics/reports/123")
    share(driver, console_link(new_ticket(sandbox).id), ts="1733300002.000100")

    unfurls(slack)
    assert sandbox.requests_to("GET", "/support/v1/tickets/123") == []


@pytest.mark.parametrize(
    ("url", "ticket_id"),
    [
        ("https://console.doit.com/tickets/141234", 141234),
        ("https://console.doit.com/tickets/141234/", 141234),
        ("https://CONSOLE.doit.com/tickets/141234?tab=comments#c2", 141234),
        ("https://app.doit.com/customers/abc123/support/tickets/7", 7),
        ("https://console.doit.com/customers/abc123/support/tickets/7", 7),
        ("http://console.doit.com/tickets/141234", None),
        ("https://console.doit.com.evil.example/tickets/141234", None),
        ("https://console.doit.com/tickets/141234/comments", None),
        ("https://console.doit.com/tickets/new", None),
        ("https://app.doit.com/customers/a/b/support/tickets/7", None),
        ("https://console.doit.com/tickets/1234567890123", None),
        ("not a url", None),
    ],
)
def test_ticket_id_in_when_given_a_link_reads_only_doit_ticket_links(url: str, ticket_id: int | None) -> None:
    assert ticket_id_in(url) == ticket_id


def test_unfurl_log_when_claimed_twice_within_the_window_refuses_the_second(services: Services) -> None:
    store: Store = services.store

    first = claim_unfurl(store, "C1", 5, now=1000.0)
    second = claim_unfurl(store, "C1", 5, now=1000.0 + UNFURL_WINDOW - 1)
    elsewhere = claim_unfurl(store, "C2", 5, now=1001.0)
    later = claim_unfurl(store, "C1", 5, now=1000.0 + UNFURL_WINDOW + 1)

    assert (first, second, elsewhere, later) == (1000.0, None, 1001.0, 1000.0 + UNFURL_WINDOW + 1)


def test_unfurl_log_when_released_lets_the_next_claim_through(services: Services) -> None:
    claimed = claim_unfurl(services.store, "C1", 5, now=1000.0)
    assert claimed is not None

    release_unfurl(services.store, "C1", 5, claimed)

    assert claim_unfurl(services.store, "C1", 5, now=1001.0) == 1001.0
