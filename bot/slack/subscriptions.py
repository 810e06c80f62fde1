"""`/doit subscribe`, `/doit subscriptions` and `/doit unsubscribe`: thin handlers, already acked.

Subscribing and unsubscribing are announced to the channel (everyone there will see the posts);
lists, refusals and mistakes go only to the person who typed the command.
"""

from __future__ import annotations

import logging
import re

from slack_sdk.errors import SlackApiError

from bot.blocks.help import error_message, query_error_message
from bot.blocks.notifications import (
    ListedSubscription,
    no_such_subscription,
    subscribed,
    subscription_exists,
    subscription_problem,
    subscription_resumed,
    subscriptions_list,
    unsubscribed,
)
from bot.blocks.text import channel_mention
from bot.notify import subscriptions as subs
from bot.slack.requests import CommandRequest
from bot.support.query import ACCEPTED_SYNTAX, QueryError

logger = logging.getLogger(__name__)

_NUMBER = re.compile(r"#?([0-9]{1,6})")


def subscribe(req: CommandRequest) -> None:
    """`/doit subscribe [query]`: post matching new tickets and status changes in this channel."""
    problem = _cannot_post_here(req)
    if problem:
        req.reply(subscription_problem(problem))
        return
    names = req.services.catalog.platform_names()
    try:
        query = subs.subscription_query(req.text, platforms=names)
    except QueryError as exc:
        req.reply(query_error_message(exc.problem, ACCEPTED_SYNTAX))
        return
    except subs.SubscriptionError as exc:
        req.reply(error_message(str(exc)))
        return
    try:
        added = subs.add_subscription(req.services.store, req.channel_id, req.user_id, query)
    except subs.SubscriptionError as exc:
        req.reply(error_message(str(exc)))
        return
    entry = _listed(added.subscription, query.describe(names))
    if added.outcome is subs.AddOutcome.EXISTS:
        req.reply(subscription_exists(entry))
    elif added.outcome is subs.AddOutcome.RESUMED:
        req.reply(subscription_resumed(req.channel_id, entry, req.user_id), public=True)
    else:
        req.reply(subscribed(req.channel_id, entry, req.user_id), public=True)


def list_subscriptions(req: CommandRequest) -> None:
    """`/doit subscriptions`: this channel's subscriptions, numbered."""
    if _is_direct_message(req.channel_id):
        req.reply(subscription_problem(_DIRECT_MESSAGE))
        return
    names = req.services.catalog.cached_platform_names()
    found = subs.list_subscriptions(req.services.store, req.channel_id)
    entries = [_listed(subscription, _describe(subscription, names)) for subscription in found]
    req.reply(subscriptions_list(req.channel_id, entries))


def unsubscribe(req: CommandRequest) -> None:
    """`/doit unsubscribe <n> [<n>...]` or `/doit unsubscribe all`."""
    if _is_direct_message(req.channel_id):
        req.reply(subscription_problem(_DIRECT_MESSAGE))
        return
    words = req.text.replace(",", " ").split()
    store = req.services.store
    names = req.services.catalog.cached_platform_names()
    if [word.lower() for word in words] == ["all"]:
        removed = subs.remove_all_subscriptions(store, req.channel_id)
        if not removed:
            req.reply(no_such_subscription(req.channel_id, [], []))
            return
        entries = [_listed(subscription, _describe(subscription, names)) for subscription in removed]
        req.reply(unsubscribed(req.channel_id, entries, req.user_id), public=True)
        return
    numbers = _numbers(words)
    if numbers is None:
        req.reply(
            error_message(
                "Say which subscription to remove: its number from `/doit subscriptions` "
                "(e.g. `/doit unsubscribe 2`), or `all`."
            )
        )
        return
    removed = [
        found for number in numbers if (found := subs.remove_subscription(store, req.channel_id, number))
    ]
    missing = [
        number for number in numbers if number not in {subscription.number for subscription in removed}
    ]
    if removed:
        entries = [_listed(subscription, _describe(subscription, names)) for subscription in removed]
        req.reply(unsubscribed(req.channel_id, entries, req.user_id), public=True)
    if missing:
        existing = [subscription.number for subscription in subs.list_subscriptions(store, req.channel_id)]
        req.reply(no_such_subscription(req.channel_id, missing, existing))


# -- helpers ---------------------------------------------------------------------------------------

_DIRECT_MESSAGE = (
    "Subscriptions belong to channels, and this is a direct message. Run `/doit subscribe [query]` "
    "in the channel that should hear about tickets (invite me there first with `/invite @DoiT`)."
)


def _is_direct_message(channel_id: str) -> bool:
    return channel_id.startswith("D")


def _cannot_post_here(req: CommandRequest) -> str | None:
    """Why the watcher could not post in the command's channel, or None when it can."""
    if _is_direct_message(req.channel_id):
        return _DIRECT_MESSAGE
    try:
        channel = req.client.conversations_info(channel=req.channel_id)["channel"] or {}
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "channel_not_found":
            return (
                "I can't see this channel: it is private and I'm not a member. Invite me with "
                "`/invite @DoiT`, then run the command again."
            )
        # Without channels:read the watcher will still find out when it first posts here.
        logger.warning("conversations.info for %s failed: %s", req.channel_id, error)
        return None
    if channel.get("is_im") or channel.get("is_mpim"):
        return _DIRECT_MESSAGE
    if channel.get("is_archived"):
        return "This channel is archived, so nothing can be posted here."
    if not channel.get("is_member", True):
        return (
            f"I'm not a member of {channel_mention(req.channel_id)}, so I couldn't post what you subscribe "
            "to. Invite me with `/invite @DoiT`, then run the command again."
        )
    return None


def _numbers(words: list[str]) -> list[int] | None:
    numbers: list[int] = []
    for word in words:
        match = _NUMBER.fullmatch(word)
        if match is None:
            return None
        if int(match.group(1)) not in numbers:
            numbers.append(int(match.group(1)))
    return numbers or None


def _describe(subscription: subs.Subscription, names: dict[str, str]) -> str:
    try:
        return subscription.ticket_query(names).describe(names)
    except QueryError:
        return subscription.query or "all tickets"


def _listed(subscription: subs.Subscription, description: str) -> ListedSubscription:
    return ListedSubscription(
        number=subscription.number,
        description=description,
        query=subscription.query,
        paused_reason=subscription.paused_reason,
    )
