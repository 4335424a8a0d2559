"""Accounts: organizations, contacts, interactions, the timeline a merge writes and the
cleaning of hand edits. Above scoring (an interaction rescores its account)."""
