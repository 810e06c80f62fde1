"""A watcher in its own process, for the test that SIGKILLs a lease holder mid-cycle.

Usage: ``python -m tests.notify.holder_process DATABASE_URL DOIT_URL SLACK_URL``
"""

from __future__ import annotations

import logging
import sys
import threading

from tests.notify.helpers import make_services, make_settings, make_slack_client, make_watcher

HOLDER = "doomed"
LEASE_SECONDS = 1.0
POST_INTERVAL = 0.1


def main(argv: list[str]) -> None:
    database_url, doit_url, slack_url = argv
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    settings = make_settings(database_url=database_url, doit_url=doit_url, slack_url=slack_url)
    services = make_services(settings)
    watcher = make_watcher(
        services,
        make_slack_client(settings),
        holder=HOLDER,
        lease_seconds=LEASE_SECONDS,
        post_interval=POST_INTERVAL,
    )
    watcher.run_forever(threading.Event())  # until the test kills the process


if __name__ == "__main__":
    main(sys.argv[1:])
