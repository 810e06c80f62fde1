"""The product select of the create modal against a platform with a big catalog."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.blocks import ids
from bot.fakeslack import FakeSlack
from bot.support.sandbox import Sandbox
from tests.slack.harness import SlackDriver
from tests.slack.test_create_flow import open_form

MANY_PRODUCTS = [f"Product {number:03d}" for number in range(149)] + ["P" * 80]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tickets=40, seed=3, products={"amazon_web_services": MANY_PRODUCTS}) as running:
        yield running


def product_suggestions(driver: SlackDriver, view: dict, typed: str) -> list[dict]:
    payload = {
        "type": "block_suggestion",
        "user": {"id": "U0DANA"},
        "action_id": ids.PRODUCT_INPUT,
        "block_id": ids.PRODUCT,
        "value": typed,
        "view": {
            "id": view["id"],
            "callback_id": ids.CREATE_CALLBACK,
            "state": {
                "values": {
                    "platform": {"platform_input": {"selected_option": {"value": "amazon_web_services"}}}
                }
            },
        },
    }
    return json.loads(driver.interact(payload).body)["options"]


def test_product_options_of_150_products_are_capped_at_100_with_labels_cut(
    driver: SlackDriver, slack: FakeSlack, sandbox: Sandbox
) -> None:
    view = open_form(driver, slack)
    everything = product_suggestions(driver, view, "")
    assert len(everything) == 100
    [long_one] = product_suggestions(driver, view, "PPPP")
    assert len(long_one["text"]["text"]) == 75
    assert long_one["text"]["text"].endswith("…")
    assert len(product_suggestions(driver, view, "product 14")) == 9  # 140..148
    assert len(sandbox.requests_to("GET", "/support/v1/metadata/products")) == 1  # cached per platform
