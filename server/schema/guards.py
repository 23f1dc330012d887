"""Checks every operation passes after validation and before anything runs (schema extensions,
listed in server/schema/schema.py). A refusal is a GraphQL error with BAD_USER_INPUT, and no
resolver runs.

* OneOperation - a document with several operations needs `operationName` (GraphQL spec,
  "GetOperation"); without it none is run, rather than the first.
* StorableText - no string in the variables or in the document's literals may hold a NUL
  character or a lone surrogate: PostgreSQL cannot store either, so neither engine gets them.
  One check for every argument and input field, present and future.
* CostLimit - the estimated number of fields a query resolves, at most MAX_COST. Each field
  costs 1 times the sizes of the lists it sits in. A list's size is its page-size argument
  (`first`, on the field itself or on the connection above it), else the `max_items` its
  field declares (strawberry.field(metadata={"max_items": n}), for lists the server caps),
  else DEFAULT_LIST_SIZE. Introspection (`__schema`, `__type`) is bounded by the schema and
  costs 1. Fields added to the schema are priced by the same rule, with no list to update.
"""

from __future__ import annotations

from typing import Any, Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql.language import Visitor, visit
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

MAX_COST = 1_000_000
DEFAULT_LIST_SIZE = 20
PAGE_SIZE_ARGUMENTS = ("first", "last")


class _Refusal(SchemaExtension):
    """Runs `refusal()` before execution; a message it returns is the operation's only error."""

    def refusal(self) -> str | None:
        raise NotImplementedError

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and context.graphql_document is not None:
            message = self.refusal()
            if message is not None:
                context.result = ExecutionResult(
                    data=None, errors=[GraphQLError(message,
                                                    extensions={"code": "BAD_USER_INPUT"})])
        yield


class OneOperation(_Refusal):
    def refusal(self) -> str | None:
        context = self.execution_context
        operations = [d for d in context.graphql_document.definitions
                      if isinstance(d, OperationDefinitionNode)]
        # strawberry falls back to the first operation's name when none is given
        if len(operations) > 1 and context._provided_operation_name is None:
            return "the document has several operations: name one with operationName"
        return None


def unstorable(text: str) -> str | None:
    """Why this string can't be stored (a NUL or a lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode)"
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, string) for every string in a decoded JSON value, keys included; iterative, so
    any depth json.loads accepted is walked."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, inner in item.items():
                # the path goes into the error message: a bad key is shown escaped
                inner_path = f"{where}.{key.encode('utf-8', 'backslashreplace').decode()}"
                yield inner_path, key
                stack.append((inner, inner_path))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}.{i}") for i, inner in enumerate(item))


class _StringLiterals(Visitor):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def enter_string_value(self, node: StringValueNode, *_args) -> None:
        self.found.append(node.value)


class StorableText(_Refusal):
    def refusal(self) -> str | None:
        context = self.execution_context
        for where, text in _strings(context.variables or {}, "$"):
            why = unstorable(text)
            if why:
                return f"variable {where[2:] or '$'} {why}"
        literals = _StringLiterals()
        visit(context.graphql_document, literals)
        for text in literals.found:
            why = unstorable(text)
            if why:
                return f"a string in the query {why}"
        return None


class CostLimit(_Refusal):
    def refusal(self) -> str | None:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name)
        if operation is None:
            return None  # graphql-core itself reports the missing operation
        estimate = QueryCost(context.schema._schema, document, context.variables or {})
        cost = estimate.of(operation)
        if cost > MAX_COST:
            return (f"the query is too expensive: about {cost} fields, at most {MAX_COST} "
                    "(ask for smaller pages or nest lists less deeply)")
        return None


class QueryCost:
    """The estimate CostLimit compares with MAX_COST (see the module docstring)."""

    def __init__(self, schema: GraphQLSchema, document, variables: dict[str, Any]):
        self.schema = schema
        self.variables = variables
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}

    def of(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return self._selections(operation.selection_set, root, 1, None)

    def _selections(self, selection_set: SelectionSetNode, parent, multiplier: int,
                    page: int | None) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, multiplier, page)
            elif isinstance(selection, InlineFragmentNode):
                inner = (self.schema.get_type(selection.type_condition.name.value)
                         if selection.type_condition else parent)
                total += self._selections(selection.selection_set, inner, multiplier, page)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:  # fragment cycles were refused by validation
                    inner = self.schema.get_type(fragment.type_condition.name.value)
                    total += self._selections(fragment.selection_set, inner, multiplier, page)
        return total

    def _field(self, node: FieldNode, parent, multiplier: int, page: int | None) -> int:
        name = node.name.value
        definition = (getattr(parent, "fields", None) or {}).get(name)
        if name.startswith("__") or definition is None:
            return multiplier
        own_page = self._page_size(node, definition)
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if isinstance(field_type, GraphQLList):
            size = own_page if own_page is not None else page
            if size is None:
                size = self._declared_size(definition)
            multiplier *= max(size, 1)
            page = None
        elif own_page is not None:
            page = own_page  # a connection: its page size applies to the list below it
        if node.selection_set is None:
            return multiplier
        return multiplier + self._selections(node.selection_set, get_named_type(field_type),
                                             multiplier, page)

    def _page_size(self, node: FieldNode, definition) -> int | None:
        for name in PAGE_SIZE_ARGUMENTS:
            if name not in definition.args:
                continue
            given = next((a.value for a in node.arguments if a.name.value == name), None)
            if isinstance(given, IntValueNode):
                return int(given.value)
            if isinstance(given, VariableNode):
                value = self.variables.get(given.name.value)
                if isinstance(value, int):
                    return value
            default = definition.args[name].default_value
            if isinstance(default, int):
                return default
        return None

    @staticmethod
    def _declared_size(definition) -> int:
        strawberry_field = (definition.extensions or {}).get("strawberry-definition")
        metadata = getattr(strawberry_field, "metadata", None) or {}
        return metadata.get("max_items", DEFAULT_LIST_SIZE)
