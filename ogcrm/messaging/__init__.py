"""Outbound messages: recorded, then delivered by a notifier plugin in a job.

A message is recorded first (who, which template, the address), in the transaction of
whatever asked for it, and its ``messages.send`` job is sent after commit. The job takes
the message (``queued`` -> ``sending``, one conditional UPDATE: a duplicate job finds
nothing to take), waits for the rate limit, hands it to the notifier, and records the
outcome. An opted-out contact is never sent anything: the record says ``skipped``.
"""
