"""Datasets from intake to revert: intake, staging, review, the state machine
(:mod:`ogcrm.datasets.lifecycle`), merge, preview, revert, and their jobs."""
