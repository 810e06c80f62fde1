"""Cached platform and product catalogs.

The modal needs the platform list before a trigger id expires and the product select asks again on
every keystroke, so both are kept for a while. DoiT's catalog is the authority when it can be
reached; when it cannot, platforms fall back to the built-in table so a modal still opens.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.support.client import INTERACTIVE_BUDGET, SupportClient
from bot.support.errors import SupportError
from bot.support.models import Platform, Product
from bot.support.platforms import KNOWN_PLATFORMS

logger = logging.getLogger(__name__)


class Catalog:
    """Platforms and products per platform, each cached for ``ttl`` seconds."""

    def __init__(
        self, client: SupportClient, *, ttl: float = 900.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._platforms: tuple[float, list[Platform]] | None = None
        self._products: dict[str, tuple[float, list[Product]]] = {}

    def platforms(self, *, budget: float = INTERACTIVE_BUDGET) -> list[Platform]:
        """The catalog's platforms, or the built-in four when DoiT cannot be reached right now."""
        with self._lock:
            cached = self._platforms
        if cached and self._clock() - cached[0] < self._ttl:
            return cached[1]
        try:
            platforms = self._client.list_platforms(budget=budget)
        except SupportError as exc:
            if cached:
                logger.warning("Using the stale platform catalog: %s", exc)
                return cached[1]
            logger.warning("Using the built-in platform list: %s", exc)
            return [Platform(id=pid, display_name=name) for pid, name in KNOWN_PLATFORMS.items()]
        with self._lock:
            self._platforms = (self._clock(), platforms)
        return platforms

    def fresh_platforms(self) -> list[Platform] | None:
        """The cached platforms while still fresh, else None; never calls DoiT."""
        with self._lock:
            cached = self._platforms
        if cached and self._clock() - cached[0] < self._ttl:
            return cached[1]
        return None

    def cached_platform_names(self) -> dict[str, str]:
        """id -> display name from whatever is cached, without calling DoiT."""
        with self._lock:
            cached = self._platforms
        names = dict(KNOWN_PLATFORMS)
        if cached:
            names.update({p.id: p.display_name for p in cached[1]})
        return names

    def platform_names(self, *, budget: float = INTERACTIVE_BUDGET) -> dict[str, str]:
        names = dict(KNOWN_PLATFORMS)
        names.update({p.id: p.display_name for p in self.platforms(budget=budget)})
        return names

    def products(self, platform_id: str, *, budget: float = INTERACTIVE_BUDGET) -> list[Product]:
        """Products of one platform; raises :class:`SupportError` when DoiT cannot list them."""
        with self._lock:
            cached = self._products.get(platform_id)
        if cached and self._clock() - cached[0] < self._ttl:
            return cached[1]
        try:
            products = self._client.list_products(platform_id, budget=budget)
        except SupportError:
            if cached:
                return cached[1]
            raise
        with self._lock:
            self._products[platform_id] = (self._clock(), products)
        return products

    def product(self, platform_id: str, product_id: str) -> Product | None:
        """A product by id from the cache or the catalog; None when unknown or unreachable."""
        try:
            products = self.products(platform_id)
        except SupportError:
            return None
        return next((p for p in products if p.id == product_id), None)
