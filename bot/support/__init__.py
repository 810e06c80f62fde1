"""The DoiT Support API: client, models, query language and a local sandbox.

Nothing in this package knows about Slack.
"""
