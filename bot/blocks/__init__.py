"""Pure Block Kit builders: data in, Slack payload dicts out.

Nothing here performs I/O or talks to Slack or DoiT; handlers call these functions and send
what they return. Every user- or API-written string goes through :mod:`bot.blocks.text`.
"""
