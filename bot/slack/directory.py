"""Who is who in the workspace: Slack user id <-> email, cached.

Looking up the asker's email on every `/doit list mine` or every card would cost a Slack call
each time; people's emails change rarely, so answers are kept for a while (misses too, so a
requester who is not a member does not cost a lookup per card).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)

_MISSING = ""


class Directory:
    """Cached ``users.info`` and ``users.lookupByEmail``."""

    def __init__(self, *, ttl: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._email_by_user: dict[str, tuple[float, str]] = {}
        self._user_by_email: dict[str, tuple[float, str]] = {}

    def email_of(self, client: WebClient, user_id: str) -> str | None:
        """The user's profile email, or None when hidden, absent or unknown."""
        cached = self._get(self._email_by_user, user_id)
        if cached is not None:
            return cached or None
        try:
            user = client.users_info(user=user_id)["user"] or {}
        except SlackApiError as exc:
            logger.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return None
        email = ((user.get("profile") or {}).get("email") or "").strip().lower()
        self._put(self._email_by_user, user_id, email)
        if email:
            self._put(self._user_by_email, email, user_id)
        return email or None

    def known_email_of(self, user_id: str) -> tuple[bool, str | None]:
        """(True, email or None) when the answer is cached, (False, None) when it would cost a call."""
        cached = self._get(self._email_by_user, user_id)
        if cached is None:
            return False, None
        return True, cached or None

    def user_for_email(self, client: WebClient, email: str | None) -> str | None:
        """The member's user id for an email, or None when nobody in the workspace has it."""
        if not email:
            return None
        email = email.strip().lower()
        cached = self._get(self._user_by_email, email)
        if cached is not None:
            return cached or None
        try:
            user = client.users_lookupByEmail(email=email)["user"] or {}
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error != "users_not_found":
                logger.warning("users.lookupByEmail failed: %s", error)
                return None  # not cached: a transient failure should not hide a member for an hour
            user = {}
        user_id = user.get("id") or _MISSING
        if user.get("deleted") or user.get("is_bot"):
            user_id = _MISSING
        self._put(self._user_by_email, email, user_id)
        return user_id or None

    def _get(self, table: dict[str, tuple[float, str]], key: str) -> str | None:
        with self._lock:
            entry = table.get(key)
        if entry and self._clock() - entry[0] < self._ttl:
            return entry[1]
        return None

    def _put(self, table: dict[str, tuple[float, str]], key: str, value: str) -> None:
        with self._lock:
            table[key] = (self._clock(), value)
