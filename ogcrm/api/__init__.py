"""The HTTP surface: a Starlette app serving GraphQL and health, thin over the services."""
