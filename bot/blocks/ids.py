"""Every callback_id, block_id and action_id the bot uses, in one place.

Builders put these in payloads; handlers register listeners for them; the manifest test checks
them. An input block's element has the action id ``<block id>_input``; Slack keys a view's
``state.values`` by block id, then action id, and keys validation errors by block id.
"""

from __future__ import annotations

# Views (callback_id).
CREATE_CALLBACK = "doit_create"
COMMENT_CALLBACK = "doit_comment"
LOADING_CALLBACK = "doit_loading"
FILING_CALLBACK = "doit_filing"
FILED_CALLBACK = "doit_filed"

# Input blocks of the create modal (block_id) and their elements (action_id).
SUBJECT = "subject"
DESCRIPTION = "description"
SEVERITY = "severity"
PLATFORM = "platform"
PRODUCT = "product"
REQUESTER = "requester"
CHANNEL = "channel"
SUBJECT_INPUT = SUBJECT + "_input"
DESCRIPTION_INPUT = DESCRIPTION + "_input"
SEVERITY_INPUT = SEVERITY + "_input"
PLATFORM_INPUT = PLATFORM + "_input"
PRODUCT_INPUT = PRODUCT + "_input"
"""The product external_select: the options listener answers for this action id."""
REQUESTER_INPUT = REQUESTER + "_input"
CHANNEL_INPUT = CHANNEL + "_input"
PLATFORM_CHANGED = PLATFORM_INPUT
"""The platform select dispatches its pick, so the product list can follow the platform."""

# The comment modal's one input.
COMMENT = "comment"
COMMENT_INPUT = COMMENT + "_input"

# Non-input blocks (block_id).
NOTICE = "doit_notice"
CARD_ACTIONS = "doit_card_actions"
LIST_NAVIGATION = "doit_list_navigation"
DETAIL_ACTIONS = "doit_detail_actions"

# Buttons (action_id).
LIST_NEXT = "doit_list_next"
LIST_PREVIOUS = "doit_list_previous"
OPEN_TICKET = "doit_open_ticket"
"""URL buttons: Slack still sends block_actions for them, so a listener must ack."""
CARD_REFRESH = "doit_card_refresh"
CARD_COMMENT = "doit_card_comment"
CARD_SOLVE = "doit_card_solve"
HOME_NEW_TICKET = "doit_home_new"
SHOW_ADD_COMMENT = "doit_show_comment"

CALLBACK_IDS: tuple[str, ...] = (
    CREATE_CALLBACK,
    COMMENT_CALLBACK,
    LOADING_CALLBACK,
    FILING_CALLBACK,
    FILED_CALLBACK,
)
ACTION_IDS: tuple[str, ...] = (
    LIST_NEXT,
    LIST_PREVIOUS,
    OPEN_TICKET,
    PLATFORM_CHANGED,
    CARD_REFRESH,
    CARD_COMMENT,
    CARD_SOLVE,
    HOME_NEW_TICKET,
    SHOW_ADD_COMMENT,
)
"""Action ids that send ``block_actions`` and so need a listener."""

# Shortcuts (callback_id), as declared in manifest.yml.
FILE_FROM_MESSAGE_SHORTCUT = "doit_file_from_message"
"""The message shortcut "File a DoiT ticket"."""
NEW_TICKET_SHORTCUT = "doit_new_ticket"
"""The global shortcut "New DoiT ticket"."""

SHORTCUT_CALLBACK_IDS: tuple[str, ...] = (FILE_FROM_MESSAGE_SHORTCUT, NEW_TICKET_SHORTCUT)
