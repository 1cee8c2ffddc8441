"""Render every Helm release of a plan with the real charts, and validate what would run.

A value can be accepted by a chart's schema and still render into the wrong thing, so the plan
renders each release exactly as the program hands it to Helm (release name, namespace, values,
CRDs where the release installs them) with ``helm template --kube-version <the cluster's>``, the
way GitOps homelabs render every HelmRelease in CI. Releases render in parallel.

What is validated:

* every rendered object and every built-in object the program creates (Namespace, Secret,
  Deployment...) against the Kubernetes JSON schemas of the cluster's version
  (``kubernetes-validate``, strict: unknown fields are errors);
* every custom resource the program creates against the CRDs the charts render (Gateway API and
  Envoy Gateway from ``gateway-crds-helm``, cert-manager's from its chart). Cilium's CRDs are not
  in its chart (the operator creates them at run time): those objects are checked against
  ``../shared/schemas`` by :mod:`homelab.plan.schema_check`, and said so here.
* every custom resource (rendered or the program's) against the CEL rules of its rendered CRD
  (``x-kubernetes-validations``, after the schema's defaults, as on create: :mod:`homelab.plan.cel_check`).

What is not: admission webhooks, server-side defaults beyond the CRDs' structural ones, CEL cost
limits, transition rules (they need an old object). The validation is
:mod:`homelab.plan.render_check`'s.
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from homelab.errors import HomelabError
from homelab.plan import helm as helm_tool
from homelab.plan.charts import Chart, locate, release_chart
from homelab.plan.recorded import Plan, Registration

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
#: A chart the provider renders client-side and applies object by object (no release Secret).
HELM_CHART = "kubernetes:helm.sh/v4:Chart"
#: Objects Helm runs as hooks; ``helm.v4.Chart`` never applies them (``cmd.DisableHooks = true``).
HOOK_ANNOTATION = "helm.sh/hook"
#: libyaml when PyYAML has it: the Envoy Gateway CRDs alone are megabytes of YAML (2.5 s in Python).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RenderError(HomelabError):
    """helm could not render a release; the message names it."""


@dataclass(frozen=True, eq=False)
class ReleaseSpec:
    """One Helm release as the program registers it."""

    component: str  # the top-level component's name: the folder under rendered/<stack>/
    release: str
    namespace: str
    chart: Chart
    values: Mapping[str, Any]
    include_crds: bool
    #: True for a ``helm.v3.Release`` (Helm stores it in a Secret and runs its hooks); False for
    #: a ``helm.v4.Chart``, whose objects become resources of their own named ``<prefix>:<name>``.
    stored: bool = True
    #: ``helm.v4.Chart``'s ``resourcePrefix``: the first part of each object's resource name.
    resource_prefix: str = ""

    def resource_name(self, obj: Mapping[str, Any]) -> str:
        """The Pulumi resource an object of a ``helm.v4.Chart`` becomes (pulumi-kubernetes
        v4.32 provider/pkg/provider/yaml/v2/yaml.go ``register``)."""
        meta = obj.get("metadata") or {}
        name = f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))
        return f"{self.resource_prefix}:{name}" if self.resource_prefix else name


@dataclass
class Rendered:
    spec: ReleaseSpec
    objects: list[dict[str, Any]] = field(default_factory=list)
    #: helm's stdout as printed (manifest, then hooks) and the package it rendered: what
    #: homelab/plan/helm_storage.py sizes the release Secret from
    text: str = ""
    package: Path | None = None


def slug(text: str) -> str:
    """``text`` as a file name: anything but letters, digits, ``.``, ``_`` and ``-`` becomes ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def component_folder(plan: Plan, res: Registration) -> str:
    """The folder under ``rendered/<stack>/`` of a resource: its top-level component's name."""
    top = plan.component_of(res)
    return slug(top.name) if top is not None else "stack"


def object_key(obj: Mapping[str, Any], default_name: str = "") -> tuple[str, str, str, str]:
    """(API group, kind, namespace, name) of a Kubernetes object: what makes it one object."""
    meta = obj.get("metadata") or {}
    api_version = str(obj.get("apiVersion") or "")
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    return (group, str(obj.get("kind") or ""), str(meta.get("namespace") or ""), str(meta.get("name") or default_name))


def release_specs(plan: Plan) -> list[ReleaseSpec]:
    """Every ``helm.v3.Release`` and ``helm.v4.Chart`` of the plan, as helm renders them."""
    specs = []
    for res in [*plan.of_type(HELM_RELEASE), *plan.of_type(HELM_CHART)]:
        inputs = res.plain_inputs
        stored = res.type == HELM_RELEASE
        specs.append(
            ReleaseSpec(
                component=component_folder(plan, res),
                release=str(inputs.get("name") or res.name),
                namespace=str(inputs.get("namespace") or "default"),
                chart=release_chart(inputs),
                values=inputs.get("values") or {},
                include_crds=not inputs.get("skipCrds", False),
                stored=stored,
                resource_prefix="" if stored else str(inputs.get("resourcePrefix") or res.name),
            )
        )
    return sorted(specs, key=lambda s: (s.component, s.release))


def _applied(rendered: Rendered) -> Rendered:
    """What the provider applies of a render: a ``helm.v4.Chart`` drops the hooks."""
    if not rendered.spec.stored:
        rendered.objects = [
            o for o in rendered.objects if HOOK_ANNOTATION not in ((o.get("metadata") or {}).get("annotations") or {})
        ]
    return rendered


def helm_command(helm: Path | str, spec: ReleaseSpec, package: Path, values_file: Path, kube_version: str) -> list[str]:
    return [
        str(helm),
        "template",
        spec.release,
        str(package),
        "--namespace",
        spec.namespace,
        "--values",
        str(values_file),
        "--kube-version",
        kube_version,
        "--include-crds" if spec.include_crds else "--skip-crds",
    ]


def render_one(spec: ReleaseSpec, helm: Path | str, package: Path, kube_version: str) -> Rendered:
    """``helm template`` of one release. Raises :class:`RenderError` when helm fails or prints
    no object (nothing, or YAML without a mapping in it: every release renders objects), and
    ``helm.HelmError`` when it hangs past :func:`homelab.plan.helm.timeout` or prints bytes
    that are not UTF-8; the messages name the release, its chart package and the binary."""
    what = f"helm template {spec.release} ({spec.chart.file})"
    with tempfile.TemporaryDirectory(prefix="homelab-render-") as tmp:
        values_file = Path(tmp) / "values.json"
        values_file.write_text(json.dumps(spec.values))
        cmd = helm_command(helm, spec, package, values_file, kube_version)
        done = helm_tool.run(cmd, what, usual="the largest chart here renders in about 2 s")
    if done.returncode != 0:
        raise RenderError(f"{what}: {done.stderr or f'{helm} exited with code {done.returncode}, saying nothing'}")
    text = helm_tool.text_of(done, what, helm)
    try:
        objects = [doc for doc in yaml.load_all(text, Loader=_LOADER) if isinstance(doc, dict) and doc]
    except yaml.YAMLError as exc:
        raise RenderError(f"{what}: output is not YAML: {exc}") from None
    if not objects:
        said = "printed nothing" if not text.strip() else f"printed no Kubernetes object ({len(text)} characters)"
        raise RenderError(
            f"{what}: {helm} exited 0 but {said}; a release renders at least one object: check that "
            "binary (HELM= names another)"
        )
    return Rendered(spec, objects, text=text, package=package)


#: Renders of this process by everything that decides them: a process that plans many times
#: (the tests, the benchmarks) runs helm and parses its megabytes of YAML once per release.
_RENDERS: dict[tuple[str, ...], Rendered] = {}
_RENDERS_LOCK = threading.Lock()


def render_release(spec: ReleaseSpec, helm: Path | str, package: Path, kube_version: str) -> Rendered:
    """:func:`render_one`, once per process for the same inputs (each caller gets its own copy)."""
    stat = package.stat()
    key = (
        str(helm),
        str(package.resolve()),
        f"{stat.st_mtime_ns}/{stat.st_size}",
        kube_version,
        spec.release,
        spec.namespace,
        str(spec.include_crds),
        json.dumps(spec.values, sort_keys=True),
    )
    with _RENDERS_LOCK:
        known = _RENDERS.get(key)
    if known is None:
        known = render_one(spec, helm, package, kube_version)
        with _RENDERS_LOCK:
            _RENDERS[key] = known
    return Rendered(spec, copy.deepcopy(known.objects), text=known.text, package=package)


def render(
    plan: Plan, helm: Path | str, kube_version: str, charts_dir: Path | None = None, workers: int = 4
) -> list[Rendered]:
    """Every release of ``plan``, rendered in parallel. Raises ChartError (a chart is missing)
    before anything runs, RenderError or HelmError when helm fails or misbehaves
    (:func:`render_one`): the first failure in release order, no render started after it."""
    specs = release_specs(plan)
    packages = [locate(spec.chart, charts_dir) for spec in specs]
    failed = threading.Event()

    def one(spec: ReleaseSpec, package: Path) -> Rendered | None:
        if failed.is_set():  # a render failed: the plan stops, start no other (a hung helm waits once)
            return None
        try:
            return render_release(spec, helm, package, kube_version)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(specs)))) as pool:
        futures = [pool.submit(one, spec, pkg) for spec, pkg in zip(specs, packages, strict=True)]
    errors = [exc for f in futures if (exc := f.exception()) is not None]
    if errors:
        raise errors[0]
    return [_applied(r) for f in futures if (r := f.result()) is not None]


# ---------------------------------------------------------------------------------------------
# files


def object_file(obj: Mapping[str, Any], default_name: str = "unnamed", default_kind: str = "Object") -> str:
    """``<Kind>-<namespace>-<name>.yaml`` (``<Kind>-<name>.yaml`` when cluster-scoped)."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    name = f"{obj.get('kind', default_kind)}-{(ns + '-') if ns else ''}{meta.get('name', default_name)}"
    return slug(name) + ".yaml"


def rendered_files(rendered: Iterable[Rendered], dump: Any) -> dict[str, str]:
    """``<component>/chart/<Kind>-<namespace>-<name>.yaml`` -> content, one file per object."""
    files: dict[str, str] = {}
    for r in rendered:
        for obj in r.objects:
            rel = f"{r.spec.component}/chart/{object_file(obj)}"
            if rel in files:  # two objects of one name and kind in one component: keep both, visibly
                rel = rel.removesuffix(".yaml") + f".{slug(r.spec.release)}.yaml"
            header = f"# rendered by helm from {r.spec.chart.file} ({owner(r.spec, obj)})\n"
            files[rel] = header + dump(_secret_data_hidden(obj))
    return dict(sorted(files.items()))


#: What a chart Secret's values show as in rendered files.
SECRET_DATA_SHOWN = "[Secret data: not written]"


def _secret_data_hidden(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """A chart's Secrets hold key material helm generates on every render (Cilium's CA and
    Hubble certificates: with a cluster, the chart reuses the live CA through `lookup`): not
    written, so a rendering is the same twice and holds no private key."""
    if obj.get("kind") != "Secret":
        return obj
    out = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), dict):
            out[key] = dict.fromkeys(out[key], SECRET_DATA_SHOWN)
    return out


def counts(rendered: Iterable[Rendered]) -> list[tuple[str, str, int]]:
    """(release, chart file, objects) per release."""
    return [(r.spec.release, r.spec.chart.file, len(r.objects)) for r in rendered]


def resource_type(obj: Mapping[str, Any]) -> str:
    """The Pulumi type token of a Kubernetes object (core kinds are ``core/v1``)."""
    api_version = str(obj.get("apiVersion") or "")
    return f"kubernetes:{api_version if '/' in api_version else 'core/' + api_version}:{obj.get('kind')}"


def owner(spec: ReleaseSpec, obj: Mapping[str, Any]) -> str:
    """Which Pulumi resource applies a rendered object: the release, or its own resource."""
    if spec.stored:
        return f"release {spec.release}"
    return f"helm.v4.Chart {spec.release}: resource {spec.resource_name(obj)}"
