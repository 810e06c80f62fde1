"""What the bot says when something goes wrong: one sentence a person can act on.

Kept in one place so the wording stays consistent across commands, modals and actions, and so a
test can check that no sentence ever leaks a stack trace or a secret.
"""

from __future__ import annotations

from bot.support.errors import (
    BadApiKey,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    SupportError,
    SupportUnavailable,
    SupportUnreachable,
    TicketNotFound,
)


def for_support_error(error: SupportError, *, ticket_id: int | None = None) -> str:
    """The sentence for a DoiT failure, in words a Slack user can act on."""
    if isinstance(error, BadApiKey):
        return "DoiT did not accept this bot's API key. Ask whoever runs the bot to run `doit-slack doctor`."
    if isinstance(error, PermissionDenied):
        return (
            "DoiT says this bot's API key may not do that. Ask whoever runs the bot to check the key's "
            "permissions and DOIT_TENANT_ID."
        )
    if isinstance(error, TicketNotFound):
        if ticket_id is not None:
            return f"DoiT has no ticket #{ticket_id} that this bot can see."
        return "DoiT could not find that ticket."
    if isinstance(error, RequestRejected):
        return f"DoiT rejected the request: {error.message.rstrip('.')}."
    if isinstance(error, RateLimited):
        return "DoiT is receiving too many requests from this bot right now. Try again in a minute."
    if isinstance(error, SupportUnavailable):
        return "DoiT's support system is unavailable right now. Try again in a few minutes."
    if isinstance(error, SupportUnreachable):
        return "I could not reach DoiT just now. Try again in a few minutes."
    return "DoiT sent an answer I could not understand. Try again, and tell whoever runs the bot if it lasts."


def for_uncertain_create() -> str:
    """The create request reached DoiT but no answer came back: it may exist already."""
    return (
        "DoiT did not answer in time, so I can't tell whether the ticket was filed. Check "
        "`/doit list mine` in a minute before trying again; your text is still here."
    )


def for_unexpected_create(reference: str) -> str:
    return (
        f"Something went wrong on my side (reference `{reference}`), so I can't tell whether the ticket "
        "was filed. Check `/doit list mine` in a minute before trying again; your text is still here."
    )


def for_unexpected(reference: str) -> str:
    return f"Something went wrong on my side and it has been logged (reference `{reference}`). Try again."


def for_cannot_post(channel_id: str, error: str) -> str:
    """Why the card came privately instead of in the channel.

    Plain words, no channel link: the builders escape these sentences like any other text.
    """
    reasons = {
        "not_in_channel": "I'm not a member of that channel. Invite me there with `/invite @DoiT`",
        "channel_not_found": "I can't see that channel (a private channel I'm not in, or a deleted one)",
        "is_archived": "that channel is archived",
    }
    reason = reasons.get(error, f"Slack refused the post ({error})")
    return f"I couldn't post this card in the channel you chose: {reason}."


def for_slow_down(count: int, window_seconds: float) -> str:
    minutes = max(1, round(window_seconds / 60))
    return (
        f"You have filed {count} tickets in the last {minutes} minutes. Please wait a little before "
        "filing another; your text stays here."
    )


def for_missing_email() -> str:
    return (
        "I can't see an email address on your Slack profile, so I can't tell which DoiT tickets are yours. "
        "Try `requester:you@example.com` instead."
    )
