"""Helm values against the chart: a release's values checked against the chart's
``values.schema.json`` and, when the chart has no schema or its schema lets unknown keys pass,
every key against what the chart's ``values.yaml`` documents, set or commented out
(:mod:`homelab.plan.values_scan`). Paths start at ``values``.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from homelab.config.catalog import CHARTS
from homelab.plan.schema_problems import Found, PathPart, Problem, json_path, schema_validator, validation_errors
from homelab.plan.values_scan import scan

# Helm conventions the templates read although many values.yaml files do not list them
HELM_CONVENTIONS = frozenset({"nameOverride", "fullnameOverride"})
# subtrees a chart passes on verbatim (documented elsewhere, not by its values.yaml), by chart
VERBATIM: Mapping[str, tuple[tuple[str, ...], ...]] = {chart.name: chart.verbatim for chart in CHARTS if chart.verbatim}

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


@functools.cache
def _chart_keys(values_file: Path, verbatim: tuple[tuple[str, ...], ...] = ()) -> _Keys:
    """The keys of a chart: its values.yaml as parsed, plus its commented-out defaults.

    A commented-out mapping is an example, not a full list of its fields: its own key counts,
    anything below it passes (cilium's ``# logOptions:`` / ``#   format: json`` allows ``level``).
    """
    text = values_file.read_text()
    root = _from_default(yaml.safe_load(text) or {})
    for path, kind in sorted(scan(text).commented.items()):
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
        validator = schema_validator(schema_file)
        found += validation_errors(validator, _drop_nulls(values))
        closed = _closed(validator.schema)
    if not closed and values_file.is_file():
        found += _unknown_keys(values, _chart_keys(values_file, VERBATIM.get(chart, ())))
    return [Problem(label, json_path(p, "values"), m) for p, m, _ in found]
