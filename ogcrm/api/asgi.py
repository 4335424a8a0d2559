"""ASGI entry point for uvicorn and other servers: ``ogcrm.api.asgi:app_from_env``."""

from __future__ import annotations

from starlette.applications import Starlette

from ogcrm.api.app import create_app
from ogcrm.config import Settings


def app_from_env() -> Starlette:
    """Build the app from ``OGCRM_*`` settings (uvicorn ``--factory``)."""
    return create_app(Settings.from_env(), freeze_after_start=True)
