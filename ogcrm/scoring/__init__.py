"""Scoring: the features rules read, rescoring in SQL, rule sets and overrides, and the
rescore job."""
