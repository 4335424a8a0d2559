"""The sales modules: tasks (follow-ups), the opportunity pipeline, products and orders.

Each is a service over a session and a principal, usable from the CLI, jobs and tests as
well as from GraphQL; scope comes from :mod:`ogcrm.auth.policy`, and every state machine
(task status, opportunity stage, order status) lives in the one module that moves it,
by a conditional ``UPDATE`` whose row count is checked, so two people acting at once
cannot both move a record from the same state.
"""
