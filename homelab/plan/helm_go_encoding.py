"""Go's encodings as Helm's Go code writes and reads them: encoding/json's output (the release
JSON of homelab/plan/helm_storage.py) and go-yaml v2's reading of a chart's YAML.

What the sources say:

* Go encoding/json (``json.Marshal``): struct fields in declaration order, map keys sorted, ``<``,
  ``>``, ``&``, U+2028 and U+2029 escaped as ``\\u003c``, ``\\u003e``, ``\\u0026``, ``\\u2028``, ``\\u2029``;
  ``\\b`` and ``\\f`` short since Go 1.22; a float64 (every YAML or JSON number in a values map) in
  the shortest form, exponent only below 1e-6 or from 1e21 up.
  A ``[]byte`` (a chart file's ``data``, helm/helm pkg/chart/file.go) is written as standard
  base64 (``null`` when nil).
* helm/helm pkg/time/time.go @ v3.20.2 ``MarshalJSON``: a time that is not zero is
  ``t.Time.MarshalJSON()`` (RFC 3339 with nanoseconds): :func:`go_time`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import yaml

from homelab.errors import HomelabError

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _GoYAML(_BASE_LOADER):
    """YAML as sigs.k8s.io/yaml (its go-yaml v2 fork) reads a chart's files: YAML 1.1, where
    ``y``/``n`` are booleans too and ``1e3`` a number (PyYAML keeps both strings)."""


_GoYAML.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))
#: go-yaml v2's float form: an exponent needs no dot (``1e3`` is 1000; PyYAML keeps it a string)
_GoYAML.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$"), list("-+0123456789")
)
_GoYAML.add_constructor(
    "tag:yaml.org,2002:bool",
    lambda loader, node: str(loader.construct_scalar(node)).lower() in ("y", "yes", "true", "on"),
)
#: The loader to pass ``yaml.load``: YAML as Helm reads a chart's files.
GO_YAML: Any = _GoYAML


class StorageError(HomelabError):
    """A chart package or a rendering that cannot be read as Helm would; the message says which."""


# ---------------------------------------------------------------------------------------------
# Go's encoding/json


def go_string(text: str) -> str:
    """``text`` as Go's json.Marshal writes a string (HTML-safe escaping)."""
    out = json.dumps(text, ensure_ascii=False)
    return (
        out.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def go_float(number: float) -> str:
    """A float64 as Go's json.Marshal writes it (``1``, ``0.5``, ``1e+21``, ``1e-7``)."""
    if number != number or number in (float("inf"), float("-inf")):
        raise StorageError(f"json: unsupported value: {number}")
    if number == 0:
        return "-0" if str(number).startswith("-") else "0"
    if 1e-6 <= abs(number) < 1e21:
        text = format(Decimal(repr(number)).normalize(), "f")
        return text
    text = repr(number)
    mantissa, _, exponent = text.partition("e")
    sign = exponent[0] if exponent[0] in "+-" else "+"
    digits = exponent.lstrip("+-").lstrip("0") or "0"
    if sign == "+" and len(digits) < 2:
        digits = digits.rjust(2, "0")
    return f"{mantissa}e{sign}{digits}"


def go_value(value: Any) -> str:
    """A values tree (``map[string]interface{}`` with float64 numbers) as Go marshals it."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return go_float(float(value))
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_string(value)
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{go_string(k)}:{go_value(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_value(v) for v in value) + "]"
    raise StorageError(f"json: unsupported type {type(value).__name__}")


def go_bytes(data: bytes | None) -> str:
    """A Go ``[]byte``: standard base64 in quotes, ``null`` when nil."""
    return "null" if data is None else '"' + base64.b64encode(data).decode() + '"'


def go_struct(fields: Iterable[tuple[str, str | None]]) -> str:
    """A Go struct: its fields in order, those given as None (omitempty and empty) left out."""
    return "{" + ",".join(f'"{k}":{v}' for k, v in fields if v is not None) + "}"


def omit_empty_str(text: str | None) -> str | None:
    return go_string(text) if text else None


def omit_empty_list(items: Sequence[Any] | None, encode: Callable[[Any], str] = go_string) -> str | None:
    return "[" + ",".join(encode(i) for i in items) + "]" if items else None


def go_time(text: str) -> str:
    """An RFC 3339 time as Go's time.Time.MarshalJSON re-writes it (RFC3339Nano: trailing zeros
    of the fraction dropped, ``Z`` for a zero offset)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)", text.strip())
    if m is None:
        raise StorageError(f"not an RFC 3339 time: {text!r}")
    base, frac, zone = m.groups()
    frac = (frac or "")[:9].rstrip("0")
    zone = "Z" if zone in ("Z", "z", "+00:00", "-00:00") else zone
    return f"{base.replace('t', 'T').replace(' ', 'T')}{'.' + frac if frac else ''}{zone}"


def string_field(value: Any) -> str:
    """A YAML scalar read into a Go string field (``off`` is ``false``, ``1.0`` is ``1``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)
