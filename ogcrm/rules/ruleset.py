"""Rule sets as documents: reading them from JSON or YAML, and validating them.

The file form, kept in version control by admins::

    name: Permian priorities
    description: What makes an operator worth a call this week
    rules:
      - name: fresh permits
        description: New drilling means new service work
        logic: {">=": [{"var": "permits_90d"}, 3]}
        weight: 10
        enabled: true

Validation refuses, each fault with the rule's name and the JSON Pointer of the fault:
unknown operators, unknown features, rules deeper than ``MAX_DEPTH`` or larger than
``MAX_NODES``, comparisons or arithmetic of incompatible types, and anything the SQL
compiler cannot score in bulk faithfully (with its reason).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Column, Float, MetaData, Table, Text

from ogcrm.pipeline.contracts import Feature
from ogcrm.rules.compiler import Unsupported, compile_rule, pointer_token
from ogcrm.rules.jsonlogic import KNOWN_OPERATIONS

MAX_DEPTH = 12
MAX_NODES = 400
MAX_RULES = 200
#: What the rule_set and rule tables' name columns hold.
MAX_NAME = 200


@dataclass(frozen=True)
class RuleSpec:
    name: str
    logic: Any
    weight: float = 1.0
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class RuleSetSpec:
    name: str
    rules: tuple[RuleSpec, ...]
    description: str = ""

    def as_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "rules": [
                {
                    "name": r.name,
                    "description": r.description,
                    "logic": r.logic,
                    "weight": r.weight,
                    "enabled": r.enabled,
                }
                for r in self.rules
            ],
        }


@dataclass(frozen=True)
class Fault:
    rule: str | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"rule {self.rule!r}" if self.rule else "rule set"
        return f"{where} at {self.path}: {self.message}"


class RuleSetInvalid(ValueError):
    def __init__(self, faults: list[Fault]) -> None:
        self.faults = faults
        super().__init__("; ".join(str(f) for f in faults))


def read_document(path: Path) -> Any:
    """A rule-set file's content: JSON, or YAML (a superset of JSON)."""
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise RuleSetInvalid(
                [Fault(None, "/", f"{path.name} is neither JSON nor YAML: {exc}")]
            ) from None


def parse(document: Any) -> RuleSetSpec:
    """The rule set in ``document``; structural faults raise :class:`RuleSetInvalid`."""
    faults: list[Fault] = []
    if not isinstance(document, Mapping):
        raise RuleSetInvalid([Fault(None, "/", "a rule set is an object with name and rules")])
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        faults.append(Fault(None, "/name", "the rule set needs a name"))
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        faults.append(Fault(None, "/rules", "rules must be a non-empty list"))
        raise RuleSetInvalid(faults)
    if len(raw_rules) > MAX_RULES:
        faults.append(Fault(None, "/rules", f"at most {MAX_RULES} rules"))
    rules: list[RuleSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        base = f"/rules/{i}"
        if not isinstance(raw, Mapping):
            faults.append(Fault(None, base, "a rule is an object"))
            continue
        rule_name = raw.get("name")
        if not isinstance(rule_name, str) or not rule_name.strip():
            faults.append(Fault(None, f"{base}/name", "every rule needs a name"))
            continue
        if rule_name in seen:
            faults.append(Fault(rule_name, f"{base}/name", "two rules have this name"))
        seen.add(rule_name)
        if "weight" not in raw:
            # a weight is the point of a rule: one left out is a mistake, not a 1
            faults.append(Fault(rule_name, f"{base}/weight", "every rule needs a weight"))
            continue
        weight = raw["weight"]
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or not math.isfinite(weight)
        ):
            faults.append(Fault(rule_name, f"{base}/weight", "weight must be a finite number"))
            continue
        if "logic" not in raw:
            faults.append(Fault(rule_name, f"{base}/logic", "the rule has no logic"))
            continue
        rules.append(
            RuleSpec(
                name=rule_name.strip(),
                logic=raw["logic"],
                weight=float(weight),
                description=str(raw.get("description", "")),
                enabled=bool(raw.get("enabled", True)),
            )
        )
    if faults:
        raise RuleSetInvalid(faults)
    return RuleSetSpec(str(name).strip(), tuple(rules), str(document.get("description", "")))


def validate(spec: RuleSetSpec, features: Mapping[str, Feature]) -> list[Fault]:
    """Every fault of every rule (empty when the rule set can be saved and scored)."""
    faults: list[Fault] = []
    too_long = f"a name is at most {MAX_NAME} characters"
    if len(spec.name) > MAX_NAME:
        faults.append(Fault(None, "/name", too_long))
    faults += [
        Fault(None, f"/rules/{i}/name", too_long)
        for i, rule in enumerate(spec.rules)
        if len(rule.name) > MAX_NAME
    ]
    columns = _feature_columns(features)
    for i, rule in enumerate(spec.rules):
        base = f"/rules/{i}/logic"
        structural = list(_walk(rule.logic, base, 1, features))
        nodes = _count(rule.logic)
        if nodes > MAX_NODES:
            structural.append((base, f"the rule has {nodes} parts; at most {MAX_NODES}"))
        faults += [Fault(rule.name, path, message) for path, message in structural]
        if structural:
            continue
        try:
            compile_rule(rule.logic, columns, "sqlite")
        except Unsupported as exc:
            faults.append(
                Fault(rule.name, base + (exc.path if exc.path != "/" else ""), exc.reason)
            )
    return faults


def logic_faults(logic: Any, base: str, variables: Mapping[str, Feature]) -> list[tuple[str, str]]:
    """What is wrong with ``logic`` as a rule over ``variables`` (pointer, message): the
    structural checks a scoring rule gets, for logic the interpreter evaluates (routing,
    segments) rather than the SQL compiler."""
    faults = list(_walk(logic, base, 1, variables))
    nodes = _count(logic)
    if nodes > MAX_NODES:
        faults.append((base, f"the rule has {nodes} parts; at most {MAX_NODES}"))
    return faults


def _feature_columns(features: Mapping[str, Feature]) -> dict[str, tuple[Any, str]]:
    table = Table(
        "features",
        MetaData(),
        *(Column(n, Float if f.type == "number" else Text) for n, f in features.items()),
    )
    return {n: (table.c[n], f.type) for n, f in features.items()}


def _walk(logic: Any, path: str, depth: int, features: Mapping[str, Feature]) -> Any:
    if depth > MAX_DEPTH:
        yield path, f"nested deeper than {MAX_DEPTH} levels"
        return
    if isinstance(logic, list):
        for i, item in enumerate(logic):
            yield from _walk(item, f"{path}/{i}", depth + 1, features)
        return
    if not isinstance(logic, dict):
        return
    if len(logic) != 1:
        yield path, "an operation is an object with exactly one key"
        return
    ((op, args),) = logic.items()
    here = f"{path}/{pointer_token(op)}"
    if op not in KNOWN_OPERATIONS:
        yield here, f"unknown operator {op!r}"
        return
    if op == "var":
        name = args[0] if isinstance(args, list) and args else args
        if not isinstance(name, str) or name.removeprefix("features.") not in features:
            yield f"{here}/0" if isinstance(args, list) else here, f"unknown feature {name!r}"
        return
    if op in ("missing", "missing_some"):
        keys = (
            args[1] if op == "missing_some" and isinstance(args, list) and len(args) > 1 else args
        )
        for j, key in enumerate(keys if isinstance(keys, list) else [keys]):
            if isinstance(key, str) and key.removeprefix("features.") not in features:
                yield f"{here}/{j}", f"unknown feature {key!r}"
        return
    yield from _walk(args if isinstance(args, list) else [args], here, depth + 1, features)


def _count(logic: Any) -> int:
    if isinstance(logic, list):
        return 1 + sum(_count(x) for x in logic)
    if isinstance(logic, dict):
        return 1 + sum(_count(v) for v in logic.values())
    return 1
