"""Hostile data from DoiT and odd deliveries from Slack, against notifications, Home, unfurls and
card buttons. Each case once broke something (a watcher stuck for good on one ticket, a second
card, a comment added twice)."""
