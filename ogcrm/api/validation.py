"""Validation rules run before any resolver."""

from __future__ import annotations

from typing import Any

from graphql.validation import ValidationRule

from graphql import FieldNode, GraphQLError, ValidationContext

#: Fields that check a secret: one per document, so aliases cannot multiply guesses in
#: a single request (OpenCTI-Platform/opencti#6898).
CREDENTIAL_FIELDS = frozenset({"login", "refresh", "changePassword"})


class OneCredentialFieldPerDocument(ValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self._seen = 0

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.context.get_parent_type()
        if parent is None or parent.name != "Mutation" or node.name.value not in CREDENTIAL_FIELDS:
            return
        self._seen += 1
        if self._seen == 2:
            self.report_error(
                GraphQLError(
                    f"at most one of {', '.join(sorted(CREDENTIAL_FIELDS))} per request",
                    node,
                )
            )
