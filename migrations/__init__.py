"""Alembic environment and revisions, installed as ``ogcrm_migrations``."""
