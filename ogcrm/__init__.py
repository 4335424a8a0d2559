"""ogcrm: a GraphQL CRM fed by public oil and gas regulatory data.

This module is deliberately small: it is the public surface that plugins import.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
