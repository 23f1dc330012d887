"""Goal matching (contract §3): pure, no storage, no web.

``GoalMatcher`` is built once from a site's goals and then answers, per event:

* ``first_match(facts)`` - the fast path used at ingestion: the first goal (priority order) of the
  event's type whose conditions hold, or ``None``;
* ``explain(facts)`` - every goal of the event's type with a per-condition verdict, for the
  ``testEvent`` dry run. It is a separate, deliberately plain implementation; the two are kept
  in agreement by a randomised test.

Semantics
---------
* A goal of type CLICK / PAGEVIEW / FORM / CUSTOM_EVENT only ever matches events of type
  click / pageview / form / custom (``GOAL_TYPE_FOR_EVENT``).
* Goals are tried by ``priority`` (1 first; ties keep the order they were given in); the first
  goal that matches wins. ``ALL``: every condition holds; ``ANY``: at least one does (a goal with
  no conditions: ALL holds vacuously, ANY never).
* Every comparison is case-insensitive: both sides are ``str.casefold()``-ed. Nothing is trimmed.
* A field that is missing (``None``) has no value: CONTAINS / EQUALS / STARTS_WITH / ENDS_WITH
  are false on it, their negations NOT_CONTAINS / NOT_EQUALS are true ("a negated operator holds
  where its positive never does"). IS_EMPTY holds for a missing or empty ("") field,
  IS_NOT_EMPTY is its negation.
* PROPERTY_KEY / PROPERTY_VALUE: the positive operators (CONTAINS, EQUALS, STARTS_WITH,
  ENDS_WITH, IS_NOT_EMPTY) hold when *some* key (value) satisfies them; the negated ones
  (NOT_CONTAINS, NOT_EQUALS, IS_EMPTY) hold when *no* key (value) satisfies the positive one.
  A property whose value is ``None`` (JSON null) has no value.
* A condition whose value is the empty string (the API refuses those, but stored data is not
  trusted to be perfect) is still well defined: CONTAINS / STARTS_WITH / ENDS_WITH "" hold for
  any present value, EQUALS "" only for a present empty value.

``ConditionResult.actual`` (``explain``) is the event's original (not case-folded) value of the
field, ``None`` when missing. For PROPERTY_KEY / PROPERTY_VALUE it is the deciding key / value:

* positive operators: the first key (value) that satisfied the condition; when none did, all
  keys (values) joined with ", ";
* negated operators: when the condition fails, the first key (value) that satisfied the positive
  operator (the one that breaks it); when it holds, all keys (values) joined with ", ";
* ``None`` when there are no keys (no non-null values).

Speed: ``first_match`` runs code generated at construction time, one function per goal type, in
which every condition is a single inline comparison against pre-case-folded constants. The
generated source never contains goal data: condition values are bound as constants in the
function's namespace under synthetic names (``_c0``, ``_c1``...), so nothing a user typed can
become code.
"""

from __future__ import annotations

import json

from decimal import Decimal
from typing import Any, Callable, Mapping, Sequence

from server.goals.model import (
    FIELDS_FOR_GOAL_TYPE,
    GOAL_TYPE_FOR_EVENT,
    MATCH_LOGICS,
    OPERATORS,
    VALUELESS_OPERATORS,
    Condition,
    ConditionResult,
    EventFacts,
    Goal,
    GoalMatch,
    MatchResult,
)

__all__ = ["GoalMatcher", "render_prop_value", "OPERATORS", "FACT_ATTRIBUTE"]

# condition field -> EventFacts attribute (property fields are handled separately)
FACT_ATTRIBUTE = {
    "URL": "click_url",
    "DOMAIN": "click_domain",
    "LINK_TEXT": "click_text",
    "TITLE": "click_text",
    "ASIN": "asin",
    "PATH": "path",
    "FORM_NAME": "form_name",
    "FORM_ID": "form_id",
    "PLUGIN": "plugin",
    "PAGE_URL": "page_url",
    "EVENT_NAME": "name",
}
PROPERTY_FIELDS = ("PROPERTY_KEY", "PROPERTY_VALUE")

# negated operator -> its positive counterpart
_POSITIVE_OF = {"NOT_CONTAINS": "CONTAINS", "NOT_EQUALS": "EQUALS", "IS_EMPTY": "IS_NOT_EMPTY"}

_SEP = "\x00"  # separator for joined property keys / values (see _prop_prep)


# --------------------------------------------------------------------------- property values

def render_prop_value(v: Any) -> str | None:
    """The text a parsed JSON value is matched as (contract §3: a number or boolean property
    compares as its JSON text).

    ``str`` as is; ``True``/``False`` -> ``"true"``/``"false"``; ``int`` -> its decimal text;
    ``Decimal`` (JSON numbers are parsed with ``parse_float=Decimal``) -> ``str(d)``, which keeps
    the digits as sent (``"1.50"`` stays ``"1.50"``; an exponent form is rendered canonically,
    ``1e2`` -> ``"1E+2"``); ``None`` (JSON null) -> ``None``. A ``float`` (should not happen)
    gives its ``repr``. A list or object gives its compact JSON text.
    """
    if v is None:
        return None
    cls = v.__class__
    if cls is str:
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple, dict)):
        return _json_text(v)
    raise TypeError(f"not a JSON value: {cls.__name__}")


def _json_text(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{" + ",".join(
            json.dumps(str(k), ensure_ascii=False) + ":" + _json_text(x) for k, x in v.items()
        ) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_json_text(x) for x in v) + "]"
    return render_prop_value(v)  # scalar


def _text(v: Any) -> str | None:
    """Defensive: EventFacts.props values are text already; anything else is rendered."""
    return v if v is None or v.__class__ is str else render_prop_value(v)


# --------------------------------------------------------------------------- reference semantics

def _scalar_holds(op: str, x: str | None, v: str | None) -> bool:
    """Operator on one (case-folded) field value; ``x is None`` means missing."""
    if op == "IS_EMPTY":
        return not x
    if op == "IS_NOT_EMPTY":
        return bool(x)
    if op in _POSITIVE_OF:
        return not _scalar_holds(_POSITIVE_OF[op], x, v)
    if x is None:
        return False
    if op == "CONTAINS":
        return v in x
    if op == "EQUALS":
        return x == v
    if op == "STARTS_WITH":
        return x.startswith(v)
    if op == "ENDS_WITH":
        return x.endswith(v)
    raise ValueError(f"unknown operator {op!r}")


def _fold(v: str | None) -> str | None:
    return None if v is None else v.casefold()


def _prop_items(facts: EventFacts, field: str) -> list[str]:
    """Original keys, or the non-null values, of the event's properties, in order."""
    props = facts.props or {}
    if field == "PROPERTY_KEY":
        return [_text(k) for k in props]
    out = []
    for val in props.values():
        t = _text(val)
        if t is not None:
            out.append(t)
    return out


def _evaluate(cond: "_Compiled", facts: EventFacts) -> ConditionResult:
    op, v = cond.operator, cond.folded
    if cond.field in PROPERTY_FIELDS:
        items = _prop_items(facts, cond.field)
        joined = ", ".join(items) if items else None
        positive = _POSITIVE_OF.get(op, op)
        first = next((it for it in items if _scalar_holds(positive, it.casefold(), v)), None)
        some = first is not None
        if op in _POSITIVE_OF:
            matched = not some
            return ConditionResult(cond.condition, joined if matched else first, matched)
        return ConditionResult(cond.condition, first if some else joined, some)
    actual = getattr(facts, FACT_ATTRIBUTE[cond.field])
    return ConditionResult(cond.condition, actual, _scalar_holds(op, _fold(actual), v))


# --------------------------------------------------------------------------- compilation

class _Compiled:
    __slots__ = ("condition", "field", "operator", "folded")

    def __init__(self, condition: Condition, goal: Goal):
        field, op = condition.field, condition.operator
        if op not in OPERATORS:
            raise ValueError(f"goal {goal.name!r}: unknown operator {op!r}")
        if field not in FIELDS_FOR_GOAL_TYPE[goal.type]:
            raise ValueError(f"goal {goal.name!r}: field {field!r} is not one of a {goal.type} goal")
        if op in VALUELESS_OPERATORS:
            folded = None
        else:
            if not isinstance(condition.value, str):
                raise ValueError(f"goal {goal.name!r}: operator {op} needs a value")
            folded = condition.value.casefold()
        self.condition, self.field, self.operator, self.folded = condition, field, op, folded


class _Codegen:
    """Builds the source of one goal type's matcher function."""

    def __init__(self) -> None:
        self.consts: dict[str, Any] = {}
        self._const_ids: dict[tuple, str] = {}
        self.scalar_vars: dict[str, str] = {}  # facts attribute -> var name
        self.presence: set[str] = set()  # attributes whose presence flag is needed
        self.bracketed: set[str] = set()  # attributes also needed as SEP + value + SEP
        self.prop_needs: dict[str, set[str]] = {"PROPERTY_KEY": set(), "PROPERTY_VALUE": set()}

    def const(self, value: Any) -> str:
        key = (type(value).__name__, value)
        name = self._const_ids.get(key)
        if name is None:
            name = f"_c{len(self._const_ids)}"
            self._const_ids[key] = name
            self.consts[name] = value
        return name

    def expr(self, c: _Compiled) -> str:
        if c.field in PROPERTY_FIELDS:
            return self._prop_expr(c)
        attr = FACT_ATTRIBUTE[c.field]
        x = self.scalar_vars.setdefault(attr, f"_x{len(self.scalar_vars)}")
        op, v = c.operator, c.folded
        if op == "IS_EMPTY":
            return f"not {x}"
        if op == "IS_NOT_EMPTY":
            return f"{x} != ''"
        if v == "":  # a missing field must differ from an empty one here
            self.presence.add(attr)
            p = "_p" + x[2:]
            pos = f"({p} and {x} == '')" if op in ("EQUALS", "NOT_EQUALS") else p
            return f"not {pos}" if op in _POSITIVE_OF else pos
        # non-empty value: a missing field is represented as "", which no operator can tell
        # apart from None with a non-empty value
        k = self.const(v)
        return {
            "CONTAINS": f"{k} in {x}",
            "NOT_CONTAINS": f"{k} not in {x}",
            "EQUALS": f"{x} == {k}",
            "NOT_EQUALS": f"{x} != {k}",
            "STARTS_WITH": f"{x}.startswith({k})",
            "ENDS_WITH": f"{x}.endswith({k})",
        }[op] if op not in ("STARTS_WITH", "ENDS_WITH") or _SEP in v else self._affix(attr, op, v)

    def _affix(self, attr: str, op: str, v: str) -> str:
        # "x starts with v" <=> SEP+v in SEP+x+SEP, when neither contains SEP: a substring
        # test is about three times cheaper than str.startswith. Events whose value contains
        # SEP take the reference path.
        self.bracketed.add(attr)
        s = "_s" + self.scalar_vars[attr][2:]
        return f"{self.const(_SEP + v if op == 'STARTS_WITH' else v + _SEP)} in {s}"

    def _prop_expr(self, c: _Compiled) -> str:
        # Per event: _kj = SEP + SEP.join(folded keys) + SEP, _ks = set(folded keys),
        # _kn = any key non-empty, _ka = there is a key (likewise _vj/_vs/_vn/_va for values).
        # Valid because the generated function falls back to the reference path when a key or
        # value contains SEP, and conditions whose value contains SEP are compiled as calls.
        pre = "_k" if c.field == "PROPERTY_KEY" else "_v"
        needs = self.prop_needs[c.field]
        op, v = c.operator, c.folded
        positive = _POSITIVE_OF.get(op, op)
        if positive == "IS_NOT_EMPTY":
            needs.add("n")
            pos = f"{pre}n"
        elif v == "" and positive != "EQUALS":
            needs.add("a")
            pos = f"{pre}a"
        elif _SEP in v:
            needs.add("l")
            fn = self.const(_make_items_pred(positive, v))
            pos = f"{fn}({pre}l)"
        elif positive == "EQUALS":
            needs.add("s")
            pos = f"{self.const(v)} in {pre}s"
        else:
            needs.add("j")
            needle = {"CONTAINS": v, "STARTS_WITH": _SEP + v, "ENDS_WITH": v + _SEP}[positive]
            pos = f"{self.const(needle)} in {pre}j"
        return f"not {pos}" if op in _POSITIVE_OF else pos

    def source(self, goals: Sequence[tuple[Goal, list[_Compiled]]]) -> str:
        tests = []
        for i, (goal, conds) in enumerate(goals):
            parts = [self.expr(c) for c in conds]
            if not parts:
                test = "True" if goal.match_logic == "ALL" else "False"
            else:
                joiner = " and " if goal.match_logic == "ALL" else " or "
                test = joiner.join(f"({p})" for p in parts)
            tests.append(f"    if {test}:\n        return {i}\n")
        lines = ["def _first(facts):\n"]
        for attr, x in self.scalar_vars.items():
            lines.append(f"    {x} = facts.{attr}\n")
            if attr in self.presence:
                lines.append(f"    _p{x[2:]} = {x} is not None\n")
            lines.append(f"    {x} = '' if {x} is None else {x}.casefold()\n")
            if attr in self.bracketed:
                lines.append(f"    if _SEP in {x}:\n        return -2\n")
                lines.append(f"    _s{x[2:]} = _SEP + {x} + _SEP\n")
        k, vv = self.prop_needs["PROPERTY_KEY"], self.prop_needs["PROPERTY_VALUE"]
        if k or vv:
            lines.append("    _kl, _vl = _prop_prep(facts.props)\n")
            lines.append("    if _kl is None:\n        return -2\n")
            for pre, needs in (("_k", k), ("_v", vv)):
                if "j" in needs:
                    lines.append(f"    {pre}j = _SEP + _SEP.join({pre}l) + _SEP\n")
                if "s" in needs:
                    lines.append(f"    {pre}s = set({pre}l)\n")
                if "n" in needs:
                    lines.append(f"    {pre}n = any({pre}l)\n")
                if "a" in needs:
                    lines.append(f"    {pre}a = bool({pre}l)\n")
        lines.extend(tests)
        lines.append("    return -1\n")
        return "".join(lines)


def _make_items_pred(positive: str, v: str) -> Callable[[list[str]], bool]:
    def pred(items: list[str]) -> bool:
        return any(_scalar_holds(positive, it, v) for it in items)
    return pred


def _prop_prep(props: Mapping[str, Any] | None) -> tuple[list[str] | None, list[str]]:
    """Folded keys and folded non-null values; (None, []) when one contains the separator."""
    if not props:
        return [], []
    keys = []
    values = []
    for k, val in props.items():
        if k.__class__ is not str:
            k = render_prop_value(k)
        if _SEP in k:
            return None, []
        keys.append(k.casefold())
        if val is not None:
            if val.__class__ is not str:
                val = render_prop_value(val)
            if _SEP in val:
                return None, []
            values.append(val.casefold())
    return keys, values


# --------------------------------------------------------------------------- the matcher

class _TypeMatcher:
    __slots__ = ("goals", "compiled", "fast", "source")

    def __init__(self, goals: list[Goal]):
        self.goals = tuple(goals)
        self.compiled = tuple((g, [_Compiled(c, g) for c in g.conditions]) for g in goals)
        gen = _Codegen()
        self.source = gen.source(self.compiled)
        namespace: dict[str, Any] = {"__builtins__": {"any": any, "set": set, "bool": bool},
                                     "_SEP": _SEP, "_prop_prep": _prop_prep, **gen.consts}
        exec(compile(self.source, "<goalpost goal matcher>", "exec"), namespace)
        self.fast = namespace["_first"]


class GoalMatcher:
    """A site's goals, compiled for matching. Immutable once built; safe to share."""

    __slots__ = ("goals", "_by_type")

    def __init__(self, goals: Sequence[Goal]):
        for g in goals:
            if g.type not in FIELDS_FOR_GOAL_TYPE:
                raise ValueError(f"goal {g.name!r}: unknown goal type {g.type!r}")
            if g.match_logic not in MATCH_LOGICS:
                raise ValueError(f"goal {g.name!r}: unknown match logic {g.match_logic!r}")
        ordered = [g for _, g in sorted(enumerate(goals), key=lambda ig: (ig[1].priority, ig[0]))]
        self.goals: tuple[Goal, ...] = tuple(ordered)
        self._by_type: dict[str, _TypeMatcher] = {}
        for event_type, goal_type in GOAL_TYPE_FOR_EVENT.items():
            of_type = [g for g in ordered if g.type == goal_type]
            if of_type:
                self._by_type[event_type] = _TypeMatcher(of_type)

    def first_match(self, facts: EventFacts) -> Goal | None:
        """The first goal, in priority order, of the event's type that matches; else None."""
        tm = self._by_type.get(facts.type)
        if tm is None:
            return None
        i = tm.fast(facts)
        if i >= 0:
            return tm.goals[i]
        if i == -1:
            return None
        return self.explain(facts).goal  # -2: text containing NUL, use the reference path

    def explain(self, facts: EventFacts) -> MatchResult:
        """Every goal of the event's type, in priority order, with per-condition results."""
        tm = self._by_type.get(facts.type)
        if tm is None:
            return MatchResult(goal=None, tried=())
        tried = []
        winner = None
        for goal, conds in tm.compiled:
            results = tuple(_evaluate(c, facts) for c in conds)
            if goal.match_logic == "ALL":
                matched = all(r.matched for r in results)
            else:
                matched = any(r.matched for r in results)
            tried.append(GoalMatch(goal=goal, matched=matched, conditions=results))
            if matched and winner is None:
                winner = goal
        return MatchResult(goal=winner, tried=tuple(tried))
