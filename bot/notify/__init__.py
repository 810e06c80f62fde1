"""Channel notifications: subscriptions, cards that follow their ticket, and the watcher.

One watcher polls DoiT once per cycle for every subscription and card (:mod:`bot.notify.watcher`),
records each notification before posting it and marks it delivered once Slack accepted it, so a
crash or restart neither loses nor repeats one. Several instances share the work through a lease
in the database (:mod:`bot.notify.lease`); exactly one of them runs the watcher at a time.
"""
