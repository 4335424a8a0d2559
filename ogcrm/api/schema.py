"""Build the GraphQL schema with its protective limits installed from day one."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from graphql import ASTValidationRule, GraphQLError
from ogcrm.api.errors import error_extensions
from ogcrm.api.mutations import Mutation
from ogcrm.api.queries import Query
from ogcrm.api.subscriptions import Subscription
from ogcrm.api.validation import NoNulCharacters, OneCredentialFieldPerDocument
from ogcrm.config import Settings
from ogcrm.errors import DomainError

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2_000
#: Distinct documents kept parsed and validated (bounded: unique texts cannot grow memory).
QUERY_CACHE_SIZE = 256


def should_mask_error(error: GraphQLError) -> bool:
    """Mask unexpected errors only: validation errors and domain errors are for the user.

    Strawberry's default masks everything, including the depth and alias limit messages
    a client needs to fix its query.
    """
    original = error.original_error
    # a GraphQLError inside another (a variable that does not coerce) is the client's too
    client = DomainError | StrawberryGraphQLError | GraphQLError
    return not (original is None or isinstance(original, client))


#: graphql-core's "Did you mean ...?" tails: of fields, arguments, input fields, enum
#: values and types alike.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class OgcrmSchema(strawberry.Schema):
    """Logs only unexpected errors: a client's invalid query or a refused token is the
    client's business, not an incident (those are audited or answered, not logged).
    A domain error gets its ``code`` (and ``field``) in the error's extensions. With
    introspection off, no error suggests a name: "Did you mean 'version'?" would hand
    out the schema introspection was turned off to keep."""

    hide_suggestions = False

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            if self.hide_suggestions:
                error.message = _SUGGESTION.sub("", error.message)
            extra = error_extensions(error.original_error) if error.original_error else None
            if extra:
                error.extensions = {**(error.extensions or {}), **extra}
        super().process_errors([e for e in errors if should_mask_error(e)], execution_context)


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema as served. Extensions are passed as factories, never instances, so no
    per-request state is shared between concurrent requests (strawberry PR #4392)."""
    # The depth and alias limits as rule classes made once: QueryDepthLimiter and
    # MaxAliasesLimiter mint a new class per instance, i.e. per request, and the
    # validation cache is keyed on the rules, so it never hit (every request was
    # validated again, about a millisecond of a list page).
    rules: list[type[ASTValidationRule]] = [
        query_depth_limiter.create_validator(MAX_DEPTH, None),
        max_aliases.create_validator(MAX_ALIASES),
        OneCredentialFieldPerDocument,
        NoNulCharacters,
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[type[SchemaExtension] | partial[SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(AddValidationRules, rules),
        # after the limits (they set the parse options and rules the caches key on):
        # a front end sends the same few documents all day, parsed and validated once
        partial(ParserCache, maxsize=QUERY_CACHE_SIZE),
        partial(ValidationCache, maxsize=QUERY_CACHE_SIZE),
    ]
    if not settings.debug:
        extensions.append(partial(MaskErrors, should_mask_error=should_mask_error))
    schema = OgcrmSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(relay_max_results=settings.max_page_size),
    )
    schema.hide_suggestions = not settings.introspection
    return schema


def export_sdl() -> str:
    """The schema's SDL as checked into ``graphql/schema.graphql``.

    Built with default settings: limits and masking change behaviour, not the schema.
    """
    return build_schema(Settings()).as_str() + "\n"
