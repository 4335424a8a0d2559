"""What a query asked for below a field, so a resolver can read it with its parent.

Strawberry's ``info.selected_fields`` converts the whole subtree on every call; a list of
fifty accounts would convert it fifty times. This reads graphql-core's field nodes
directly and remembers the answer for the request (the fifty calls share the nodes).
"""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode


def asked(info: Info[Any, Any], names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of ``names`` selected directly below this field, fragments included.

    ``@skip``/``@include`` are not evaluated: a conditionally selected field counts as
    asked, so the answer errs towards reading (and auditing) a little more, never less.
    """
    found = asked_below(info, (), names)
    return found if found is not None else ()


def asked_below(
    info: Info[Any, Any], path: tuple[str, ...], names: tuple[str, ...]
) -> tuple[str, ...] | None:
    """Those of ``names`` selected at ``path`` below this field (``("edges", "node")``
    for a connection's nodes), or ``None`` when the path itself is not selected: a page
    resolver reads with its rows what the query will ask of each of them.

    Aliases do not matter (field names are compared), and a path selected twice (under
    two aliases, or a fragment) gives the union of what each asks.
    """
    raw = info._raw_info
    cache: dict[tuple[Any, ...], tuple[str, ...] | None] = info.context.selections
    key = (*map(id, raw.field_nodes), path, names)
    if key not in cache:
        sets = [n.selection_set for n in raw.field_nodes if n.selection_set is not None]
        for step in path:
            sets = [
                node.selection_set
                for node in _fields(sets, raw.fragments)
                if node.name.value == step and node.selection_set is not None
            ]
        if path and not sets:
            cache[key] = None
        else:
            found = {node.name.value for node in _fields(sets, raw.fragments)}
            cache[key] = tuple(n for n in names if n in found)
    return cache[key]


def _fields(sets: list[SelectionSetNode], fragments: dict[str, Any]) -> list[FieldNode]:
    """The field nodes of these selection sets, fragments spread."""
    out: list[FieldNode] = []
    stack = list(sets)
    while stack:
        for node in stack.pop().selections:
            if isinstance(node, FieldNode):
                out.append(node)
            elif isinstance(node, InlineFragmentNode):
                stack.append(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                stack.append(fragments[node.name.value].selection_set)
    return out
