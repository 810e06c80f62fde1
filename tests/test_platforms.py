"""Platform ids, display names and short names, with and without the live catalog."""

from __future__ import annotations

import pytest

from bot.support.models import Platform
from bot.support.platforms import catalog_from, display_name, platform_id_for_display_name, resolve_platform

CATALOG: dict[str, str] = {
    "cloud_management_platform": "Cloud Management Platform",
    "google_cloud_platform": "Google Cloud",
    "amazon_web_services": "Amazon Web Services",
    "microsoft_azure": "Microsoft Azure",
    "perfectscale": "PerfectScale",
    "finance___billing": "Finance & Billing",
}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Google Cloud", "google_cloud_platform"),
        ("google cloud", "google_cloud_platform"),
        ("  GOOGLE   CLOUD ", "google_cloud_platform"),
        ("google_cloud_platform", "google_cloud_platform"),
        ("google-cloud-platform", "google_cloud_platform"),
        ("gcp", "google_cloud_platform"),
        ("GCP", "google_cloud_platform"),
        ("google", "google_cloud_platform"),
        ("Amazon Web Services", "amazon_web_services"),
        ("aws", "amazon_web_services"),
        ("amazon", "amazon_web_services"),
        ("Microsoft Azure", "microsoft_azure"),
        ("azure", "microsoft_azure"),
        ("DoiT", "doit"),
        ("doit", "doit"),
        ("cmp", "cloud_management_platform"),
    ],
)
def test_resolve_platform_when_no_catalog_then_built_in_names_and_aliases(typed: str, expected: str) -> None:
    assert resolve_platform(typed) == expected


@pytest.mark.parametrize("typed", ["", "   ", "perfectscale", "oracle cloud", "g c p x"])
def test_resolve_platform_when_no_catalog_and_unknown_then_none(typed: str) -> None:
    assert resolve_platform(typed) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("perfectscale", "perfectscale"),
        ("PerfectScale", "perfectscale"),
        ("Finance & Billing", "finance___billing"),
        ("finance billing", "finance___billing"),
        ("Cloud Management Platform", "cloud_management_platform"),
        ("cmp", "cloud_management_platform"),
        ("aws", "amazon_web_services"),
        ("Google Cloud", "google_cloud_platform"),
    ],
)
def test_resolve_platform_when_catalog_then_its_platforms_resolve_too(typed: str, expected: str) -> None:
    assert resolve_platform(typed, CATALOG) == expected


def test_resolve_platform_when_catalog_lacks_the_alias_target_then_none() -> None:
    assert resolve_platform("cmp", {"perfectscale": "PerfectScale"}) is None


def test_resolve_platform_when_catalog_renames_a_platform_then_new_name_resolves() -> None:
    catalog = {"google_cloud_platform": "Google Cloud Platform"}

    assert resolve_platform("Google Cloud Platform", catalog) == "google_cloud_platform"
    assert resolve_platform("gcp", catalog) == "google_cloud_platform"


@pytest.mark.parametrize(
    ("platform_id", "expected"),
    [
        ("google_cloud_platform", "Google Cloud"),
        ("amazon_web_services", "Amazon Web Services"),
        ("microsoft_azure", "Microsoft Azure"),
        ("doit", "DoiT"),
        ("perfectscale", "perfectscale"),
        (None, "unknown platform"),
        ("", "unknown platform"),
    ],
)
def test_display_name_when_no_catalog_then_built_in_or_id(platform_id: str | None, expected: str) -> None:
    assert display_name(platform_id) == expected


@pytest.mark.parametrize(
    ("platform_id", "expected"),
    [
        ("perfectscale", "PerfectScale"),
        ("finance___billing", "Finance & Billing"),
        ("doit", "DoiT"),
        ("brand_new", "brand_new"),
    ],
)
def test_display_name_when_catalog_then_catalog_first(platform_id: str, expected: str) -> None:
    assert display_name(platform_id, CATALOG) == expected


def test_display_name_when_catalog_renames_then_catalog_wins() -> None:
    assert display_name("google_cloud_platform", {"google_cloud_platform": "GCP (Google)"}) == "GCP (Google)"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Google Cloud", "google_cloud_platform"),
        ("amazon web services", "amazon_web_services"),
        ("Microsoft Azure", "microsoft_azure"),
        ("DoiT", "doit"),
        ("gcp", None),
        ("PerfectScale", None),
    ],
)
def test_platform_id_for_display_name_when_named_then_id_only_for_display_names(
    name: str, expected: str | None
) -> None:
    assert platform_id_for_display_name(name) == expected


def test_catalog_from_when_platforms_then_id_to_display_name() -> None:
    platforms = [
        Platform(id="perfectscale", display_name="PerfectScale"),
        Platform(id="doit", display_name="DoiT"),
    ]

    assert catalog_from(platforms) == {"perfectscale": "PerfectScale", "doit": "DoiT"}
