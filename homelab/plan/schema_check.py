"""Validate every object the program would apply against the upstream schemas (issue 6).

Why: the mocks accept any input and pyright only covers the SDK's typed objects. Custom
resources (Cilium, Gateway API, Envoy Gateway, cert-manager...) and Helm values are plain dicts,
so a misspelled field or a wrong type would only surface when the API server or the chart rejects
(or silently ignores) it. ``../shared/schemas`` holds the upstream CRD schemas and chart
``values.schema.json``/``values.yaml`` files of the pinned versions (its README says how they
were made and what they cannot check: CEL rules, defaults, Kubernetes-only formats).

One problem is one line: ``<object>  <path>  <message>``.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from pulumi.output import Unknown

from homelab.plan import mockrun
from homelab.plan.mockrun import Plan, Registration

SCHEMAS = mockrun.ROOT.parent / "shared" / "schemas"
GATEWAY_API = "gateway.networking.k8s.io"
EXPERIMENTAL = "experimental"
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")

# API groups the API server serves itself: their objects are typed by the SDK (pyright checks
# them), so no CRD schema is expected. Any other group without a schema folder is a failure.
BUILTIN_GROUPS = frozenset(
    {
        "core",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "extensions",
        "meta",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "resource.k8s.io",
        "internal.apiserver.k8s.io",
        "storagemigration.k8s.io",
    }
)

# Helm conventions the templates read although many values.yaml files do not list them
HELM_CONVENTIONS = frozenset({"nameOverride", "fullnameOverride"})
# subtrees a chart passes on verbatim (documented elsewhere, not by its values.yaml)
VERBATIM: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "gateway-helm": (("config", "envoyGateway"),),  # the EnvoyGateway configuration object itself
}

# Values a chart renders verbatim as Kubernetes API objects (``toYaml``): their fields are the
# Kubernetes API's, not the chart's, so a values.yaml default (cilium's podAntiAffinity, coredns's
# securityContext) is an example and other valid fields must pass. Checked by the API server.
KUBERNETES_FIELDS = frozenset(
    {
        "affinity",
        "tolerations",
        "topologySpreadConstraints",
        "nodeSelector",
        "securityContext",
        "podSecurityContext",
        "containerSecurityContext",
        "resources",
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
        "lifecycle",
        "env",
        "extraEnv",
        "envFrom",
        "imagePullSecrets",
        "pullSecrets",
        "volumes",
        "volumeMounts",
        "extraVolumes",
        "extraVolumeMounts",
        "initContainers",
        "extraContainers",
        "extraInitContainers",
        "hostAliases",
        "dnsConfig",
        "annotations",
        "labels",
        "podAnnotations",
        "podLabels",
        "commonLabels",
        "customLabels",
        "customAnnotations",
        "selector",
        "matchLabels",
        "matchExpressions",
        "strategy",
        "updateStrategy",
        "rollingUpdate",
        "deploymentStrategy",
    }
)

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
def _validator(path: Path) -> Validator:
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


def _closed(schema: Mapping[str, Any] | bool) -> bool:
    """Does the schema's root reject unknown keys (cert-manager) or let them pass (cilium)?"""
    if not isinstance(schema, Mapping):
        return False
    node: Any = schema
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return isinstance(node, Mapping) and node.get("additionalProperties") is False


# ---------------------------------------------------------------------------------------------
# custom resources


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


def validate_object(obj: Mapping[str, Any], schemas: Path, *, label: str | None = None) -> list[Problem]:
    """Validate one Kubernetes object against ``<group>/<kind>_<version>.json``.

    Gateway API objects are checked against the standard channel (stricter); a field that only
    the experimental channel has is reported as such. An object of a built-in API group with no
    schema folder returns no problems (the SDK types it); any other object without a schema is a
    problem, never a pass.
    """
    label = label or object_label(obj)
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not api_version or not isinstance(kind, str) or not kind:
        return [Problem(label, "kind" if api_version else "apiVersion", "missing: cannot pick a schema")]
    group, version = split_api_version(api_version)
    rel = Path(group) / f"{kind.lower()}_{version}.json"
    standard, experimental = schemas / rel, schemas / EXPERIMENTAL / rel

    def problems(found: list[Found], note: str = "") -> list[Problem]:
        return [Problem(label, json_path(p), m + note) for p, m, _ in found]

    if standard.is_file():
        found = validation_errors(_validator(standard), obj)
        if not found or group != GATEWAY_API or not experimental.is_file():
            return problems(found)
        also = {(p, k) for p, _, k in validation_errors(_validator(experimental), obj)}
        note = " (exists only in the experimental channel; the standard channel is what is checked)"
        return [Problem(label, json_path(p), m if (p, k) in also else m + note) for p, m, k in found]
    if experimental.is_file():
        head = Problem(
            label,
            "apiVersion",
            f"{kind} {api_version} exists only in the experimental channel of Gateway API "
            f"(no standard-channel schema {rel})",
        )
        return [head, *problems(validation_errors(_validator(experimental), obj))]
    if group in BUILTIN_GROUPS and not (schemas / group).is_dir():
        return []
    return [Problem(label, "kind", f"no schema for {kind} {api_version}: {rel} is not in {schemas}")]


# ---------------------------------------------------------------------------------------------
# Helm values: which keys does a chart have?


@dataclass
class _Keys:
    """What a chart's values.yaml documents at one place: child keys, the shape of list items,
    or ``free`` (anything below: a ``{}``/``[]`` default or a verbatim subtree)."""

    kind: str = "null"  # map, list, scalar or null (the default's type)
    children: dict[str, _Keys] = field(default_factory=dict)
    item: _Keys | None = None
    free: bool = False


def _from_default(value: Any) -> _Keys:
    if isinstance(value, dict | list) and not value:
        return _Keys(kind="map" if isinstance(value, dict) else "list", free=True)
    if isinstance(value, dict):
        return _Keys(kind="map", children={str(k): _from_default(v) for k, v in value.items()})
    if isinstance(value, list):
        node = _Keys(kind="list")
        for item in value:
            if isinstance(item, dict):
                node.item = _merge(node.item, _from_default(item))
        return node
    return _Keys(kind="null" if value is None else "scalar")


def _merge(a: _Keys | None, b: _Keys) -> _Keys:
    """Union of two list items' keys (list defaults often show one item per variant)."""
    if a is None:
        return b
    a.free = a.free or b.free
    for key, child in b.children.items():
        a.children[key] = _merge(a.children.get(key), child)
    if b.item is not None:
        a.item = _merge(a.item, b.item)
    return a


_COMMENT = re.compile(r"^(?P<indent> *)#+(?P<gap> *)(?P<body>.*?)\s*$")
_REAL = re.compile(r"^(?P<indent> *)(?P<body>[^\s#].*?)\s*$")
_DASH = re.compile(r"^-(?:\s+|$)")
_KEY = re.compile(r"""^(?P<key>"[^"]*"|'[^']*'|[^\s"'#\-\[\]{}][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+(?P<value>.*))?$""")
_COMMENTED_KEY = re.compile(r"""^(?:[A-Za-z_][A-Za-z0-9_.\-/]*|"[^"]+"|'[^']+')\Z""")
_DOC_WORDS = frozenset({"example", "examples", "note", "ref", "see", "warning", "deprecated", "default", "todo"})
_INLINE_COMMENT = re.compile(r"(?:^|\s+)#.*$")


@dataclass
class _Line:
    real: bool
    indent: int  # spaces before the content (or before the ``#``)
    col: int  # where the content would start uncommented
    body: str  # content without indentation and ``#``


def _lines(text: str) -> list[_Line | None]:
    """Each line as real content, commented content, or None (blank, ``#`` alone)."""
    out: list[_Line | None] = []
    for raw in text.splitlines():
        if m := _COMMENT.match(raw):
            body, indent = m["body"], len(m["indent"])
            # ``# key: v`` sits at the ``#``; ``#   key:`` (3 spaces) two columns deeper
            out.append(_Line(False, indent, indent + max(len(m["gap"]) - 1, 0), body) if body else None)
        elif m := _REAL.match(raw):
            indent = len(m["indent"])
            out.append(_Line(True, indent, indent, m["body"]))
        else:
            out.append(None)
    return out


@dataclass
class _Scope:
    col: int
    path: tuple[str, ...] | None  # None: inside a commented example, not a real place
    opener: bool = False  # no value, null, {} or []: a mapping or list (maybe commented) follows
    item: bool = False  # a list item


@dataclass
class _Scan:
    real: set[tuple[str, ...]] = field(default_factory=set)
    commented: dict[tuple[str, ...], str] = field(default_factory=dict)  # path -> default kind


def _split_key(body: str) -> tuple[str, str] | None:
    m = _KEY.match(body)
    if m is None:
        return None
    key = m["key"]
    if key[:1] in "\"'":
        key = key[1:-1]
    value = m["value"] or ""
    if value[:1] not in "\"'":
        value = _INLINE_COMMENT.sub("", value)
    return key, value.strip()


def _is_prose(key: str, value: str) -> bool:
    """``# Example:``, ``# ref: https://...``, ``# nodes: Count of nodes...`` are docs, not keys."""
    if not _COMMENTED_KEY.match(key):
        return True
    if value.startswith(("http://", "https://")):
        return True
    if key[:1].isupper() and (not value or key.lower() in _DOC_WORDS):
        return True
    return bool(value) and value[0] not in "\"'[{|>" and " " in value


def _kind_of(value: str) -> str:
    if value in ("{}", "[]"):
        return "free"
    return "null" if value in ("", "~", "null") else "scalar"


def _scan(text: str) -> _Scan:
    """Walk a values.yaml line by line, tracking indentation, and collect the paths of keys the
    chart documents only as commented-out defaults (``  # leaseDuration: 15s``). List items are
    the path segment ``[]``. Real keys are collected too, so a test can check the walk against
    the YAML parser.

    Doc comments (``# -- ...``, prose, cilium's ``# @schema`` blocks) are skipped; a commented
    block indented below a doc line (``# for example:`` / ``#   affinity:``) is an example, not
    a key; comments written flush left between a key and its first child (coredns
    ``service:`` / ``# clusterIP: ""`` / ``  name: ""``) belong to that key.
    """
    lines = _lines(text)
    next_real = [-1] * (len(lines) + 1)  # indentation of the next real line
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        next_real[i] = line.indent if line is not None and line.real else next_real[i + 1]

    scan = _Scan()
    stack = [_Scope(-1, ())]
    in_schema = False  # inside cilium's ``# @schema`` ... ``# @schema`` annotations
    block: tuple[bool, int] | None = None  # inside a block scalar: (real?, col of its key)
    rebase: tuple[int, int] | None = None  # (opener col, its children's col)
    prose: int | None = None  # col of the doc line just before
    example: int | None = None  # inside a commented example below a doc line at this col

    for i, line in enumerate(lines):
        if line is None:
            continue
        if block is not None:
            real, key_col = block
            if real and line.indent > key_col:
                continue
            if not real and not line.real and line.col > key_col:
                continue
            block = None
        body, col = line.body, line.col
        if line.real:
            in_schema = False
            rebase = prose = example = None
        else:
            if body.startswith("@schema"):
                in_schema = not in_schema
                continue
            if in_schema:
                continue
            if rebase is not None and col <= rebase[0]:
                col = rebase[1] + (col - rebase[0])

        dash_col: int | None = None
        if dash := _DASH.match(body):
            dash_col, body = col, body[dash.end() :]
            col += dash.end()
        kv = _split_key(body) if body else None
        detached = False
        if not line.real:
            at = col if dash_col is None else dash_col
            if example is not None and at <= example:
                example = None  # back at (or left of) the doc line: the example is over
            if body.startswith("--") or kv is None or _is_prose(*kv):
                if example is None:  # a comment inside an example does not end it
                    prose = at
                continue
            if example is None and prose is not None and at > prose:
                example = prose
            prose = None
            detached = example is not None

        # find the parent: a list item's parent is the key at or left of its dash
        if dash_col is not None:
            while stack[-1].col > dash_col or (stack[-1].col == dash_col and not stack[-1].opener):
                stack.pop()
            if stack[-1].item:  # ``# - key:`` in line with an item's keys: another item
                stack.pop()
            parent = stack[-1].path
            stack.append(_Scope(dash_col + 1, None if parent is None else (*parent, "[]"), item=True))
        if kv is None:
            continue
        while stack[-1].col >= col:
            stack.pop()
        while not (stack[-1].opener or stack[-1].item or stack[-1].col < 0):
            stack.pop()  # nothing nests under a scalar: a deeper comment there is a sibling
        key, value = kv
        parent = stack[-1].path
        path = None if detached or parent is None else (*parent, key)
        stack.append(_Scope(col, path, opener=_kind_of(value) != "scalar"))
        if path is not None:
            if line.real:
                scan.real.add(path)
            else:
                scan.commented.setdefault(path, _kind_of(value))
        if value.startswith(("|", ">")):
            block = (line.real, col)
        if line.real and not value and next_real[i + 1] > col:
            rebase = (col, next_real[i + 1])
    return scan


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path in parsed YAML, list items as ``[]`` (what :func:`_scan` should find)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*prefix, str(k))
            yield from _paths(v, (*prefix, str(k)))
    elif isinstance(value, list):
        for v in value:
            yield from _paths(v, (*prefix, "[]"))


@functools.cache
def _chart_keys(values_file: Path, verbatim: tuple[tuple[str, ...], ...] = ()) -> _Keys:
    """The keys of a chart: its values.yaml as parsed, plus its commented-out defaults.

    A commented-out mapping is an example, not a full list of its fields: its own key counts,
    anything below it passes (cilium's ``# logOptions:`` / ``#   format: json`` allows ``level``).
    """
    text = values_file.read_text()
    root = _from_default(yaml.safe_load(text) or {})
    for path, kind in sorted(_scan(text).commented.items()):
        node = root
        for i, part in enumerate(path):
            if node.free:
                break
            leaf_scalar = i == len(path) - 1 and kind == "scalar"
            if part == "[]":
                if node.item is None:
                    node.item = _Keys(kind="map", free=True)
                    break
                node = node.item
            elif part not in node.children:
                node.children[part] = _Keys(kind="scalar" if leaf_scalar else "map", free=not leaf_scalar)
                break
            else:
                node = node.children[part]
    for path in verbatim:
        node = root
        for part in path:
            node = node.children.setdefault(part, _Keys(kind="map"))
        node.free = True
    return root


def _unknown_keys(value: Any, node: _Keys, path: tuple[PathPart, ...] = ()) -> Iterator[Found]:
    if node.free:
        return
    if isinstance(value, Mapping):
        if not node.children:
            if node.kind in ("scalar", "list"):
                yield path, f"a mapping where the chart's default is a {node.kind}", "type"
            return
        for key, sub in value.items():
            child = node.children.get(str(key))
            if child is not None:
                if key not in KUBERNETES_FIELDS:
                    yield from _unknown_keys(sub, child, (*path, key))
            elif not (path == () and key in HELM_CONVENTIONS):
                close = difflib.get_close_matches(str(key), node.children, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                yield (
                    (*path, key),
                    f"unknown key {key!r}: not in the chart's values.yaml, set or commented out{hint}",
                    "unknown",
                )
    elif isinstance(value, list) and node.item is not None:
        for i, sub in enumerate(value):
            if isinstance(sub, Mapping):
                yield from _unknown_keys(sub, node.item, (*path, i))


def _drop_nulls(value: Any) -> Any:
    """Helm deletes a key the user sets to null before it validates the merged values."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def chart_name(chart: str) -> str:
    """``oci://docker.io/envoyproxy/gateway-helm`` -> ``gateway-helm``; ``cilium/cilium`` -> ``cilium``."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def validate_helm_values(chart: str, values: Mapping[str, Any], schemas: Path) -> list[Problem]:
    """Validate a release's values against ``helm-values/<chart>.schema.json`` and, when the
    chart has no schema or its schema lets unknown keys pass, check every key exists in
    ``helm-values/<chart>.values.yaml`` (set or commented out). Paths start at ``values``."""
    label = f"chart {chart}"
    folder = schemas / "helm-values"
    schema_file, values_file = folder / f"{chart}.schema.json", folder / f"{chart}.values.yaml"
    if not schema_file.is_file() and not values_file.is_file():
        return [
            Problem(
                label,
                "chart",
                f"no schema for chart {chart!r}: neither {schema_file.name} nor {values_file.name} in {folder}",
            )
        ]
    found: list[Found] = []
    closed = False
    if schema_file.is_file():
        validator = _validator(schema_file)
        found += validation_errors(validator, _drop_nulls(values))
        closed = _closed(validator.schema)
    if not closed and values_file.is_file():
        found += _unknown_keys(values, _chart_keys(values_file, VERBATIM.get(chart, ())))
    return [Problem(label, json_path(p, "values"), m) for p, m, _ in found]


# ---------------------------------------------------------------------------------------------
# the plan


def _group_of(r: Registration, obj: Mapping[str, Any]) -> str | None:
    """The API group of a registered Kubernetes object; None for what is not one (yaml/kustomize
    groups, providers)."""
    api_version = obj.get("apiVersion")
    if isinstance(api_version, str) and api_version:
        return split_api_version(api_version)[0]
    module = r.type.split(":")[1] if r.type.count(":") == 2 else ""  # kubernetes:<group>/<version>:<Kind>
    group, slash, _ = module.rpartition("/")
    return (group or None) if slash else None


def _secret_strings(value: Any, inside: bool = False) -> Iterator[str]:
    if mockrun.is_secret(value):
        yield from _secret_strings(value["value"], True)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _secret_strings(v, inside)
    elif isinstance(value, list):
        for v in value:
            yield from _secret_strings(v, inside)
    elif inside and isinstance(value, str) and len(value) >= 3:
        yield value


def _redact(problems: list[Problem], inputs: Any) -> list[Problem]:
    """Validation runs on the real values (a ``[secret]`` stand-in would fail formats and types);
    messages quote instances, so secret values are masked again before anything is printed."""
    secrets = sorted(set(_secret_strings(inputs)), key=len, reverse=True)
    if not secrets:
        return problems
    out = []
    for p in problems:
        message = p.message
        for s in secrets:
            message = message.replace(s, mockrun.SECRET_SHOWN)
        out.append(replace(p, message=message))
    return out


def resource_problems(r: Registration, schemas: Path) -> list[Problem]:
    """Problems of one registration: a Helm release's values or a custom resource; nothing for
    components, providers, non-Kubernetes resources and objects of built-in API groups."""
    if r.type in HELM_TYPES:
        inputs = mockrun.reveal(r.inputs)
        chart = inputs.get("chart")
        if not isinstance(chart, str) or not chart:
            return [Problem(f"helm/{r.name}", "chart", "no chart input: cannot pick a schema")]
        values = inputs.get("values") or {}
        label = f"helm/{inputs.get('namespace') or 'default'}/{inputs.get('name') or r.name}"
        if not isinstance(values, Mapping):
            return []  # unknown until apply
        found = validate_helm_values(chart_name(chart), values, schemas)
        return _redact([replace(p, obj=label) for p in found], r.inputs)
    if not r.custom or not r.type.startswith("kubernetes:"):
        return []
    obj = {k: v for k, v in mockrun.reveal(r.inputs).items() if k != "__meta"}
    group = _group_of(r, obj)
    if group is None or (group in BUILTIN_GROUPS and not (schemas / group).is_dir()):
        return []
    label = object_label(obj)
    if label.endswith("/?"):
        label = f"{label[:-1]}{r.name} (pulumi name)"
    return _redact(validate_object(obj, schemas, label=label), r.inputs)


def plan_problems(plan: Plan, schemas: Path | None = None) -> list[str]:
    """Every custom resource and Helm release of the plan against the upstream schemas, one line
    per problem; ``[]`` means all valid. ``homelab/plan/command.py`` calls it with the plan only."""
    folder = SCHEMAS if schemas is None else schemas
    if not folder.is_dir():
        return [
            f"schemas  {folder}  upstream schemas not found: they live in ../shared/schemas beside the repo; "
            "nothing was validated (use --no-validate to skip on purpose)"
        ]
    return [str(p) for r in plan.resources for p in resource_problems(r, folder)]


#: The chart versions ../shared/schemas was taken from (its README). A release on another
#: version is still checked, but against these schemas: the plan says so.
SCHEMA_CHART_VERSIONS = {
    "cilium": "1.20.0",
    "coredns": "1.46.2",
    "gateway-helm": "v1.9.0",
    "gateway-crds-helm": "v1.9.0",
    "cert-manager": "v1.21.1",
    "external-dns": "1.21.1",
}


def version_notes(plan: Plan) -> list[str]:
    """One note per Helm release whose chart version differs from the schemas' version."""
    notes = []
    for r in plan.resources:
        if r.type not in HELM_TYPES:
            continue
        inputs = r.plain_inputs
        chart = chart_name(str(inputs.get("chart", "")))
        expected = SCHEMA_CHART_VERSIONS.get(chart)
        if expected is not None and inputs.get("version") != expected:
            notes.append(
                f"note: chart {chart} {inputs.get('version')} is checked against the schemas of {expected}"
                " (../shared/schemas): new keys of the newer chart show up as problems, removed ones do not"
            )
    return notes
