"""Validate what the plan would run (:mod:`homelab.plan.render`'s renders and the program's own
objects): built-in kinds against the Kubernetes JSON schemas of the cluster's version
(``kubernetes-validate``, strict), custom resources against the CRDs the charts render (closed
as the API server's strict field validation closes them), then every custom resource against
its CRD's CEL rules (:mod:`homelab.plan.cel_check`). One problem is one line:
``<object>  <path>  <message>``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import kubernetes_validate
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from homelab.config.catalog import CHARTS
from homelab.plan import cel_check
from homelab.plan.recorded import SECRET_SHOWN, Plan, is_secret, reveal
from homelab.plan.render import HELM_CHART, HELM_RELEASE, Rendered, RenderError
from homelab.plan.schema_check import BUILTIN_GROUPS
from homelab.plan.schema_problems import Problem, json_path, object_label, split_api_version, validation_errors


def _k8s_schema_dir(kube_version: str) -> Path:
    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    folder = base / f"v{kube_version}.0-local-strict"
    if not folder.is_dir():
        known = sorted(p.name.split("-")[0] for p in base.iterdir() if p.name.endswith("-local-strict"))
        raise RenderError(
            f"no Kubernetes schemas for {kube_version} in kubernetes-validate (it has {', '.join(known)})"
        )
    return folder


@functools.cache
def _k8s_registry(kube_version: str) -> Registry:
    folder = _k8s_schema_dir(kube_version)
    definitions = json.loads((folder / "_definitions.json").read_text())
    return Resource.from_contents(definitions, default_specification=DRAFT202012) @ Registry()


@functools.cache
def _k8s_validator(kube_version: str, kind: str, api_version: str) -> Validator | None:
    """kubernetes-validate's strict schema for a built-in kind, None when it has none."""
    folder = _k8s_schema_dir(kube_version)
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = folder / f"{kind.lower()}-{group_version}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    return Draft202012Validator(schema, registry=_k8s_registry(kube_version))


#: JSON-schema keywords whose subschemas only add constraints to fields declared beside them
#: (structural schemas): closing them would refuse the fields their siblings declare.
_JUNCTORS = frozenset({"allOf", "anyOf", "oneOf", "not"})


def _closed(schema: Any, inside_junctor: bool = False) -> Any:
    """A CRD's openAPIV3Schema as the API server applies it with strict field validation:
    objects with ``properties`` take no other keys unless they say so; ``nullable`` admits null."""
    if isinstance(schema, dict):
        out = {k: _closed(v, inside_junctor or k in _JUNCTORS) for k, v in schema.items()}
        if (
            not inside_junctor
            and "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        if out.get("nullable") is True and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(schema, list):
        return [_closed(v, inside_junctor) for v in schema]
    return schema


def crd_validators(rendered: Iterable[Rendered]) -> dict[tuple[str, str, str], Validator]:
    """(group, version, kind) -> validator, for every served version of every rendered CRD."""
    out: dict[tuple[str, str, str], Validator] = {}
    for r in rendered:
        for obj in r.objects:
            if obj.get("kind") != "CustomResourceDefinition":
                continue
            spec = obj.get("spec") or {}
            group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
            for version in spec.get("versions") or []:
                schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or None
                if version.get("served") and schema and group and kind:
                    closed = _closed(copy.deepcopy(schema))
                    checker = Draft7Validator.FORMAT_CHECKER  # ipv4, ipv6, hostname... as the API server
                    out[(group, version["name"], kind)] = Draft7Validator(closed, format_checker=checker)
    return out


#: API groups whose CRDs no chart renders: the operator creates them (Cilium; the catalog says
#: which). Checked against ../shared/schemas by homelab/plan/schema_check.py instead.
RUNTIME_CRDS = frozenset(group for chart in CHARTS for group in chart.runtime_crd_groups)


def _problems(label: str, validator: Validator, obj: Mapping[str, Any]) -> list[Problem]:
    return [Problem(label, json_path(path), message) for path, message, _ in validation_errors(validator, obj)]


def validate_rendered(
    obj: Mapping[str, Any], kube_version: str, crds: Mapping[tuple[str, str, str], Validator], label: str
) -> list[Problem]:
    api_version, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
    group, version = split_api_version(api_version)
    if (group, version, kind) in crds:
        return _problems(label, crds[(group, version, kind)], obj)
    if group in RUNTIME_CRDS:
        return []
    validator = _k8s_validator(kube_version, kind, api_version) if group in BUILTIN_GROUPS else None
    if validator is None:
        return [
            Problem(
                label,
                "kind",
                f"no schema for {kind} {api_version}: neither Kubernetes {kube_version} nor a rendered CRD",
            )
        ]
    key = (kube_version, api_version, kind, repr(obj))
    found = _BUILTIN_FOUND.get(key)
    if found is None:  # the same chart objects (a CRD is tens of kilobytes) come in every plan
        found = _BUILTIN_FOUND[key] = [
            (json_path(path), message) for path, message, _ in validation_errors(validator, obj)
        ]
    return [Problem(label, path, message) for path, message in found]


#: What the Kubernetes schemas found in an object, by everything that decides it (they never
#: change in a process): a process that plans many times validates each object once.
_BUILTIN_FOUND: dict[tuple[str, str, str, str], list[tuple[str, str]]] = {}


def program_objects(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for res in plan.resources:
        if not res.custom or not res.type.startswith("kubernetes:") or res.type in (HELM_RELEASE, HELM_CHART):
            continue
        if res.type.startswith("pulumi:providers:"):
            continue
        obj = res.k8s_object
        out.append((f"{object_label(obj)} ({res.name})", _stand_ins(res.inputs)))
    return out


def _stand_ins(value: Any) -> Any:
    """The object with every secret's strings replaced by ``[secret]``, its shape kept (a
    Secret's ``stringData`` stays a mapping): validated without a secret in reach of a message."""
    if is_secret(value):
        return _masked(reveal(value))
    if isinstance(value, dict):
        return {k: _stand_ins(v) for k, v in value.items() if k != "__meta"}
    if isinstance(value, list):
        return [_stand_ins(v) for v in value]
    return value


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return SECRET_SHOWN if isinstance(value, str) else value


def problems(rendered: Sequence[Rendered], plan: Plan, kube_version: str) -> list[str]:
    """One line per problem: ``<object>  <path>  <message>``, rendered objects first, then the
    CRDs' CEL rules each custom resource fails (:mod:`homelab.plan.cel_check`)."""
    crds = crd_validators(rendered)
    found: list[Problem] = []
    checked: list[tuple[str, dict[str, Any]]] = []
    for r in rendered:
        for obj in r.objects:
            label = f"{r.spec.release}: {object_label(obj)}"
            found += validate_rendered(obj, kube_version, crds, label)
            checked.append((label, obj))
    for label, obj in program_objects(plan):
        found += validate_rendered(obj, kube_version, crds, label)
        checked.append((label, obj))
    rendered_crds = (obj for r in rendered for obj in r.objects if obj.get("kind") == "CustomResourceDefinition")
    return [str(p) for p in found] + cel_check.problems(rendered_crds, checked)
