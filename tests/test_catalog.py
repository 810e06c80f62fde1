"""The cached platform and product catalogs, against the sandbox over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.support.catalog import Catalog
from bot.support.client import RetryPolicy, SupportClient
from bot.support.errors import SupportUnavailable, SupportUnreachable
from bot.support.models import Platform, Product
from bot.support.platforms import KNOWN_PLATFORMS
from bot.support.sandbox import DEFAULT_API_KEY, PLATFORMS, PRODUCTS, Sandbox

PLATFORMS_PATH = "/support/v1/metadata/platforms"
PRODUCTS_PATH = "/support/v1/metadata/products"
TTL = 900.0
BUILT_IN = [Platform(id=pid, display_name=name) for pid, name in KNOWN_PLATFORMS.items()]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tickets=0) as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[SupportClient]:
    retry = RetryPolicy(attempts=1)
    with SupportClient(DEFAULT_API_KEY, base_url=sandbox.base_url, retry=retry) as support:
        yield support


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def catalog(client: SupportClient, clock: Clock) -> Catalog:
    return Catalog(client, ttl=TTL, clock=clock)


def sandbox_platforms() -> list[Platform]:
    return [Platform(id=pid, display_name=name) for pid, name in PLATFORMS.items()]


def test_platforms_when_asked_twice_within_ttl_then_one_call(catalog: Catalog, sandbox: Sandbox) -> None:
    first = catalog.platforms()
    second = catalog.platforms()

    assert first == second == sandbox_platforms()
    assert len(sandbox.requests_to("GET", PLATFORMS_PATH)) == 1


def test_platforms_when_ttl_passed_then_fetched_again(
    catalog: Catalog, sandbox: Sandbox, clock: Clock
) -> None:
    catalog.platforms()
    clock.now += TTL

    assert catalog.platforms() == sandbox_platforms()
    assert len(sandbox.requests_to("GET", PLATFORMS_PATH)) == 2


def test_platforms_when_doit_down_and_nothing_cached_then_built_in(
    catalog: Catalog, sandbox: Sandbox
) -> None:
    sandbox.inject(status=503, times=-1)

    assert catalog.platforms() == BUILT_IN
    assert [p.id for p in BUILT_IN] == [
        "google_cloud_platform",
        "amazon_web_services",
        "microsoft_azure",
        "doit",
    ]


def test_platforms_when_doit_unreachable_then_built_in() -> None:
    retry = RetryPolicy(attempts=1)
    with Sandbox(tickets=0) as stopped:
        base_url = stopped.base_url
    with SupportClient(DEFAULT_API_KEY, base_url=base_url, retry=retry, timeout=httpx.Timeout(1.0)) as down:
        with pytest.raises(SupportUnreachable):
            down.list_platforms()

        assert Catalog(down).platforms() == BUILT_IN


def test_platforms_when_stale_and_doit_down_then_stale_cache(
    catalog: Catalog, sandbox: Sandbox, clock: Clock
) -> None:
    catalog.platforms()
    clock.now += TTL + 1
    sandbox.inject(status=503, times=-1)

    assert catalog.platforms() == sandbox_platforms()
    assert len(sandbox.requests_to("GET", PLATFORMS_PATH)) == 2


def test_cached_platform_names_when_nothing_cached_then_built_in_without_a_call(
    catalog: Catalog, sandbox: Sandbox
) -> None:
    assert catalog.cached_platform_names() == KNOWN_PLATFORMS
    assert sandbox.requests == []


def test_cached_platform_names_when_cached_then_catalog_names(catalog: Catalog, sandbox: Sandbox) -> None:
    catalog.platforms()

    names = catalog.cached_platform_names()

    assert names == {**KNOWN_PLATFORMS, **PLATFORMS}
    assert names["perfectscale"] == "PerfectScale"
    assert len(sandbox.requests) == 1


def test_platform_names_when_doit_down_then_built_in(catalog: Catalog, sandbox: Sandbox) -> None:
    sandbox.inject(status=503, times=-1)

    assert catalog.platform_names() == KNOWN_PLATFORMS


def test_products_when_asked_twice_then_cached_per_platform(catalog: Catalog, sandbox: Sandbox) -> None:
    aws = catalog.products("amazon_web_services")
    gcp = catalog.products("google_cloud_platform")
    assert catalog.products("amazon_web_services") == aws
    assert catalog.products("google_cloud_platform") == gcp

    assert aws == [
        Product(id=i, display_name=n, platform="amazon_web_services")
        for i, n in PRODUCTS["amazon_web_services"]
    ]
    assert gcp[0] == Product(
        id="compute_engine", display_name="Compute Engine", platform="google_cloud_platform"
    )
    queries = [r.query for r in sandbox.requests_to("GET", PRODUCTS_PATH)]
    assert queries == [{"platform": ["amazon_web_services"]}, {"platform": ["google_cloud_platform"]}]


def test_products_when_stale_and_doit_down_then_stale_cache(
    catalog: Catalog, sandbox: Sandbox, clock: Clock
) -> None:
    cached = catalog.products("doit")
    clock.now += TTL + 1
    sandbox.inject(status=503, times=-1)

    assert catalog.products("doit") == cached
    assert len(sandbox.requests_to("GET", PRODUCTS_PATH)) == 2


def test_products_when_doit_down_and_nothing_cached_then_raises(catalog: Catalog, sandbox: Sandbox) -> None:
    sandbox.inject(status=503, times=-1)

    with pytest.raises(SupportUnavailable):
        catalog.products("doit")


def test_product_when_known_then_found_else_none(catalog: Catalog, sandbox: Sandbox) -> None:
    assert catalog.product("doit", "flexsave") == Product(
        id="flexsave", display_name="Flexsave", platform="doit"
    )
    assert catalog.product("doit", "no_such_product") is None
    assert len(sandbox.requests_to("GET", PRODUCTS_PATH)) == 1


def test_product_when_doit_down_then_none(catalog: Catalog, sandbox: Sandbox) -> None:
    sandbox.inject(status=503, times=-1)

    assert catalog.product("doit", "flexsave") is None
