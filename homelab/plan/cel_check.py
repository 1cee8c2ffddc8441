"""The CRDs' CEL rules (``x-kubernetes-validations``), evaluated offline as the API server does on create.

A custom resource can match its CRD's OpenAPI schema and still be refused by a CEL rule of it (a
Gateway's HTTP listener with ``tls``), and the first real ``pulumi up`` is the first to run them:
preview skips server-side dry-run for kinds the cluster does not know yet (DESIGN.md). So the plan
evaluates every rule with Google's C++ CEL (``cel-expr-python``), which type-checks: a function
no library here declares fails to compile, and such a rule is reported, never passed.

What is modelled, read from kubernetes/kubernetes ``staging/src/k8s.io/apiextensions-apiserver/pkg/
apiserver/schema`` (the 1.35 line):

* ``cel/validation.go`` (``validator``, ``validateExpressions``, ``validateMap``/``validateArray``):
  rules live at any schema node, ``self`` is the value there (list items and map values too,
  rules under ``allOf`` with the node's own schema); null values are not validated; a rule that
  uses ``oldSelf`` (a transition rule) is skipped when there is no old object, i.e. on create;
  ``messageExpression`` when it gives a non-empty one-line string, else the trimmed ``message``,
  else ``failed rule: <rule>``; ``fieldPath`` is appended to the node's path; an evaluation error
  is ``<error> evaluating rule: <message or rule>``.
* ``defaulting/algorithm.go`` (``Default``): structural defaults first, as on create: a property
  that is absent (or null and not nullable) takes a deep copy of its ``default``, recursively.
* ``cel/model`` + ``k8s.io/apiserver/pkg/cel/escaping.go`` (``Escape``): properties are CEL fields
  under escaped names (``__`` -> ``__underscores__``, ``.`` ``-`` ``/`` -> ``__dot__`` ``__dash__``
  ``__slash__``, reserved words -> ``__{word}__``); names that cannot be escaped are left out; map
  keys stay as they are; the resource root shows ``apiVersion``, ``kind`` and ``metadata.name`` /
  ``generateName`` only (``model.WithTypeAndObjectMeta``); ``number`` is a double, ``format: byte``
  bytes, ``date-time`` a timestamp.

Libraries: CEL's standard functions and macros, optional types, the strings extension
(``lowerAscii``, ``split``, ``indexOf``...), and of Kubernetes' ``isIP``, ``isCIDR`` and the regex
``find``/``findAll``. The rest is not declared, so a rule using it fails to compile and is
reported: those returning Kubernetes types (``url``, ``quantity``, ``ip``, ``cidr``, ``format.*``
and its optional results) cannot be written as Python callbacks of the bindings (no opaque or
optional values), and no rule of our CRDs uses ``isURL``, ``isQuantity``, lists' ``isSorted``...
Not modelled: the cost budget, ``x-kubernetes-list-type`` equality, ``optionalOldSelf`` rules
(reported), ratcheting.
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import re2
from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

from homelab.plan.schema_problems import PathPart, Problem, json_path, split_api_version

# ---------------------------------------------------------------------------------------------
# the CEL environment: standard library, strings extension, Kubernetes' boolean functions


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Kubernetes' ``parseIPAddr``: no zone, no IPv4-mapped IPv6, no leading zeros."""
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    return None if "%" in text or (addr.version == 6 and addr.ipv4_mapped is not None) else addr


def _is_cidr(text: str) -> bool:
    """Kubernetes' ``isCIDR`` (Go's ``netip.ParsePrefix``): ``<address>/<bits>``, host bits allowed."""
    address, sep, bits = text.partition("/")
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return bool(sep) and bits.isdigit() and _ip(address) is not None


def _find(text: str, pattern: str) -> str:
    """Kubernetes' regex library: the first match of an RE2 pattern, or ""."""
    match = re2.search(pattern, text)
    return str(match.group(0)) if match else ""


def _find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    found = [str(m.group(0)) for m in re2.finditer(pattern, text)]
    return found if limit < 0 else found[:limit]


def _functions() -> list[Any]:
    T = cel.Type  # noqa: N806 (the bindings' name, kept short)
    strings_list = T.List(T.STRING)
    return [
        cel.FunctionDecl("isIP", [cel.Overload("isIP_string", T.BOOL, [T.STRING], impl=lambda s: _ip(s) is not None)]),
        cel.FunctionDecl("isCIDR", [cel.Overload("isCIDR_string", T.BOOL, [T.STRING], impl=_is_cidr)]),
        cel.FunctionDecl("find", [cel.Overload("string_find", T.STRING, [T.STRING, T.STRING], True, impl=_find)]),
        cel.FunctionDecl(
            "findAll",
            [
                cel.Overload("string_find_all", strings_list, [T.STRING, T.STRING], True, impl=_find_all),
                cel.Overload("string_find_all_n", strings_list, [T.STRING, T.STRING, T.INT], True, impl=_find_all),
            ],
        ),
    ]


@functools.cache
def _env(with_old_self: bool) -> Any:
    names = {"self": cel.Type.DYN, **({"oldSelf": cel.Type.DYN} if with_old_self else {})}
    extensions = [ext_strings.ExtStrings(), ext_optional.ExtOptional()]
    return cel.NewEnv(variables=names, extensions=extensions, functions=_functions())


@functools.cache
def compiled(rule: str) -> tuple[Any, bool, str]:
    """(program, is a transition rule, compile error): each rule text compiled once.
    A rule is a transition rule when it compiles only with ``oldSelf`` declared."""
    try:
        return _env(False).compile(rule), False, ""
    except Exception as exc:  # the bindings raise a bare RuntimeError/ValueError with cel-cpp's status
        error = _first_line(exc)
    try:
        _env(True).compile(rule)
    except Exception:
        return None, False, error
    return None, True, ""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# ---------------------------------------------------------------------------------------------
# the object as the API server hands it to CEL


_RESERVED = frozenset(
    {
        *("true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if"),
        *("import", "let", "loop", "package", "namespace", "return", "var", "void", "while"),
    }
)


def escape(name: str) -> str | None:
    """A property name as a CEL field name (``escaping.go`` ``Escape``); None if it cannot be."""
    if not name or name[0].isdigit():
        return None
    if name in _RESERVED:
        return f"__{name}__"
    if not re.fullmatch(r"[A-Za-z0-9_./-]+", name):
        return None
    words = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}
    return re.sub(r"__|[./-]", lambda m: words[m.group(0)], name)


def defaulted(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` with the schema's structural defaults applied (``defaulting/algorithm.go``)."""
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, prop in props.items():
            if "default" in prop and (key not in value or (value[key] is None and not prop.get("nullable"))):
                value[key] = copy.deepcopy(prop["default"])
        extra = schema.get("additionalProperties")
        for key in value:
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                if value[key] is None and key not in props and "default" in sub and not sub.get("nullable"):
                    value[key] = copy.deepcopy(sub["default"])
                defaulted(value[key], sub)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        items = schema["items"]
        for i, item in enumerate(value):
            if item is None and "default" in items and not items.get("nullable"):
                value[i] = copy.deepcopy(items["default"])
            defaulted(value[i], items)
    return value


def cel_value(value: Any, schema: Mapping[str, Any], root: bool = False) -> Any:
    """``value`` as CEL sees it under ``schema`` (``model.WithTypeAndObjectMeta`` at a root)."""
    if isinstance(value, dict):
        props = schema.get("properties")
        if root:
            meta = value.get("metadata") or {}
            head = {k: value[k] for k in ("apiVersion", "kind") if k in value}
            head["metadata"] = {k: meta[k] for k in ("name", "generateName") if k in meta}
            rest = {k: v for k, v in value.items() if k not in ("apiVersion", "kind", "metadata")}
            return {**head, **cel_value(rest, schema)}
        if props:
            out = {}
            for key, item in value.items():
                name = escape(key)
                if key in props and name is not None:
                    out[name] = cel_value(item, props[key], bool(props[key].get("x-kubernetes-embedded-resource")))
            return out
        extra = schema.get("additionalProperties")
        return {k: cel_value(v, extra) for k, v in value.items()} if isinstance(extra, dict) else value
    if isinstance(value, list):
        items = schema.get("items")
        return [cel_value(v, items) for v in value] if isinstance(items, dict) else value
    return _scalar(value, schema)


def _scalar(value: Any, schema: Mapping[str, Any]) -> Any:
    kind, fmt = schema.get("type"), schema.get("format")
    try:
        if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if kind == "string" and isinstance(value, str) and fmt == "byte":
            return base64.b64decode(value, validate=True)
        if kind == "string" and isinstance(value, str) and fmt == "date-time":
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value  # the OpenAPI check reports a malformed value
    return value


# ---------------------------------------------------------------------------------------------
# evaluation


def _field_path(field_path: str) -> list[PathPart]:
    """``.spec.a['b.c']`` -> ``["spec", "a", "b.c"]``."""
    return [
        dot or quoted.replace("\\'", "'")
        for dot, quoted in re.findall(r"\.([^.\[]+)|\['((?:[^'\\]|\\.)*)'\]", field_path)
    ]


def _message(rule: Mapping[str, Any], self_value: Any) -> str:
    """``messageExpression``, else the trimmed ``message``, else ``failed rule: <rule>``."""
    expression = rule.get("messageExpression")
    if expression:
        program, _, error = compiled(str(expression))
        if program is not None and not error:
            try:
                result = program.eval(data={"self": self_value}).value()
            except Exception:
                result = None
            if isinstance(result, str) and result.strip() and "\n" not in result.strip():
                return result.strip()
    return str(rule.get("message") or "").strip() or f"failed rule: {str(rule['rule']).strip()}"


def _rule_problems(crd: str, rule: Mapping[str, Any], self_value: Any) -> Iterator[tuple[list[PathPart], str]]:
    text = str(rule.get("rule") or "")
    if not text.strip():
        return
    program, transition, error = compiled(text)
    if transition:
        if rule.get("optionalOldSelf"):
            yield [], f"CEL rule of {crd} with optionalOldSelf is not evaluated here: {text}"
        return  # transition rules need an old object: never on create
    if program is None:
        yield [], f"CEL rule of {crd} does not compile here ({error}): {text}"
        return
    try:
        result = program.eval(data={"self": self_value})
        kind, value = result.type().name(), result.value()
    except Exception as exc:
        kind, value = "ERROR", _first_line(exc)
    if kind == "BOOL" and value is True:
        return
    where = _field_path(str(rule.get("fieldPath") or ""))
    if kind == "BOOL":
        yield where, _message(rule, self_value)
    else:
        shown = str(rule.get("message") or "").strip() or text.strip()
        reason = value if kind == "ERROR" else f"result is {kind}, not a bool"
        yield [], f"{reason} evaluating rule: {shown}"


def _walk(
    crd: str, rules: Mapping[str, Any], types: Mapping[str, Any], value: Any, path: list[PathPart], root: bool
) -> Iterator[tuple[list[PathPart], str]]:
    """Every failed rule at this node and below: ``rules`` carries the rules (a node or one of its
    ``allOf``), ``types`` is the node's own schema (how CEL sees the value)."""
    if value is None:
        return
    node_rules = rules.get("x-kubernetes-validations") or []
    if node_rules:
        self_value = cel_value(value, types, root)
        for rule in node_rules:
            yield from ((path + where, message) for where, message in _rule_problems(crd, rule, self_value))
    for sub in rules.get("allOf") or []:
        yield from _walk(crd, sub, types, value, path, root)
    if isinstance(value, dict):
        props, type_props = rules.get("properties") or {}, types.get("properties") or {}
        extra, type_extra = rules.get("additionalProperties"), types.get("additionalProperties")
        for key, item in value.items():
            if key in props and key in type_props:
                embedded = bool(type_props[key].get("x-kubernetes-embedded-resource"))
                yield from _walk(crd, props[key], type_props[key], item, [*path, key], embedded)
            elif isinstance(extra, dict) and isinstance(type_extra, dict):
                yield from _walk(crd, extra, type_extra, item, [*path, key], False)
    elif isinstance(value, list) and isinstance(rules.get("items"), dict) and isinstance(types.get("items"), dict):
        for i, item in enumerate(value):
            yield from _walk(crd, rules["items"], types["items"], item, [*path, i], False)


# ---------------------------------------------------------------------------------------------
# the entry points


def crd_schemas(crds: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], tuple[str, Mapping[str, Any]]]:
    """(group, version, kind) -> (CRD name, openAPIV3Schema), for every served version."""
    out: dict[tuple[str, str, str], tuple[str, Mapping[str, Any]]] = {}
    for crd in crds:
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        spec, name = crd.get("spec") or {}, str((crd.get("metadata") or {}).get("name"))
        group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if version.get("served") and schema and group and kind:
                out[(group, version["name"], kind)] = (name, schema)
    return out


def object_problems(crd: str, schema: Mapping[str, Any], obj: Mapping[str, Any], label: str) -> list[Problem]:
    """The failed rules of one custom resource, after the schema's defaults."""
    value = defaulted(copy.deepcopy(dict(obj)), schema)
    return [Problem(label, json_path(path), message) for path, message in _walk(crd, schema, schema, value, [], True)]


def problems(crds: Iterable[Mapping[str, Any]], objects: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """``<object>  <path>  <message>`` for every rule a custom resource of these CRDs fails;
    objects of other kinds are not this check's (the OpenAPI validation covers them)."""
    schemas = crd_schemas(crds)
    found: list[Problem] = []
    for label, obj in objects:
        group, version = split_api_version(str(obj.get("apiVersion") or ""))
        entry = schemas.get((group, version, str(obj.get("kind") or "")))
        if entry is not None:
            found += object_problems(entry[0], entry[1], obj, label)
    return [str(p) for p in found]


def rules(schema: Mapping[str, Any]) -> Iterator[str]:
    """Every rule text (and message expression) anywhere in a schema."""
    if isinstance(schema, Mapping):
        for rule in schema.get("x-kubernetes-validations") or []:
            yield from (str(rule[k]) for k in ("rule", "messageExpression") if rule.get(k))
        for value in schema.values():
            yield from rules(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from rules(value)


def uncompiled(crds: Iterable[Mapping[str, Any]], kinds: Sequence[tuple[str, str, str]]) -> list[str]:
    """``<CRD>: <rule>: <error>`` for each rule of these kinds' CRDs that does not compile here."""
    schemas = crd_schemas(crds)
    out = []
    for key in sorted(set(kinds) & set(schemas)):
        name, schema = schemas[key]
        out += [f"{name}: {r}: {error}" for r in dict.fromkeys(rules(schema)) if (error := compiled(r)[2])]
    return out
