"""Dramatiq actors: thin, idempotent wrappers that take ids and call one service.

``ogcrm worker`` imports this module in each worker process after the broker is set.
The dataset lifecycle (ingest, merge, revert) declares its actors here.
"""
