"""Validation rules run before any resolver."""

from __future__ import annotations

from typing import Any

from graphql.validation import ValidationRule

from graphql import FieldNode, GraphQLError, StringValueNode, ValidationContext

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


class NoNulCharacters(ValidationRule):
    """A string literal may not hold a NUL character: PostgreSQL refuses to store one
    (SQLite would), so it is refused here, the same on both (variables are checked as
    the body is read, :meth:`ogcrm.api.app.GraphQLApp.decode_json`)."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError("text may not contain NUL characters", node))
