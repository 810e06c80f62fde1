"""Platform ids, their display names and the short names people type.

The API only accepts ids (``amazon_web_services``); people write "AWS" or "Amazon Web Services".
The live catalog (``/support/v1/metadata/platforms``) is the authority when it can be reached;
the table here is what we fall back on, and what turns the overview page's display-name samples
back into ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

KNOWN_PLATFORMS: dict[str, str] = {
    "google_cloud_platform": "Google Cloud",
    "amazon_web_services": "Amazon Web Services",
    "microsoft_azure": "Microsoft Azure",
    "doit": "DoiT",
}

ALIASES: dict[str, str] = {
    "gcp": "google_cloud_platform",
    "google": "google_cloud_platform",
    "aws": "amazon_web_services",
    "amazon": "amazon_web_services",
    "azure": "microsoft_azure",
    "doit": "doit",
    "cmp": "cloud_management_platform",
}


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").replace("-", " ").split())


_ID_BY_DISPLAY_NAME: dict[str, str] = {_normalise(name): pid for pid, name in KNOWN_PLATFORMS.items()}


def platform_id_for_display_name(name: str) -> str | None:
    """The id of a platform known by its display name ("Google Cloud"), else None."""
    # Called for every ticket parsed, so the table is built once.
    return _ID_BY_DISPLAY_NAME.get(_normalise(name))


def resolve_platform(text: str, catalog: Mapping[str, str] | None = None) -> str | None:
    """Turn what a user typed into a platform id.

    ``catalog`` maps ids to display names as the API lists them; when given it wins over the
    built-in table, so a customer's own platforms (``perfectscale``...) resolve too.
    """
    names = dict(KNOWN_PLATFORMS)
    if catalog:
        names.update(catalog)
    wanted = _normalise(text)
    if not wanted:
        return None
    for platform_id, display_name in names.items():
        if wanted in (_normalise(platform_id), _normalise(display_name)):
            return platform_id
    alias = ALIASES.get(wanted.replace(" ", ""))
    if alias and (catalog is None or alias in names):
        return alias
    return None


def display_name(platform_id: str | None, catalog: Mapping[str, str] | None = None) -> str:
    """What to show a person for a platform id; an unknown id is shown as it is."""
    if not platform_id:
        return "unknown platform"
    if catalog and platform_id in catalog:
        return catalog[platform_id]
    return KNOWN_PLATFORMS.get(platform_id, platform_id)


def catalog_from(platforms: Iterable[object]) -> dict[str, str]:
    """Map id -> display name from catalog entries that have ``id`` and ``display_name``."""
    return {p.id: p.display_name for p in platforms}  # type: ignore[attr-defined]
