"""What the first ``pulumi up`` of a stack would create, read from the program itself.

Never a hand list: the program runs under the SDK's mock monitor (:func:`homelab.plan.mockrun.run`, as
``make plan`` runs it) and every registration it makes says what ``up`` would create: each
Kubernetes object (kind, namespace, name), each ``helm.v3.Release`` (a release Secret in its
namespace), each ``helm.v4.Chart`` (no release Secret: the provider renders it and creates each
object on its own, so its objects are rendered here with the pinned chart, as ``make plan``
does), the Cloudflare Tunnel by name, each DNS record by name and type, and the zone lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homelab.config.names import CLUSTER_SCOPED
from homelab.errors import HomelabError
from homelab.plan import helm, render
from homelab.plan.charts import ChartError, locate
from homelab.plan.mockrun import Plan, Registration

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART = "kubernetes:helm.sh/v4:Chart"
TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
GET_ZONE = "cloudflare:index/getZone:getZone"
#: Objects Helm runs as hooks: a ``helm.v4.Chart`` never applies them.
HOOK = "helm.sh/hook"
Obj = dict[str, Any]


def plural(kind: str) -> str:
    """The resource name of a kind, by the rule every kind here follows (``GatewayClass`` ->
    ``gatewayclasses``, ``EnvoyProxy`` -> ``envoyproxies``, ``Gateway`` -> ``gateways``)."""
    lower = kind.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        return lower[:-1] + "ies"
    return lower + "s"


@dataclass(frozen=True)
class KubeTarget:
    """One Kubernetes object ``up`` would create."""

    api_version: str
    kind: str
    namespace: str
    name: str
    #: the Pulumi resource that creates it (what an ``import`` goes on)
    resource: str
    #: "" for the program's own resources, else the chart that applies it (``Chart network/x``)
    source: str = ""

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def label(self) -> str:
        return f"{self.kind} {self.where}"

    @property
    def path(self) -> str:
        base = f"/apis/{self.api_version}" if "/" in self.api_version else f"/api/{self.api_version}"
        scope = f"/namespaces/{self.namespace}" if self.namespace else ""
        return f"{base}{scope}/{plural(self.kind)}/{self.name}"


@dataclass(frozen=True)
class HelmTarget:
    """A ``helm.v3.Release`` (``stored``: Helm keeps it in Secrets) or a ``helm.v4.Chart``."""

    name: str
    namespace: str
    resource: str
    stored: bool
    values: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{'Helm release' if self.stored else 'Chart'} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class CloudflareTarget:
    """A tunnel (``kind`` ``tunnel``, in ``scope`` = the account) or a DNS record (its type)."""

    kind: str
    name: str
    scope: str
    resource: str


@dataclass(frozen=True)
class Wanted:
    stack: str
    objects: tuple[KubeTarget, ...]
    releases: tuple[HelmTarget, ...]
    #: every namespace a resource of the plan lives in, with the first resource that needs it
    namespaces: Mapping[str, str]
    tunnels: tuple[CloudflareTarget, ...]
    records: tuple[CloudflareTarget, ...]
    #: (zone name, account id) of each zone lookup (``getZone``) the program makes
    zone_lookups: tuple[tuple[str, str], ...]

    @property
    def charts(self) -> tuple[HelmTarget, ...]:
        return tuple(r for r in self.releases if not r.stored)


def _object(res: Registration) -> KubeTarget | None:
    if not res.custom or not res.type.startswith("kubernetes:") or res.type == HELM_RELEASE:
        return None
    obj = res.k8s_object
    meta = obj.get("metadata") or {}
    return KubeTarget(
        str(obj.get("apiVersion") or ""),
        str(obj.get("kind") or ""),
        str(meta.get("namespace") or ""),
        str(meta.get("name") or res.name),
        res.name,
    )


def _helm(res: Registration) -> HelmTarget:
    inputs = res.plain_inputs
    return HelmTarget(
        str(inputs.get("name") or res.name),
        str(inputs.get("namespace") or "default"),
        res.name,
        res.type == HELM_RELEASE,
        inputs.get("values") or {},
    )


def wanted(plan: Plan) -> Wanted:
    """Everything ``up`` would create for ``plan``'s stack, sorted (kind, namespace, name)."""
    objects: list[KubeTarget] = []
    releases: list[HelmTarget] = []
    namespaces: dict[str, str] = {}
    tunnels: list[CloudflareTarget] = []
    records: list[CloudflareTarget] = []
    # by type and name: registrations made inside Output callbacks come in a varying order
    for res in sorted(plan.resources, key=lambda r: (r.type, r.name)):
        if res.type in (HELM_RELEASE, HELM_CHART):
            release = _helm(res)
            releases.append(release)
            if not res.plain_inputs.get("createNamespace"):
                namespaces.setdefault(release.namespace, release.label)
        elif res.type == TUNNEL:
            inputs = res.plain_inputs
            tunnels.append(CloudflareTarget("tunnel", str(inputs.get("name")), str(inputs.get("accountId")), res.name))
        elif res.type == DNS_RECORD:
            inputs = res.plain_inputs
            records.append(CloudflareTarget(str(inputs.get("type")), str(inputs.get("name")), "", res.name))
        elif (target := _object(res)) is not None:
            objects.append(target)
            if target.namespace:
                namespaces.setdefault(target.namespace, target.label)
    lookups = [c.args.get("filter") or {} for c in plan.calls if c.token == GET_ZONE]
    zones = tuple((str(f.get("name")), str((f.get("account") or {}).get("id"))) for f in lookups)
    objects.sort(key=lambda o: (o.kind, o.namespace, o.name))
    releases.sort(key=lambda r: (r.namespace, r.name))
    spaces = dict(sorted(namespaces.items()))
    return Wanted(plan.stack, tuple(objects), tuple(releases), spaces, tuple(tunnels), tuple(records), zones)


def chart_objects(chart: HelmTarget, rendered: list[Obj]) -> list[KubeTarget]:
    """The objects a ``helm.v4.Chart`` creates of what its chart renders: no hooks, and each
    object without a namespace in the chart's unless its kind is cluster-scoped. Each is a
    resource of its own named ``<chart resource>:<namespace/name>`` (pulumi-kubernetes
    yaml/v2 ``register``)."""
    out = []
    for obj in rendered:
        meta = obj.get("metadata") or {}
        if HOOK in (meta.get("annotations") or {}):
            continue
        kind = str(obj.get("kind") or "")
        namespace = "" if kind in CLUSTER_SCOPED else str(meta.get("namespace") or chart.namespace)
        name = str(meta.get("name") or "")
        where = f"{namespace}/{name}" if namespace else name
        api_version = str(obj.get("apiVersion") or "")
        out.append(KubeTarget(api_version, kind, namespace, name, f"{chart.resource}:{where}", chart.label))
    return list({(o.api_version, o.kind, o.namespace, o.name): o for o in out}.values())  # no duplicates


class RenderUnavailableError(HomelabError):
    """A chart could not be rendered here (no helm, the pinned package missing): its objects are
    not checked, and preflight says so."""


Renderer = Callable[[HelmTarget], list[Obj]]


def chart_renderer(plan: Plan) -> Renderer:
    """Renders a ``helm.v4.Chart`` of ``plan`` as ``make plan`` does (homelab/plan/render.py: helm and
    the pinned chart package, offline)."""

    def render_chart(chart: HelmTarget) -> list[Obj]:
        specs = [s for s in render.release_specs(plan) if (s.namespace, s.release) == (chart.namespace, chart.name)]
        if not specs:
            raise RenderUnavailableError(f"homelab/plan/render.py does not render {chart.label}")
        try:
            binary = helm.find()
            package = locate(specs[0].chart)
            version = str(plan.outputs.get("kubernetesVersion") or "")
            return render.render_release(specs[0], binary, package, version).objects
        except (helm.HelmError, ChartError, render.RenderError) as exc:
            raise RenderUnavailableError(str(exc)) from None

    return render_chart
