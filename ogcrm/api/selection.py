"""What a query asked for below a field, so a resolver can read it with its parent.

Strawberry's ``info.selected_fields`` converts the whole subtree on every call; a list of
fifty accounts would convert it fifty times. This reads graphql-core's field nodes
directly and remembers the answer for the request (the fifty calls share the nodes).
"""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode


def asked(info: Info[Any, Any], names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of ``names`` selected directly below this field, fragments included.

    ``@skip``/``@include`` are not evaluated: a conditionally selected field counts as
    asked, so the answer errs towards reading (and auditing) a little more, never less.
    """
    raw = info._raw_info
    cache: dict[tuple[Any, ...], tuple[str, ...]] = info.context.selections
    key = (*map(id, raw.field_nodes), names)
    if key not in cache:
        found: set[str] = set()
        stack = [n.selection_set for n in raw.field_nodes if n.selection_set is not None]
        while stack:
            for node in stack.pop().selections:
                if isinstance(node, FieldNode):
                    found.add(node.name.value)
                elif isinstance(node, InlineFragmentNode):
                    stack.append(node.selection_set)
                elif isinstance(node, FragmentSpreadNode):
                    stack.append(raw.fragments[node.name.value].selection_set)
        cache[key] = tuple(n for n in names if n in found)
    return cache[key]
