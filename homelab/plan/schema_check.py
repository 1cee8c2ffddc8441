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

from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from homelab.config.catalog import CHARTS, chart_name
from homelab.config.policy import hide
from homelab.paths import ROOT
from homelab.plan.chart_values import validate_helm_values
from homelab.plan.recorded import Plan, Registration, is_secret, reveal
from homelab.plan.schema_problems import (
    Found,
    Problem,
    json_path,
    object_label,
    schema_validator,
    split_api_version,
    validation_errors,
)

SCHEMAS = ROOT.parent / "shared" / "schemas"
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

# ---------------------------------------------------------------------------------------------
# custom resources


def validate_upstream(obj: Mapping[str, Any], schemas: Path, *, label: str | None = None) -> list[Problem]:
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
        found = validation_errors(schema_validator(standard), obj)
        if not found or group != GATEWAY_API or not experimental.is_file():
            return problems(found)
        also = {(p, k) for p, _, k in validation_errors(schema_validator(experimental), obj)}
        note = " (exists only in the experimental channel; the standard channel is what is checked)"
        return [Problem(label, json_path(p), m if (p, k) in also else m + note) for p, m, k in found]
    if experimental.is_file():
        head = Problem(
            label,
            "apiVersion",
            f"{kind} {api_version} exists only in the experimental channel of Gateway API "
            f"(no standard-channel schema {rel})",
        )
        return [head, *problems(validation_errors(schema_validator(experimental), obj))]
    if group in BUILTIN_GROUPS and not (schemas / group).is_dir():
        return []
    return [Problem(label, "kind", f"no schema for {kind} {api_version}: {rel} is not in {schemas}")]


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
    if is_secret(value):
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
    secrets = set(_secret_strings(inputs))
    return [replace(p, message=hide(p.message, secrets)) for p in problems] if secrets else problems


def resource_problems(r: Registration, schemas: Path) -> list[Problem]:
    """Problems of one registration: a Helm release's values or a custom resource; nothing for
    components, providers, non-Kubernetes resources and objects of built-in API groups."""
    if r.type in HELM_TYPES:
        inputs = reveal(r.inputs)
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
    obj = {k: v for k, v in reveal(r.inputs).items() if k != "__meta"}
    group = _group_of(r, obj)
    if group is None or (group in BUILTIN_GROUPS and not (schemas / group).is_dir()):
        return []
    label = object_label(obj)
    if label.endswith("/?"):
        label = f"{label[:-1]}{r.name} (pulumi name)"
    return _redact(validate_upstream(obj, schemas, label=label), r.inputs)


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


#: The chart versions ../shared/schemas was taken from (its README), as the catalog declares
#: them. A release on another version is still checked, but against these schemas: the plan says so.
SCHEMA_CHART_VERSIONS = {chart.name: chart.schema_version for chart in CHARTS}


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
