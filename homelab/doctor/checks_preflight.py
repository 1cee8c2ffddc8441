"""Preflight's cluster checks: what on the cluster would make the first ``pulumi up`` fail.

kube-proxy still running (the stack's Cilium replaces it) or another CNI's DaemonSet; the
distribution's own CoreDNS holding the names (Deployment, ``kube-dns`` Service) or the address
the coredns chart wants; a Helm release of a name the program installs (Helm: "cannot re-use a
name that is still in use"); any object the program or one of its ``helm.v4.Chart``\\ s creates
that already exists (the provider creates, it does not upsert: AlreadyExists); a namespace the
program's objects live in that nothing creates. Everything the program creates comes from its
own plan (:mod:`homelab.doctor.preflight_plan`); the ``check_*`` functions are pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from homelab.doctor.expected import Expected
from homelab.doctor.kube import Obj, get
from homelab.doctor.preflight_plan import HelmTarget, KubeTarget, plural
from homelab.doctor.report import ACCESS, Check, Status, failed, passed, warned

NETWORKING = "Networking the stack replaces"
RELEASES = "Helm releases"
OBJECTS = "Kubernetes objects"
NAMESPACES = "Namespaces"
CF_TOKEN = "Cloudflare token"
CF_OBJECTS = "Cloudflare objects"
#: Preflight's groups, in the order they print.
GROUPS: tuple[str, ...] = (ACCESS, NETWORKING, RELEASES, OBJECTS, NAMESPACES, CF_TOKEN, CF_OBJECTS)

#: The provider's switch (``upsertExistingObjects``) to take existing objects over with
#: server-side apply instead of failing their create with AlreadyExists.
UPSERT_ENV = "PULUMI_K8S_UPSERT_EXISTING_OBJECTS"
MANAGED_BY = "app.kubernetes.io/managed-by"
ADOPTING = 'DESIGN.md "Adopting a running homelab"'
#: Namespaces every cluster has.
BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
#: DaemonSet names (or ``k8s-app`` labels) of the other CNIs a cluster may come with.
OTHER_CNIS: Mapping[str, str] = {
    "aws-node": "Amazon VPC CNI",
    "antrea-agent": "Antrea",
    "calico-node": "Calico",
    "canal": "Canal",
    "kindnet": "kindnet",
    "kube-flannel": "flannel",
    "kube-flannel-ds": "flannel",
    "kube-router": "kube-router",
    "ovnkube-node": "OVN-Kubernetes",
    "weave-net": "Weave Net",
}


# ---------------------------------------------------------------------------------------------
# whose an existing object is


def _labels(meta: Obj) -> dict[str, str]:
    return dict(meta.get("labels") or {})


def is_pulumis(meta: Obj) -> bool:
    """Created by pulumi-kubernetes: its label, or its field manager (server-side apply)."""
    managers = [str(m.get("manager") or "") for m in meta.get("managedFields") or [] if isinstance(m, dict)]
    return _labels(meta).get(MANAGED_BY) == "pulumi" or any(m.startswith("pulumi-kubernetes") for m in managers)


def helm_release_of(meta: Obj) -> tuple[str, str] | None:
    """(namespace, release) of the Helm release that installed the object, from Helm's annotations."""
    annotations = meta.get("annotations") or {}
    name = annotations.get("meta.helm.sh/release-name")
    return (str(annotations.get("meta.helm.sh/release-namespace") or "?"), str(name)) if name else None


def owner(meta: Obj) -> str:
    """Who made an existing object, as its labels and annotations say."""
    labels = _labels(meta)
    release = helm_release_of(meta)
    if release:
        said = f"Helm release {release[0]}/{release[1]}"
        flux = labels.get("helm.toolkit.fluxcd.io/name")
        if flux:
            said += f" of Flux HelmRelease {labels.get('helm.toolkit.fluxcd.io/namespace', '?')}/{flux}"
        return said
    kustomization = labels.get("kustomize.toolkit.fluxcd.io/name")
    if kustomization:
        return f"Flux Kustomization {labels.get('kustomize.toolkit.fluxcd.io/namespace', '?')}/{kustomization}"
    if labels.get(MANAGED_BY):
        return f"{MANAGED_BY}: {labels[MANAGED_BY]}"
    return "no owner label"


def delete_command(exp: Expected, target: KubeTarget) -> str:
    group = target.api_version.split("/")[0] if "/" in target.api_version else ""
    kind = f"{plural(target.kind)}.{group}" if group else plural(target.kind)
    scope = f"-n {target.namespace} " if target.namespace else ""
    return exp.kubectl(f"{scope}delete {kind} {target.name}")


def _in_state(exp: Expected) -> str:
    return (
        f"`pulumi stack export --stack {exp.stack}` shows whether the state holds it (preflight cannot see the state)"
    )


# ---------------------------------------------------------------------------------------------
# pure checks


def check_existing(exp: Expected, target: KubeTarget, meta: Obj, upsert: bool, group: str = OBJECTS) -> Check:
    """An object ``up`` would create that is already there: its create fails with AlreadyExists
    (the provider creates, it does not upsert), unless ``upsertExistingObjects`` is on."""
    name, who = target.label, owner(meta)
    if is_pulumis(meta):
        return warned(
            group,
            name,
            f"exists, made by Pulumi ({who}): fine if stack {exp.stack}'s state holds it, "
            "else would fail: already exists",
            f"{_in_state(exp)}; if it does not, import it (`import` option on resource {target.resource}, "
            f"id {target.where}) or delete it: {delete_command(exp, target)}",
        )
    if upsert:
        return warned(
            group,
            name,
            f"exists, not Pulumi's ({who}): ${UPSERT_ENV} is true, so up takes it over with server-side apply",
            f"stop its other manager ({who}) first: a field it owns with another value is a conflict",
        )
    crd = " (deleting a CRD deletes every object of its kind)" if target.kind == "CustomResourceDefinition" else ""
    if target.source:
        fix = (
            f"let {target.source} take it over: {UPSERT_ENV}=true for the first up (server-side apply), "
            f"or delete it{crd}: {delete_command(exp, target)}"
        )
    else:
        fix = (
            f"import it for one up (`import` option on resource {target.resource}, id {target.where}; {ADOPTING}), "
            f"or delete it{crd}: {delete_command(exp, target)}"
        )
    return failed(group, name, f"would fail: already exists, not Pulumi's ({who})", fix)


def check_absent(group: str, name: str, total: int, present: int) -> Check:
    """The summary of one source's objects: how many ``up`` creates and how many are there."""
    if present == 0:
        return passed(group, name, f"{total} objects, none there yet")
    return passed(group, name, f"{total} objects: {total - present} not there yet, {present} there (lines below)")


def check_release(exp: Expected, release: HelmTarget, secrets: list[Obj]) -> Check:
    """Helm refuses to install a release whose name has any history in its namespace."""
    name = release.label
    if not secrets:
        return passed(RELEASES, name, f"no release of that name (no Secret sh.helm.release.v1.{release.name}.v*)")

    def revision(secret: Obj) -> int:
        version = _labels(secret.get("metadata") or {}).get("version", "0")
        return int(version) if version.isdigit() else 0

    latest = max(secrets, key=revision)
    meta = latest.get("metadata") or {}
    labels = _labels(meta)
    flux = labels.get("helm.toolkit.fluxcd.io/name")
    by = f", Flux HelmRelease {labels.get('helm.toolkit.fluxcd.io/namespace', '?')}/{flux}" if flux else ""
    return failed(
        RELEASES,
        name,
        f"would fail: already exists: revision {revision(latest)} ({labels.get('status', '?')}), "
        f"Secret {meta.get('name')}{by}: Helm cannot re-use a name that is still in use",
        f"{_in_state(exp)}; if it does not, import it (`import` option on resource {release.resource}, "
        f"id {release.namespace}/{release.name}: the same values and chart version, or the import is an upgrade) "
        f"or uninstall it: helm --kube-context {exp.context} -n {release.namespace} uninstall {release.name} "
        f"(a Flux HelmRelease: suspend it, then delete it; {ADOPTING})",
    )


def _nodes(ds: Obj) -> int:
    return int(get(ds, "status", "desiredNumberScheduled", default=0))


def _where(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def check_kube_proxy(exp: Expected, daemonsets: list[Obj]) -> Check:
    name = "kube-proxy"
    if exp.cilium_config.get("kube-proxy-replacement") != "true":
        return passed(NETWORKING, name, "the stack keeps kube-proxy (kube-proxy-replacement is not true)")
    found = [
        ds
        for ds in daemonsets
        if get(ds, "metadata", "name") == "kube-proxy"
        or _labels(ds.get("metadata") or {}).get("k8s-app") == "kube-proxy"
    ]
    if not found:
        return passed(NETWORKING, name, "no kube-proxy DaemonSet (the stack sets kube-proxy-replacement=true)")
    ds = found[0]
    namespace, ds_name = get(ds, "metadata", "namespace"), get(ds, "metadata", "name")
    return failed(
        NETWORKING,
        name,
        f"DaemonSet {_where(ds)} runs on {_nodes(ds)} nodes: the stack sets kube-proxy-replacement=true, "
        "which expects kube-proxy gone",
        f"{exp.kubectl(f'-n {namespace} delete daemonset {ds_name}')}; "
        f"{exp.kubectl(f'-n {namespace} delete configmap kube-proxy')}; then on each node "
        "`iptables-save | grep -v KUBE | iptables-restore` (Cilium's kube-proxy-free guide), or the "
        "distribution's switch (kubeadm init --skip-phases=addon/kube-proxy, k3s --disable-kube-proxy, "
        "Talos cluster.proxy.disabled: true)",
    )


def check_cni(exp: Expected, daemonsets: list[Obj]) -> Check:
    name = "other CNI"
    found = []
    for ds in daemonsets:
        meta = ds.get("metadata") or {}
        key = str(meta.get("name")) if meta.get("name") in OTHER_CNIS else _labels(meta).get("k8s-app", "")
        if key in OTHER_CNIS:
            found.append((ds, OTHER_CNIS[key]))
    if not found:
        return passed(NETWORKING, name, "no DaemonSet of another CNI")
    seen = ", ".join(f"DaemonSet {_where(ds)} ({cni}, {_nodes(ds)} nodes)" for ds, cni in found)
    deletes = "; ".join(
        exp.kubectl(f"-n {get(ds, 'metadata', 'namespace')} delete daemonset {get(ds, 'metadata', 'name')}")
        for ds, _ in found
    )
    return failed(
        NETWORKING,
        name,
        f"{seen}: Cilium would share every node with another CNI",
        f"{deletes}, and its file in /etc/cni/net.d on each node; a distribution's own CNI is switched off "
        "in its config (k3s --flannel-backend=none, Talos cluster.network.cni.name: none)",
    )


def coredns_release(releases: Iterable[HelmTarget], address: str) -> HelmTarget | None:
    """The release whose chart's Service asks for the cluster DNS address (the coredns chart)."""
    return next((r for r in releases if get(dict(r.values), "service", "clusterIP") == address), None)


def _dns_fix(exp: Expected, namespace: str, what: str) -> str:
    return (
        "switch the distribution's CoreDNS off (kubeadm init --skip-phases=addon/coredns, k3s --disable=coredns, "
        f"Talos cluster.coreDNS.disabled: true) or delete it: {exp.kubectl(f'-n {namespace} delete {what}')}; "
        "cluster DNS is down from then until up installs the chart"
    )


def _ours(meta: Obj, release: HelmTarget) -> bool:
    return helm_release_of(meta) == (release.namespace, release.name)


def check_dns_service(exp: Expected, release: HelmTarget, service: Obj | None, services: list[Obj]) -> Check:
    """The chart's Service (``kube-dns``) and its address must both be free."""
    address = exp.coredns_ip
    svc = str(get(dict(release.values), "service", "name", default="") or release.name)
    name = f"Service {release.namespace}/{svc}"
    fix_service = _dns_fix(exp, release.namespace, f"service {svc}")
    if service is not None:
        meta = service.get("metadata") or {}
        if _ours(meta, release):
            return passed(NETWORKING, name, f"{release.label}'s ({RELEASES} above)")
        ip = get(service, "spec", "clusterIP", default="")
        what = f"clusterIP {ip}" + (", the address homelab:cluster.dns.corednsIp asks for" if ip == address else "")
        return failed(NETWORKING, name, f"would fail: already exists ({what}; {owner(meta)})", fix_service)
    holders = [s for s in services if address in (get(s, "spec", "clusterIPs", default=None) or [])]
    holders += [s for s in services if get(s, "spec", "clusterIP") == address and s not in holders]
    if holders:
        held = holders[0]
        meta = held.get("metadata") or {}
        return failed(
            NETWORKING,
            name,
            f"would fail: {address} (homelab:cluster.dns.corednsIp) is already the clusterIP of "
            f"Service {_where(held)} ({owner(meta)})",
            _dns_fix(exp, str(meta.get("namespace")), f"service {meta.get('name')}"),
        )
    return passed(NETWORKING, name, f"not there yet, and no Service has {address}")


def check_dns_deployment(exp: Expected, release: HelmTarget, deployment: Obj | None) -> Check:
    """The chart's Deployment (``fullnameOverride``, else the release name) must be free."""
    dep = str(get(dict(release.values), "fullnameOverride", default="") or release.name)
    name = f"Deployment {release.namespace}/{dep}"
    if deployment is None:
        return passed(NETWORKING, name, "not there yet")
    meta = deployment.get("metadata") or {}
    if _ours(meta, release):
        return passed(NETWORKING, name, f"{release.label}'s ({RELEASES} above)")
    return failed(
        NETWORKING,
        name,
        f"would fail: already exists ({owner(meta)}): Helm installs over no object of another owner",
        _dns_fix(exp, release.namespace, f"deployment {dep}"),
    )


def check_namespace(
    exp: Expected, namespace: str, needed_by: str, created: KubeTarget | None, meta: Obj | None, upsert: bool
) -> Check:
    """A namespace the plan's objects live in: the program creates it (an app's, retained on
    delete), or it must be there before ``up``."""
    name = f"namespace {namespace}"
    if created is not None:
        if meta is None:
            return passed(NAMESPACES, name, f"not there yet: up creates it (resource {created.resource})")
        found = check_existing(exp, created, meta, upsert, NAMESPACES)
        if found.status is not Status.FAIL:
            return found
        return failed(
            NAMESPACES,
            name,
            f"exists, not Pulumi's ({owner(meta)}): would fail: already exists",
            f"if something else owns it, set createNamespace: false on its apps; else import it for one up "
            f"(`import` option on resource {created.resource}, id {namespace}), or let the program adopt it: "
            f"{UPSERT_ENV}=true for the first up",
        )
    if meta is not None:
        return passed(NAMESPACES, name, f"exists ({needed_by} is in it)")
    return failed(
        NAMESPACES,
        name,
        f"missing: up creates {needed_by} in it and fails (the provider retries NotFound, then gives up)",
        f"{exp.kubectl(f'create namespace {namespace}')}, or deploy what owns it first",
    )


def release_secrets_path(release: HelmTarget) -> tuple[str, str]:
    """Where Helm keeps a release's revisions, and the labels that select them."""
    return f"/api/v1/namespaces/{release.namespace}/secrets", f"owner=helm,name={release.name}"
