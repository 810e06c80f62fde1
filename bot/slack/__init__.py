"""The Slack side: Bolt listeners grouped by surface, each module with ``register(app, services)``."""
