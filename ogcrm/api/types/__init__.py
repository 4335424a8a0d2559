"""GraphQL types, one module per domain area."""
