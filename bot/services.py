"""What the listeners and the watcher share, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Settings
from bot.slack.directory import Directory
from bot.store import Store
from bot.support.catalog import Catalog
from bot.support.client import BACKGROUND_BUDGET, SupportClient


@dataclass
class Services:
    settings: Settings
    support: SupportClient
    store: Store
    catalog: Catalog
    directory: Directory = field(default_factory=Directory)

    @classmethod
    def from_settings(cls, settings: Settings, *, support: SupportClient | None = None) -> Services:
        settings.require("DOIT_API_KEY")
        assert settings.doit_api_key is not None
        support = support or SupportClient(
            settings.doit_api_key,
            base_url=settings.doit_api_base_url,
            tenant_id=settings.doit_tenant_id,
        )
        return cls(
            settings=settings,
            support=support,
            store=Store.connect(settings.database_url),
            catalog=Catalog(support),
        )

    def warm_up(self) -> None:
        """Fetch the platform catalog once, so the first list shows display names, not ids."""
        self.catalog.platforms(budget=BACKGROUND_BUDGET)

    def close(self) -> None:
        self.support.close()
        self.store.close()
