"""doit-slack: DoiT support tickets from Slack."""

__version__ = "0.1.0"
