from __future__ import annotations

from bot.support.sandbox import Sandbox
from tests.slack.harness import SlackDriver


def test_list_when_asked_acks_empty_and_replies_privately(driver: SlackDriver, sandbox: Sandbox) -> None:
    response, url = driver.command("list severity:high")
    assert response.status == 200
    assert response.body == ""
    [reply] = driver.responses(url)
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0]["type"] == "header"
    print(reply["text"])
    calls = sandbox.requests_to("GET", "/support/v1/tickets")
    assert len(calls) == 1
    assert calls[0].query["filter"] == ["severity:high"]
