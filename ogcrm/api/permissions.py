"""Field permissions: a thin first line. Scope itself is applied in SQL by the services."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info


class IsAuthenticated(BasePermission):
    message = "sign in first: send Authorization: Bearer <access token>"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal is not None
