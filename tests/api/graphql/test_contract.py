"""The schema keeps every name of the contract's SDL (contract §4, kept in docs/contract.graphql)
with the same type: every type, field, argument, enum value and input field, and every default
the contract gives. Our schema may have more, as long as nothing more is required of a caller."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    build_schema,
    print_ast,
)

from server.schema.schema import sdl

CONTRACT = Path(__file__).resolve().parents[3] / "docs" / "contract.graphql"


def contract_schema():
    return build_schema(CONTRACT.read_text())


def _default(arg) -> str | None:
    """The default as written in the SDL (both schemas are built from SDL), or None."""
    node = arg.ast_node.default_value if arg.ast_node else None
    return None if node is None else print_ast(node)


def _check_args(where: str, theirs: dict, ours: dict, problems: list[str]) -> None:
    for name, arg in theirs.items():
        mine = ours.get(name)
        if mine is None:
            problems.append(f"{where}({name}): missing")
            continue
        if str(mine.type) != str(arg.type):
            problems.append(f"{where}({name}): {mine.type}, contract {arg.type}")
        if _default(arg) is not None and _default(mine) != _default(arg):
            problems.append(f"{where}({name}): default {_default(mine)}, "
                            f"contract {_default(arg)}")
    for name, arg in ours.items():
        if name not in theirs and isinstance(arg.type, GraphQLNonNull) \
                and _default(arg) is None:
            problems.append(f"{where}({name}): required, not in the contract")


def test_schema_has_everything_the_contract_names():
    contract = contract_schema()
    ours = build_schema(sdl())
    problems: list[str] = []
    for name, theirs in contract.type_map.items():
        if name.startswith("__"):
            continue
        mine = ours.type_map.get(name)
        if mine is None or type(mine) is not type(theirs):
            problems.append(f"{name}: missing or of another kind ({type(mine).__name__})")
            continue
        if isinstance(theirs, GraphQLScalarType):
            continue
        if isinstance(theirs, GraphQLEnumType):
            missing = set(theirs.values) - set(mine.values)
            if missing:
                problems.append(f"{name}: no values {sorted(missing)}")
        elif isinstance(theirs, GraphQLObjectType):
            for field_name, field in theirs.fields.items():
                my_field = mine.fields.get(field_name)
                if my_field is None:
                    problems.append(f"{name}.{field_name}: missing")
                    continue
                if str(my_field.type) != str(field.type):
                    problems.append(f"{name}.{field_name}: {my_field.type}, contract {field.type}")
                _check_args(f"{name}.{field_name}", field.args, my_field.args, problems)
        elif isinstance(theirs, GraphQLInputObjectType):
            _check_args(name, theirs.fields, mine.fields, problems)
    assert not problems, "\n".join(problems)


def test_stats_take_the_filters_of_section_8():
    ours = build_schema(sdl())
    for field in ("kpis", "goalStats", "timeseries"):
        arg = ours.query_type.fields[field].args.get("filters")
        assert arg is not None and str(arg.type) == "[StatsFilter!]", field
