"""Schema problems, one per line: ``<object>  <path>  <message>`` (:class:`Problem`), and the
JSON Schema machinery every check of the plan shares: one compiled validator per schema file,
errors pointed at the fault (an unknown field at its own path, a failed oneOf at its closest
branch), and how an object is named (``kind/namespace/name``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from pulumi.output import Unknown

MAX_MESSAGE = 300  # reprs of big instances make unreadable lines

PathPart = str | int


@dataclass(frozen=True)
class Problem:
    """One schema violation: where (object, JSON path) and the schema's own message."""

    obj: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.obj}  {self.path}  {self.message}"


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def json_path(parts: Sequence[PathPart], root: str = "") -> str:
    """``spec.listeners[0].tls``; keys that are not identifiers as ``["a.b/c"]``."""
    out = root
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(root)"


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


# ---------------------------------------------------------------------------------------------
# JSON Schema


@functools.cache
def schema_validator(path: Path) -> Validator:
    """One compiled validator per schema file (the Cilium chart schema alone is 6.6k lines)."""
    schema = json.loads(path.read_text())
    cls = validator_for(schema, default=Draft7Validator)  # CRD files carry no $schema
    return cls(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def _extra_keys(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    props = schema.get("properties") or {}
    patterns = schema.get("patternProperties") or {}
    return [k for k in instance if k not in props and not any(re.search(p, k) for p in patterns)]


Found = tuple[tuple[PathPart, ...], str, str]  # path, message, keyword


def _flatten(err: ValidationError) -> Iterator[Found]:
    """Point each error at the fault: an unknown field gets its own path (``spec.blocks[0].cidrs``,
    not ``spec.blocks[0]``); a failed oneOf/anyOf points at its closest branch's error when that
    one is deeper."""
    if isinstance(err.instance, Unknown):  # computed at apply time: nothing to check yet
        return
    path = tuple(err.absolute_path)
    if (
        err.validator == "additionalProperties"
        and err.validator_value is False
        and isinstance(err.instance, Mapping)
        and isinstance(err.schema, Mapping)
    ):
        extras = _extra_keys(err.instance, err.schema)
        for key in extras:
            yield (*path, key), f"Additional properties are not allowed ({key!r} was unexpected)", "unknown"
        if extras:
            return
    if err.context:
        best = best_match(err.context)
        if len(best.absolute_path) > len(path):
            for sub_path, message, keyword in _flatten(best):
                yield sub_path, f"{message} (closest {err.validator} branch)", keyword
            return
    yield path, _short(err.message), str(err.validator)


def validation_errors(validator: Validator, instance: Any) -> list[Found]:
    found = [f for err in validator.iter_errors(instance) for f in _flatten(err)]
    return sorted(set(found), key=lambda f: (json_path(f[0]), f[1]))


def split_api_version(api_version: str) -> tuple[str, str]:
    """``cilium.io/v2`` -> (``cilium.io``, ``v2``); ``v1`` -> (``core``, ``v1``)."""
    group, _, version = api_version.rpartition("/")
    return group or "core", version


def object_label(obj: Mapping[str, Any]) -> str:
    """``kind/namespace/name`` (``kind/name`` when cluster-scoped)."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    parts = [obj.get("kind") or "?", meta.get("namespace"), meta.get("name") or "?"]
    return "/".join(str(p) for p in parts if p)
