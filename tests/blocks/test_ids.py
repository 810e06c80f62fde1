from bot.blocks import ids


def test_ids_when_listed_are_unique():
    assert len(set(ids.ACTION_IDS)) == len(ids.ACTION_IDS)
    assert len(set(ids.CALLBACK_IDS)) == len(ids.CALLBACK_IDS)


def test_ids_when_input_blocks_use_block_id_plus_input_as_action_id():
    pairs = [
        (ids.SUBJECT, ids.SUBJECT_INPUT),
        (ids.DESCRIPTION, ids.DESCRIPTION_INPUT),
        (ids.SEVERITY, ids.SEVERITY_INPUT),
        (ids.PLATFORM, ids.PLATFORM_CHANGED),
        (ids.PRODUCT, ids.PRODUCT_INPUT),
        (ids.REQUESTER, ids.REQUESTER_INPUT),
        (ids.CHANNEL, ids.CHANNEL_INPUT),
        (ids.COMMENT, ids.COMMENT_INPUT),
    ]

    assert all(action_id == block_id + "_input" for block_id, action_id in pairs)


def test_ids_when_named_in_the_interface_have_their_agreed_values():
    assert (ids.CREATE_CALLBACK, ids.COMMENT_CALLBACK) == ("doit_create", "doit_comment")
    assert (ids.LIST_NEXT, ids.LIST_PREVIOUS, ids.OPEN_TICKET) == (
        "doit_list_next",
        "doit_list_previous",
        "doit_open_ticket",
    )
    assert (ids.CARD_REFRESH, ids.CARD_COMMENT, ids.CARD_SOLVE) == (
        "doit_card_refresh",
        "doit_card_comment",
        "doit_card_solve",
    )
    assert (ids.HOME_NEW_TICKET, ids.SHOW_ADD_COMMENT) == ("doit_home_new", "doit_show_comment")
