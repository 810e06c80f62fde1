from tests.slack.conftest import driver, sandbox, services, settings, settings_overrides, slack  # noqa: F401
from tests.slack.test_card_actions import card  # noqa: F401
