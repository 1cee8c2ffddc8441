"""The Kubernetes objects the program creates, the objects of its ``helm.v4.Chart``\\ s, and the
cluster's identity, as they run.

An object the program creates that runs already is importable by its ``<namespace>/<name>`` (or
``<name>``, cluster-scoped; homelab/config/imports.py): the first up then applies the fields the
program sets, and the ones that differ are shown. What makes it need care first: a Helm release
made it (a later revision without it, or an uninstall, deletes it: ``helm.sh/resource-policy:
keep`` keeps it), another field manager owns a field up changes (a server-side apply conflict;
``pulumi.com/patchForce``, DESIGN.md), an immutable field differs (a Deployment's
``spec.selector``: Kubernetes refuses the change). One being deleted is not adoptable. Secrets
are read as metadata only: their data is never fetched.

A ``helm.v4.Chart``'s objects are resources the provider makes while it runs the chart: this
program cannot give them the ``import`` option. Present ones are reported with the way the
provider offers (``PULUMI_K8S_UPSERT_EXISTING_OBJECTS``, server-side apply).
"""

from __future__ import annotations

from homelab.adopt.changes import Known, field_changes
from homelab.adopt.findings import ADOPTING, Finding, FluxOwner, State, absent, blocked, importable, noted, unknown
from homelab.config.catalog import CILIUM_CONFIG, SYSTEM
from homelab.config.imports import Entry
from homelab.doctor.checks_preflight import OBJECTS, UPSERT_ENV, helm_release_of, is_pulumis, owner
from homelab.doctor.expected import Expected
from homelab.doctor.kube import Kube, KubeError, Obj, get
from homelab.doctor.preflight_plan import (
    HelmTarget,
    KubeTarget,
    Renderer,
    RenderUnavailableError,
    chart_objects,
    plural,
)
from homelab.doctor.report import ACCESS, failed, passed, warned
from homelab.plan.mockrun import Plan

#: Fields Kubernetes refuses to change (apps/v1: a workload's selector is immutable).
IMMUTABLE = {"Deployment": "spec.selector", "DaemonSet": "spec.selector", "StatefulSet": "spec.selector"}
#: Never compared: the object's identity, and a Secret's data (never read).
SECRET_DATA = ("data", "stringData", "type")
FLUX_LABELS = (
    ("kustomization", "kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace"),
    ("helmrelease", "helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace"),
)
IDENTITY = "cluster identity"


def flux_of(meta: Obj) -> tuple[FluxOwner, ...]:
    """The Flux objects an object's labels name (kustomize-controller's, helm-controller's)."""
    labels = meta.get("labels") or {}
    return tuple(
        FluxOwner(kind, str(labels.get(ns_key, "?")), str(labels[name_key]))
        for kind, name_key, ns_key in FLUX_LABELS
        if labels.get(name_key)
    )


def _managers(meta: Obj) -> list[str]:
    """Field managers other than Pulumi's that own fields of the object (not its status)."""
    found = {
        str(m.get("manager"))
        for m in meta.get("managedFields") or []
        if isinstance(m, dict) and m.get("subresource") != "status" and m.get("manager")
    }
    return sorted(m for m in found if not m.startswith("pulumi-kubernetes"))


def _wanted(obj: Obj, kind: str) -> Obj:
    """What the program sets, without the object's identity (and a Secret's data)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("name", "namespace")}
    skip = ("apiVersion", "kind", "metadata", *(SECRET_DATA if kind == "Secret" else ()))
    return {**{k: v for k, v in obj.items() if k not in skip}, **({"metadata": meta} if meta else {})}


def kubectl_kind(target: KubeTarget) -> str:
    """``gatewayclasses.gateway.networking.k8s.io``: the kind as kubectl takes it."""
    group = target.api_version.split("/")[0] if "/" in target.api_version else ""
    return f"{plural(target.kind)}.{group}" if group else plural(target.kind)


def _scope(target: KubeTarget) -> str:
    return f"-n {target.namespace} " if target.namespace else ""


def judge_object(
    exp: Expected, target: KubeTarget, pulumi_type: str, want: Obj, live: Obj, known: Known | None = None
) -> Finding:
    """An object the program creates, found running (``live``: the object, or a Secret's metadata)."""
    meta = live.get("metadata") or {}
    who, owners = owner(meta), flux_of(meta)
    if meta.get("deletionTimestamp"):
        return blocked(
            OBJECTS,
            target.label,
            f"being deleted since {meta['deletionTimestamp']} ({who})",
            f"wait until it is gone (up then creates it), then run adopt again; "
            f"{exp.kubectl(f'{_scope(target)}get {kubectl_kind(target)} {target.name} -o yaml')} shows its finalizers",
            owners,
        )
    changes = field_changes(live, _wanted(want, target.kind), known=known)
    fixes = []
    if is_pulumis(meta):
        fixes.append(
            f"made by Pulumi: if stack {exp.stack}'s state holds it already "
            f"(`pulumi stack export --stack {exp.stack}`), remove its entry from the import plan"
        )
    release = helm_release_of(meta)
    if release is not None:
        keep = f"{_scope(target)}annotate {kubectl_kind(target)} {target.name} helm.sh/resource-policy=keep"
        fixes.append(
            f"Helm release {release[0]}/{release[1]} made it: a revision without it, or an uninstall, deletes it; "
            f"keep it with {exp.kubectl(keep)}"
        )
    path = IMMUTABLE.get(target.kind)
    if path and any(line.startswith(path) for line in changes):
        fixes.append(f"{path} is immutable: Kubernetes refuses the change, so the update fails or replaces the object")
    managers = _managers(meta)
    # a Secret's data is never read, and the first up always writes the stack's own into it
    if (changes or target.kind == "Secret") and managers:
        fixes.append(
            f"{', '.join(managers)} {'owns' if len(managers) == 1 else 'own'} fields up changes: a server-side "
            "apply conflict unless "
            f'pulumi.com/patchForce: "true" (or the provider\'s enablePatchForce) takes them over ({ADOPTING})'
        )
    if target.kind == "Secret":
        fixes.append("its data is not read here: the first up writes the stack's own into it")
    return importable(
        OBJECTS,
        target.label,
        Entry(target.resource, pulumi_type, target.where),
        who,
        tuple(changes),
        "; ".join(fixes),
        owners,
    )


def chart_finding(chart: HelmTarget, targets: list[KubeTarget], present: dict[KubeTarget, Obj]) -> Finding:
    """The objects of one ``helm.v4.Chart``: up creates them; the ones there cannot be imported."""
    name = f"objects of {chart.label}"
    if not present:
        return absent(OBJECTS, name, f"{len(targets)} objects, none there: up creates them")
    owners = sorted({o for meta in present.values() for o in flux_of(meta)})
    whose = sorted({owner(meta) for meta in present.values()})
    seen = [t.label for t in targets if t in present]
    check = warned(
        OBJECTS,
        name,
        f"{len(present)} of {len(targets)} objects there ({'; '.join(whose)}): a helm.v4.Chart's objects cannot take "
        "the import option from this program",
        f"the first `pulumi up` needs {UPSERT_ENV}=true: the provider then applies each with server-side apply "
        "instead of failing 'already exists' (unconfirmed for a helm.v4.Chart's objects); a field another manager "
        f"owns with another value is a conflict (pulumi.com/patchForce; {ADOPTING}); never delete a CRD to make "
        "room: that deletes every object of its kind",
    )
    title = f"{name}, taken over with server-side apply"
    return Finding(check, State.NOTE, None, tuple(seen), tuple(owners), title, upsert=True)


def identity(exp: Expected, kube: Kube) -> Finding:
    """The cluster the context reaches, as its Cilium names it (``cilium-config``): another
    cluster's name is the wrong context (or a rename that re-creates every Cilium identity)."""
    data = get(kube.config_map(SYSTEM, CILIUM_CONFIG), "data", default={})
    name, number = str(data.get("cluster-name") or ""), str(data.get("cluster-id") or "")
    want, want_id = exp.cluster.name, str(exp.cluster.cluster_id)
    if not name:
        return noted(passed(ACCESS, IDENTITY, f"no {SYSTEM}/{CILIUM_CONFIG}: Cilium does not run here yet"))
    seen = f"Cilium calls this cluster {name} (cluster-id {number or '?'})"
    if name == want and number in (want_id, ""):
        return noted(passed(ACCESS, IDENTITY, seen))
    if name == "default":
        return noted(
            warned(
                ACCESS,
                IDENTITY,
                f"{seen}, the chart's default; the stack makes it {want} ({want_id})",
                "renaming re-creates every Cilium identity, and traffic is disrupted until every agent has "
                "restarted: plan the first up for a maintenance window (README, clusterId)",
            )
        )
    return noted(
        failed(
            ACCESS,
            IDENTITY,
            f"{seen}; stack {exp.stack} is cluster {want} (cluster-id {want_id}): nothing written",
            f"is context {exp.context} the wrong cluster's? Point homelab:cluster.kubeContext (or the kubeconfig's "
            f"context {exp.context}) at cluster {want}; if this is the cluster, its Cilium identity would change: "
            "see README (clusterId) before adopting it",
        )
    )


def object_findings(exp: Expected, kube: Kube, plan: Plan, targets: list[KubeTarget], known: Known) -> list[Finding]:
    """A finding for every object of the program: Namespaces first (what is in one that is not
    there is not read)."""
    registered = {r.name: r for r in plan.resources if r.custom and r.type.startswith("kubernetes:")}
    missing: set[str] = set()
    out: list[Finding] = []
    for target in sorted(targets, key=lambda t: t.kind != "Namespace"):
        if target.namespace in missing:
            out.append(absent(OBJECTS, target.label, f"up creates it (namespace {target.namespace} is not there)"))
            continue
        try:
            live = kube.metadata(target.path) if target.kind == "Secret" else kube.read(target.path)
        except KubeError as exc:
            out.append(unknown(OBJECTS, target.label, f"cannot read it: {exc}", exp.read_access))
            continue
        if live is None:
            if target.kind == "Namespace":
                missing.add(target.name)
            out.append(absent(OBJECTS, target.label, "up creates it"))
            continue
        res = registered[target.resource]
        out.append(judge_object(exp, target, res.type, res.k8s_object, live, known))
    return out


def chart_findings(exp: Expected, kube: Kube, charts: list[HelmTarget], render: Renderer) -> list[Finding]:
    out = []
    for chart in charts:
        name = f"objects of {chart.label}"
        try:
            targets = chart_objects(chart, render(chart))
        except RenderUnavailableError as exc:
            fix = "make charts (the pinned chart packages; online once), then run adopt again"
            out.append(noted(warned(OBJECTS, name, f"not checked: {exc}", fix)))
            continue
        present: dict[KubeTarget, Obj] = {}
        try:
            for target in targets:
                found = kube.metadata(target.path)
                if found is not None:
                    present[target] = found.get("metadata") or {}
        except KubeError as exc:
            out.append(unknown(OBJECTS, name, f"cannot read them: {exc}", exp.read_access))
            continue
        out.append(chart_finding(chart, targets, present))
    return out
