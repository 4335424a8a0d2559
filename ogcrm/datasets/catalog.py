"""What files can be read as: the sources plugins ship and the canonical fields a
mapping targets (``ogcrm sources``, ``ogcrm fields`` and their GraphQL twins)."""

from __future__ import annotations

from typing import Any

from ogcrm.auth import policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action
from ogcrm.pipeline.fields import FIELDS
from ogcrm.plugins import Registry, default_registry


def sources(principal: Principal, registry: Registry | None = None) -> list[dict[str, Any]]:
    """Every source the plugins provide, with its mapping (canonical field -> the file's
    column), cleaner chain, precedence and plugin; for roles that may read sources."""
    policy.require(principal, "source", Action.READ)
    registry = registry or default_registry()
    return [
        {
            "name": spec.name,
            "title": spec.title,
            "agency": spec.agency,
            "state": spec.state,
            "reader": spec.reader,
            "fields": {f: spec.raw_column(f) for f in spec.mapping},
            "cleaners": list(spec.cleaners),
            "precedence": spec.precedence,
            "plugin": registry.provided_by[("source", spec.name)],
        }
        for spec in registry.sources.values()
    ]


def fields() -> list[dict[str, Any]]:
    """The canonical fields, in catalog order."""
    return [
        {
            "name": f.name,
            "entity": f.entity,
            "kind": f.kind,
            "unit": f.unit,
            "description": f.description,
        }
        for f in FIELDS
    ]
