"""Prioritization rules: JSON-logic evaluation, compilation to SQL, validation, scoring."""
