from tests.notify.conftest import client, sandbox, services, settings, slack  # noqa: F401
