"""Tests of the ``/doit list`` query language: parsing, the API filter, local checks and wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.support.models import ACTIVE_STATUSES, CLOSED_STATUSES, SEVERITIES, STATUSES, Ticket
from bot.support.query import ACCEPTED_SYNTAX, QueryError, TicketQuery, parse_query

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
CATALOG = {
    "google_cloud_platform": "Google Cloud",
    "amazon_web_services": "Amazon Web Services",
    "perfectscale": "PerfectScale",
    "cloud_management_platform": "DoiT Cloud Navigator",
}
TIME_HELP = (
    "Use a span back from now such as `30m`, `24h`, `7d` or `2w`, a date such as `2026-11-01` "
    "(midnight UTC) or an ISO time such as `2026-11-01T09:30Z`."
)


def parse(text: str, **kwargs: object) -> TicketQuery:
    return parse_query(text, now=NOW, **kwargs)  # type: ignore[arg-type]


def problem_of(text: str, **kwargs: object) -> str:
    with pytest.raises(QueryError) as caught:
        parse(text, **kwargs)
    return caught.value.problem


def ticket(**fields: object) -> Ticket:
    values: dict[str, object] = {
        "id": 1,
        "subject": "VPN tunnel down in eu-west-1",
        "severity": "high",
        "status": "open",
        "requester": "Jane@Example.com",
        "platform": "amazon_web_services",
        "product": "Amazon EC2",
        "createTime": int(datetime(2026, 11, 10, tzinfo=UTC).timestamp() * 1000),
    }
    values.update(fields)
    return Ticket.model_validate(values)


# -- parsing: status ----------------------------------------------------------------------------


def test_parse_empty_text_gives_empty_query() -> None:
    assert parse("   ") == TicketQuery()


def test_parse_status_when_literal_gives_that_status_only() -> None:
    assert parse("status:open").statuses == frozenset({"open"})


def test_parse_status_when_comma_list_and_repeated_gives_union() -> None:
    assert parse("STATUS:New,pending status:hold").statuses == frozenset({"new", "pending", "hold"})


@pytest.mark.parametrize("text", ["open", "OPEN", "is:open"])
def test_parse_open_when_bare_or_is_gives_active_statuses(text: str) -> None:
    assert parse(text).statuses == ACTIVE_STATUSES


@pytest.mark.parametrize("text", ["closed", "is:closed", "Is:Closed"])
def test_parse_closed_when_bare_or_is_gives_closed_statuses(text: str) -> None:
    assert parse(text).statuses == CLOSED_STATUSES


def test_parse_status_when_unknown_raises_listing_statuses() -> None:
    assert problem_of("status:new,done") == (
        "`done` is not a status (in `status:new,done`). Statuses are new, open, pending, hold, solved "
        "or closed; `open` alone means new, open, pending or hold, and `closed` alone means solved or closed."
    )


def test_parse_is_when_unknown_raises() -> None:
    assert problem_of("is:urgent") == (
        "`is:urgent` is not something I can check: use `is:open`, `is:closed` or `is:mine`."
    )


# -- parsing: severity ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["severity:high", "priority:HIGH", "severity:p2"])
def test_parse_severity_when_single_gives_it(text: str) -> None:
    assert parse(text).severities == frozenset({"high"})


def test_parse_severity_when_plus_gives_that_level_and_above() -> None:
    assert parse("severity:high+").severities == frozenset({"high", "urgent"})
    assert parse("priority:normal+").severities == frozenset({"normal", "high", "urgent"})
    assert parse("severity:urgent+").severities == frozenset({"urgent"})


def test_parse_severity_when_comma_list_gives_union() -> None:
    assert parse("severity:low,urgent").severities == frozenset({"low", "urgent"})


def test_parse_severity_when_unknown_raises_listing_severities() -> None:
    assert problem_of("priority:critical") == (
        "`critical` is not a severity (in `priority:critical`). Severities are low, normal, high or "
        "urgent; add + for that level and above, e.g. `priority:high+`."
    )


# -- parsing: platform and product --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "platform"),
    [
        ("platform:aws", "amazon_web_services"),
        ("platform:GCP", "google_cloud_platform"),
        ("platform:azure", "microsoft_azure"),
        ("platform:doit", "doit"),
        ('platform:"Google Cloud"', "google_cloud_platform"),
        ("platform:amazon_web_services", "amazon_web_services"),
    ],
)
def test_parse_platform_when_known_gives_its_id(text: str, platform: str) -> None:
    assert parse(text).platforms == frozenset({platform})


def test_parse_platform_when_comma_list_gives_union() -> None:
    assert parse("platform:aws,gcp").platforms == frozenset({"amazon_web_services", "google_cloud_platform"})


def test_parse_platform_when_only_in_catalog_resolves_with_catalog() -> None:
    assert parse("platform:perfectscale", platforms=CATALOG).platforms == frozenset({"perfectscale"})


def test_parse_platform_when_unknown_raises_listing_known_platforms() -> None:
    assert problem_of("platform:oracle") == (
        "`oracle` is not a platform I know (in `platform:oracle`). Known platforms: Amazon Web Services "
        "(`aws`), DoiT (`doit`), Google Cloud (`gcp`), Microsoft Azure (`azure`)."
    )


def test_parse_platform_when_unknown_with_catalog_lists_catalog_too() -> None:
    assert problem_of("platform:oracle", platforms=CATALOG) == (
        "`oracle` is not a platform I know (in `platform:oracle`). Known platforms: Amazon Web Services "
        "(`aws`), DoiT (`doit`), DoiT Cloud Navigator (`cmp`), Google Cloud (`gcp`), "
        "Microsoft Azure (`azure`), PerfectScale (`perfectscale`)."
    )


def test_parse_product_when_plain_or_quoted_keeps_them_in_order() -> None:
    query = parse('product:BigQuery product:"Compute  Engine" product:bigquery')
    assert query.products == ("BigQuery", "Compute Engine")


def test_parse_product_when_value_missing_raises() -> None:
    assert problem_of('product:""') == (
        '`product:` needs a value right after the colon, e.g. `product:"Compute Engine"`.'
    )


# -- parsing: who ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["mine", "MINE", "is:mine"])
def test_parse_mine_when_given_sets_mine_and_needs_email(text: str) -> None:
    query = parse(text)
    assert (query.mine, query.needs_user_email) == (True, True)


def test_parse_requester_when_given_lowercases_email() -> None:
    query = parse("requester:Bob@X.com,ann@y.org")
    assert (query.requesters, query.needs_user_email) == (frozenset({"bob@x.com", "ann@y.org"}), False)


def test_parse_requester_when_not_an_email_raises() -> None:
    assert problem_of("requester:bob") == (
        "`bob` is not an email address (in `requester:bob`), e.g. `requester:jane@example.com`."
    )


# -- parsing: time --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "span"),
    [
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("3days", timedelta(days=3)),
        ("1hour", timedelta(hours=1)),
    ],
)
def test_parse_since_when_relative_counts_back_from_now(value: str, span: timedelta) -> None:
    query = parse(f"since:{value}")
    assert (query.since, query.before) == (NOW - span, None)


def test_parse_before_when_date_gives_utc_midnight() -> None:
    assert parse("before:2026-11-01").before == datetime(2026, 11, 1, tzinfo=UTC)


def test_parse_since_when_iso_time_with_zone_converts_to_utc() -> None:
    assert parse("since:2026-11-01T09:30+02:00").since == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)


def test_parse_since_when_iso_time_without_zone_takes_utc() -> None:
    assert parse("since:2026-11-01T09:30").since == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def test_parse_time_when_now_is_naive_takes_it_as_utc() -> None:
    query = parse_query("since:1d", now=datetime(2026, 11, 15, 12, 0))
    assert query.since == datetime(2026, 11, 14, 12, 0, tzinfo=UTC)


def test_parse_time_when_not_understood_raises() -> None:
    assert problem_of("since:yesterday") == f"`since:yesterday` is not a time I understand. {TIME_HELP}"
    assert problem_of("before:0d") == f"`before:0d` is not a time I understand. {TIME_HELP}"


def test_parse_time_when_too_far_raises() -> None:
    assert problem_of("since:9999999w") == (
        "`since:9999999w` reaches outside the calendar: pick a nearer time."
    )


def test_parse_since_when_not_before_before_raises() -> None:
    assert problem_of("since:2026-11-02 before:2026-11-01") == (
        "`since:2026-11-02` is not earlier than `before:2026-11-01`, so no ticket could match both."
    )
    assert problem_of("before:7d since:7d") == (
        "`since:7d` is not earlier than `before:7d`, so no ticket could match both."
    )


def test_parse_since_when_given_twice_raises() -> None:
    assert problem_of("since:7d since:2d") == (
        "`since:` can only be given once, but there are `since:7d` and `since:2d`."
    )


def test_parse_before_when_given_twice_raises() -> None:
    assert problem_of("before:7d before:2d") == (
        "`before:` can only be given once, but there are `before:7d` and `before:2d`."
    )


# -- parsing: limit -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "limit"), [("limit:1", 1), ("LIMIT:100", 100), ("limit:007", 7)])
def test_parse_limit_when_in_range_gives_it(text: str, limit: int) -> None:
    assert parse(text).limit == limit


@pytest.mark.parametrize("value", ["0", "101", "ten", "-1", "1.5", "٣"])
def test_parse_limit_when_out_of_range_raises(value: str) -> None:
    assert problem_of(f"limit:{value}") == (
        f"`limit:{value}` is not a limit I can use: give a whole number from 1 to 100."
    )


def test_parse_limit_when_given_twice_raises() -> None:
    assert problem_of("limit:5 limit:6") == (
        "`limit:` can only be given once, but there are `limit:5` and `limit:6`."
    )


# -- parsing: words, quotes and unknown terms ---------------------------------------------------


def test_parse_words_when_free_and_quoted_keeps_them_in_order() -> None:
    query = parse('vpn "connection  reset" “smart quotes” VPN')
    assert query.words == ("vpn", "connection reset", "smart quotes")


def test_parse_words_when_quoted_keyword_treats_it_as_word() -> None:
    query = parse('"open" "status:open" "mine"')
    assert (query.words, query.statuses, query.mine) == (("open", "status:open", "mine"), frozenset(), False)


def test_parse_words_when_url_or_colon_without_key_treats_it_as_word() -> None:
    assert parse("https://console.aws.amazon.com 10:30 :x").words == (
        "https://console.aws.amazon.com",
        "10:30",
        ":x",
    )


def test_parse_term_when_key_unknown_raises() -> None:
    assert problem_of("open foo:bar") == (
        "Unknown term `foo:bar`: `foo:` is not a filter I know. "
        "To look for this text in subjects, put it in double quotes."
    )


def test_parse_term_when_value_missing_raises() -> None:
    assert problem_of("status: open") == (
        "`status:` needs a value right after the colon, e.g. `status:open`."
    )


def test_parse_quotes_when_unbalanced_raises() -> None:
    assert problem_of('vpn "connection reset') == (
        'The quote at `"connection reset` is never closed: add the closing quote or remove it.'
    )


def test_parse_error_when_echoing_input_neutralises_backticks_and_cuts_long_text() -> None:
    assert problem_of("status:`" + "x" * 60) == (
        f"`'{'x' * 38}…` is not a status (in `status:'{'x' * 31}…`)."
        " Statuses are new, open, pending, hold, solved or closed; `open` alone means new, open, pending or "
        "hold, and `closed` alone means solved or closed."
    )


def test_query_error_when_shown_appends_accepted_syntax() -> None:
    with pytest.raises(QueryError) as caught:
        parse("foo:bar")
    assert str(caught.value) == f"{caught.value.problem}\n\n{ACCEPTED_SYNTAX}"
    assert isinstance(caught.value, ValueError)


# -- the API filter -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("platform:aws product:EC2 mine vpn", None),
        ("status:open", "status:open"),
        ("severity:urgent", "severity:urgent"),
        ("open", "status:new|status:open|status:pending|status:hold"),
        ("status:pending severity:high", "status:pending|severity:high"),
        ("closed severity:high", "status:solved|status:closed|severity:high"),
        ("status:open severity:high+", "status:open|severity:high|severity:urgent"),
        ("open severity:high+", "status:new|status:open|status:pending|status:hold"),
        ("priority:low,normal status:new,hold", "status:new|status:hold"),
    ],
)
def test_api_filter_when_combined_obeys_api_rules(text: str, expected: str | None) -> None:
    assert parse(text).api_filter == expected


def test_api_filter_when_value_unknown_keeps_that_key_local() -> None:
    query = TicketQuery(statuses=frozenset({"open", "a|b"}), severities=frozenset({"high", "Urgent"}))
    assert (query.api_filter, query.local_terms()) == (None, ("status", "severity"))


def test_local_terms_when_severity_cannot_go_to_server_lists_it() -> None:
    query = parse("open severity:high+ platform:aws product:EC2 requester:a@b.co vpn")
    assert query.local_terms() == ("severity", "platform", "product", "requester", "subject")
    assert query.server_side_terms() == {"status": ("new", "open", "pending", "hold")}


def test_local_terms_when_server_does_everything_is_empty() -> None:
    query = parse("status:open severity:high since:7d")
    assert query.local_terms() == ()


def test_creation_ms_when_bounds_given_are_inclusive_milliseconds() -> None:
    query = parse("since:2026-11-01 before:2026-11-02")
    assert (query.min_creation_ms, query.max_creation_ms) == (1793491200000, 1793577599999)


def test_creation_ms_when_bounds_have_microseconds_round_inwards() -> None:
    query = parse("since:2026-11-01T00:00:00.000500Z before:2026-11-02T00:00:00.000500Z")
    assert (query.min_creation_ms, query.max_creation_ms) == (1793491200001, 1793577600000)


def test_creation_ms_when_no_bounds_are_none() -> None:
    query = parse("open")
    assert (query.min_creation_ms, query.max_creation_ms) == (None, None)


# -- matches --------------------------------------------------------------------------------------


def test_matches_when_query_empty_accepts_any_ticket() -> None:
    assert TicketQuery().matches(ticket(subject="", status="weird", createTime=None)) is True


@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        ("open", {"status": "hold"}, True),
        ("open", {"status": "solved"}, False),
        ("status:new", {"status": "open"}, False),
        ("severity:high+", {"severity": "urgent"}, True),
        ("severity:high+", {"severity": "normal"}, False),
        ("platform:aws", {"platform": "Amazon Web Services"}, True),
        ("platform:gcp", {}, False),
        ("product:EC2", {"product": "EC2"}, True),
        ('product:"amazon  ec2"', {}, True),
        ("product:EC2", {"product": None}, False),
        ("requester:jane@example.com", {}, True),
        ("requester:bob@example.com", {}, False),
        ("requester:jane@example.com", {"requester": None}, False),
        ('vpn "TUNNEL down"', {}, True),
        ("vpn tunnel up", {}, False),
        ("since:2026-11-10", {}, True),
        ("before:2026-11-10", {}, False),
        ("since:2026-11-10T00:00:00.001Z", {}, False),
        ("since:7d", {"createTime": None}, False),
    ],
)
def test_matches_when_condition_given_checks_ticket(
    text: str, fields: dict[str, object], expected: bool
) -> None:
    assert parse(text).matches(ticket(**fields)) is expected


def test_matches_when_time_naive_takes_it_as_utc() -> None:
    query = parse("since:2026-11-10T10:00Z")
    assert query.matches(ticket(createTime="2026-11-10T10:00:00")) is True
    assert query.matches(ticket(createTime="2026-11-10T09:59:59")) is False


def test_matches_when_mine_compares_with_user_email() -> None:
    query = parse("mine")
    assert query.matches(ticket(), user_email="jane@EXAMPLE.com") is True
    assert query.matches(ticket(), user_email="bob@example.com") is False


def test_matches_when_mine_and_requester_accepts_either() -> None:
    query = parse("mine requester:bob@example.com")
    assert query.matches(ticket(requester="bob@example.com"), user_email="me@example.com") is True
    assert query.matches(ticket(requester="me@example.com"), user_email="me@example.com") is True
    assert query.matches(ticket(), user_email="me@example.com") is False


def test_matches_when_mine_without_email_raises() -> None:
    with pytest.raises(ValueError, match="mine"):
        parse("mine").matches(ticket())


# -- describe -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "all tickets"),
        (
            "open severity:high platform:aws since:7d vpn",
            "open tickets of high severity on Amazon Web Services, created in the last 7 days, "
            "whose subject mentions “vpn”",
        ),
        ("closed", "closed tickets"),
        ("status:new,hold", "tickets with status new or hold"),
        ("open since:1d", "open tickets created in the last day"),
        ("severity:normal+ mine", "your tickets of normal, high or urgent severity"),
        ("limit:10 mine open", "your 10 newest open tickets"),
        ("limit:1", "the newest ticket"),
        ("limit:5 platform:gcp,aws", "the 5 newest tickets on Amazon Web Services or Google Cloud"),
        (
            'product:"Compute Engine" product:BigQuery requester:b@x.io mine',
            "tickets for Compute Engine or BigQuery requested by you or b@x.io",
        ),
        (
            "since:2026-10-01T10:30Z before:2026-11-01",
            "tickets created since 2026-10-01 10:30 UTC and before 2026-11-01",
        ),
        ("before:2w", "tickets created more than 2 weeks ago"),
        ('vpn "reset by peer" down', "tickets whose subject mentions “vpn”, “reset by peer” and “down”"),
    ],
)
def test_describe_when_parsed_gives_plain_english(text: str, expected: str) -> None:
    assert parse(text).describe() == expected


def test_describe_when_catalog_given_uses_its_names() -> None:
    query = parse("platform:perfectscale", platforms=CATALOG)
    assert query.describe(CATALOG) == "tickets on PerfectScale"
    assert query.describe() == "tickets on perfectscale"


def test_describe_when_built_without_relative_text_shows_moment() -> None:
    query = TicketQuery(since=datetime(2026, 11, 1, 8, 5, 9, tzinfo=UTC))
    assert query.describe() == "tickets created since 2026-11-01 08:05:09 UTC"


# -- canonical ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        (
            "vpn is:open PRIORITY:urgent,high platform:AWS",
            "open severity:high+ platform:amazon_web_services vpn",
        ),
        ("status:hold,new severity:low,high", "status:new,hold severity:low,high"),
        ("closed mine limit:3", "closed mine limit:3"),
        (
            'product:"Compute Engine" requester:B@x.io "open" 10:30',
            'product:"Compute Engine" requester:b@x.io "open" "10:30"',
        ),
        ("since:7d before:1h", "since:2026-11-08T12:00:00Z before:2026-11-15T11:00:00Z"),
        ("since:2026-11-01", "since:2026-11-01"),
    ],
)
def test_canonical_when_parsed_gives_normal_form(text: str, expected: str) -> None:
    assert parse(text).canonical() == expected


def test_canonical_when_reparsed_later_keeps_absolute_times() -> None:
    query = parse("since:7d")
    assert parse_query(query.canonical(), now=NOW + timedelta(days=3)) == query


def test_canonical_when_time_has_microseconds_round_trips() -> None:
    query = TicketQuery(before=datetime(2026, 11, 1, 8, 5, 9, 123, tzinfo=timezone(timedelta(hours=2))))
    assert query.canonical() == "before:2026-11-01T06:05:09.000123Z"
    assert parse(query.canonical()) == query


# -- properties -----------------------------------------------------------------------------------


def _values(choices: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(choices), min_size=1, max_size=3).map(",".join)


_LOOSE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_TERMS = st.one_of(
    st.sampled_from(["open", "closed", "mine", "is:open", "is:closed", "is:mine", "OPEN"]),
    _values(STATUSES).map("status:{}".format),
    st.tuples(
        st.sampled_from(["severity", "priority", "Severity"]), _values((*SEVERITIES, "high+", "p1", "low+"))
    ).map(":".join),
    _values(("aws", "gcp", "azure", "doit", "amazon_web_services", '"Google Cloud"')).map(
        "platform:{}".format
    ),
    st.sampled_from(["BigQuery", '"Compute Engine"', "EC2", '"a:b"']).map("product:{}".format),
    st.sampled_from(["a@b.co", "Jane@Example.com", "x@y.org,z@w.net"]).map("requester:{}".format),
    st.tuples(
        st.sampled_from(["since", "before"]),
        st.sampled_from(
            ["30m", "24h", "7d", "2w", "2026-11-01", "2026-11-01T09:30Z", "2026-11-01T09:30+05:00"]
        ),
    ).map(":".join),
    st.integers(min_value=-5, max_value=120).map("limit:{}".format),
    st.sampled_from(
        ["vpn", '"reset by peer"', "http://x.io/a", "10:30", "“curly”", "Down", '"re:fwd"', '"Open"']
    ),
    _LOOSE_TEXT,
    st.tuples(st.sampled_from(["status", "platform", "product", "foo", "is", "since"]), _LOOSE_TEXT).map(
        ":".join
    ),
)
_QUERY_TEXT = st.lists(_TERMS, max_size=6).map(" ".join)


def _parsed_or_none(text: str) -> TicketQuery | None:
    try:
        return parse(text)
    except QueryError as error:
        assert error.problem
        assert str(error).endswith(ACCEPTED_SYNTAX)
        return None


def _check_api_filter(query: TicketQuery) -> None:
    if query.api_filter is None:
        return
    keys = []
    for segment in query.api_filter.split("|"):
        key, _, value = segment.partition(":")
        assert key in ("status", "severity")
        assert value in (STATUSES if key == "status" else SEVERITIES)
        keys.append(key)
    assert len(keys) == len(set(segment for segment in query.api_filter.split("|")))
    assert sum(1 for key in set(keys) if keys.count(key) > 1) <= 1


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_when_any_text_parses_or_raises_query_error(text: str) -> None:
    query = _parsed_or_none(text)
    if query is not None:
        _check_api_filter(query)


@settings(max_examples=400, deadline=None)
@given(_QUERY_TEXT)
def test_parse_when_plausible_terms_parses_or_raises_query_error(text: str) -> None:
    query = _parsed_or_none(text)
    if query is not None:
        _check_api_filter(query)
        query.describe()


@settings(max_examples=300, deadline=None)
@given(st.one_of(_QUERY_TEXT, st.text()))
def test_canonical_when_reparsed_gives_equal_query(text: str) -> None:
    query = _parsed_or_none(text)
    if query is not None:
        again = parse(query.canonical())
        assert again == query
        assert again.canonical() == query.canonical()


_SAFE_OR_NOT = st.sampled_from([*STATUSES, *SEVERITIES, "Open", "a:b", "x|y", "", "archived"])


@settings(max_examples=200, deadline=None)
@given(st.frozensets(_SAFE_OR_NOT, max_size=4), st.frozensets(_SAFE_OR_NOT, max_size=4))
def test_api_filter_when_built_directly_never_sends_what_api_rejects(
    statuses: frozenset[str], severities: frozenset[str]
) -> None:
    _check_api_filter(TicketQuery(statuses=statuses, severities=severities))


def _server_accepts(query: TicketQuery, candidate: Ticket) -> bool:
    """What the API would do with the filter and time range."""
    wanted: dict[str, set[str]] = {}
    for segment in (query.api_filter or "").split("|") if query.api_filter else []:
        key, _, value = segment.partition(":")
        wanted.setdefault(key, set()).add(value)
    fields = {"status": candidate.status, "severity": candidate.severity}
    if any(fields[key] not in values for key, values in wanted.items()):
        return False
    created_ms = (candidate.create_time - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    return (query.min_creation_ms is None or created_ms >= query.min_creation_ms) and (
        query.max_creation_ms is None or created_ms <= query.max_creation_ms
    )


_TICKETS = st.builds(
    lambda status, severity, platform, minutes: ticket(
        status=status,
        severity=severity,
        platform=platform,
        createTime=int((NOW - timedelta(minutes=minutes)).timestamp() * 1000),
    ),
    st.sampled_from(STATUSES),
    st.sampled_from(SEVERITIES),
    st.sampled_from(["amazon_web_services", "google_cloud_platform", "doit"]),
    st.integers(min_value=0, max_value=60 * 24 * 40),
)


@settings(max_examples=300, deadline=None)
@given(_QUERY_TEXT, _TICKETS)
def test_matches_when_ticket_matches_the_server_would_have_sent_it(text: str, candidate: Ticket) -> None:
    query = _parsed_or_none(text)
    if query is not None and query.matches(candidate, user_email="jane@example.com"):
        assert _server_accepts(query, candidate)
