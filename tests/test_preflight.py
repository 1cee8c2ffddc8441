"""preflight against the loopback fakes (tests/fakes.py): the real clients, a real HTTP server.

The cluster starts bare (a fresh cluster of the distribution, no CNI, kube-proxy and CoreDNS
switched off) and each case adds what a running homelab may have: kube-proxy, another CNI, the
distribution's CoreDNS, a Helm release of a name the program installs, objects the program or
its ``helm.v4.Chart`` creates, the tunnel or a DNS record at Cloudflare. What the program would
create is the real program's plan (conftest's ``plans``); the chart is rendered by a stand-in
(its objects as the pinned chart renders them, trimmed). Each check line is stated in full.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import fakes
from tests.fakes import TOKEN, CloudflareState, FakeApi, closed_port, write_kubeconfig
from tools.doctor import credentials, preflight
from tools.doctor.checks_preflight import GROUPS, check_namespace
from tools.doctor.expected import Expected, load
from tools.doctor.kube import METADATA_LIST
from tools.doctor.preflight_plan import (
    HelmTarget,
    RenderUnavailableError,
    Wanted,
    chart_objects,
    plural,
    wanted,
)
from tools.doctor.report import Check, ordered
from tools.doctor.runner import Options
from tools.mockrun import Plan

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "0123456789abcdef0123456789abcdef"
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
TUNNEL_ID = "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415"
TUNNELS = f"/accounts/{ACCOUNT}/cfd_tunnel"
Line = tuple[str, str, str, str, str]  # group, check, status, evidence, fix


@pytest.fixture(scope="module", autouse=True)
def loopback_only() -> Iterator[list[str]]:
    with fakes.loopback_only() as outside:
        yield outside


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeApi, Path]]:
    with fakes.serving(FakeApi()) as api:
        yield api, write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", {"main": api.url})


@pytest.fixture(scope="module")
def exp() -> Expected:
    return load("main", ROOT)


@pytest.fixture(scope="module")
def want(plans: dict[str, Plan]) -> Wanted:
    return wanted(plans["main"])


def meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "uid": f"uid-{name}", "resourceVersion": "1"}
    if namespace:
        out["namespace"] = namespace
    return {**out, "labels": labels} if labels else out


def crd(name: str) -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": meta(name)}


#: What the stand-in renders for the Envoy Gateway CRDs chart: two of its CRDs, and a hook that a
#: helm.v4.Chart never applies.
CHART = [
    crd("gatewayclasses.gateway.networking.k8s.io"),
    crd("envoyproxies.gateway.envoyproxy.io"),
    {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {**meta("crds-check"), "annotations": {"helm.sh/hook": "pre-install"}},
    },
]


def render(chart: HelmTarget) -> list[dict[str, Any]]:
    assert chart.label == "Chart network/envoy-gateway-crds"
    return copy.deepcopy(CHART)


def daemon_set(name: str, namespace: str, nodes: int = 3, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"kind": "DaemonSet", "metadata": meta(name, namespace, labels), "status": {"desiredNumberScheduled": nodes}}


def service(name: str, namespace: str, ip: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"kind": "Service", "metadata": meta(name, namespace, labels), "spec": {"clusterIP": ip, "clusterIPs": [ip]}}


def release_secret(release: str, namespace: str, version: int, status: str) -> dict[str, Any]:
    name = f"sh.helm.release.v1.{release}.v{version}"
    marks = {"owner": "helm", "name": release, "version": str(version), "status": status}
    return {"kind": "Secret", "metadata": meta(name, namespace, marks), "type": "helm.sh/release.v1"}


def bare_cluster() -> dict[str, Any]:
    """A fresh cluster: the API answers, nothing of the stack's is there. Decoys sit where only
    the right selector or name keeps them out (another release's Secret, a monitoring DaemonSet)."""
    return {
        "/version": {"major": "1", "minor": "35", "gitVersion": "v1.35.0"},
        "/apis/apps/v1/daemonsets": {
            "kind": "DaemonSetList",
            "items": [daemon_set("node-exporter", "monitoring", 3, {"k8s-app": "node-exporter"})],
        },
        "/api/v1/services": {"kind": "ServiceList", "items": [service("kubernetes", "default", "10.200.0.1")]},
        "/api/v1/namespaces/kube-system/secrets": {
            "kind": "SecretList",
            "items": [release_secret("metrics-server", "kube-system", 1, "deployed")],
        },
    }


def bare_account() -> CloudflareState:
    """The account and zone: the zone, a deleted tunnel of the stack's name, another name's record."""
    zone = {"id": ZONE_ID, "name": "example.com", "status": "active", "account": {"id": ACCOUNT}}
    deleted = {
        "id": "3c4d5e6f-7a8b-4c9d-8e0f-a1b2c3d4e5f6",
        "name": "homelab-main",
        "status": "down",
        "account_tag": ACCOUNT,
        "created_at": "2026-01-02T03:04:05Z",
        "deleted_at": "2026-02-03T04:05:06Z",
    }
    www = {"id": "rec-www", "type": "A", "name": "www.example.com", "content": "203.0.113.7", "proxied": True}
    return CloudflareState(zones=[zone], tunnels=[deleted], records={ZONE_ID: [www]})


class Lab:
    def __init__(self, api: FakeApi, kubeconfig: Path, exp: Expected, want: Wanted) -> None:
        self.api, self.kubeconfig, self.exp, self.want = api, kubeconfig, exp, want
        api.kube = bare_cluster()
        api.cloudflare = bare_account()
        api.requests.clear()
        self.render: Callable[[HelmTarget], list[dict[str, Any]]] = render

    def options(self, **env: str) -> Options:
        return Options(
            root=ROOT,
            kubeconfig=str(self.kubeconfig),
            env={credentials.TOKEN_ENV: TOKEN, **env},
            cloudflare_api=f"{self.api.url}/client/v4",
            which=lambda _: None,
        )

    def run(self, **env: str) -> list[Check]:
        return preflight.run(self.exp, self.want, self.options(**env), self.render)

    def lines(self, **env: str) -> list[Line]:
        """Every check line, in the order the report prints them."""
        checks = ordered(self.run(**env), GROUPS)
        return [(c.group, c.name, c.status.value, c.evidence, c.fix) for c in checks]

    def not_passed(self, **env: str) -> list[Line]:
        return [line for line in self.lines(**env) if line[2] != "PASS"]

    def group(self, group: str, **env: str) -> list[Line]:
        return [line for line in self.lines(**env) if line[0] == group]


@pytest.fixture
def lab(server: tuple[FakeApi, Path], exp: Expected, want: Wanted, monkeypatch: pytest.MonkeyPatch) -> Lab:
    fakes.direct_clients(monkeypatch)
    return Lab(*server, exp, want)


NET = "Networking the stack replaces"
OBJ = "Kubernetes objects"
ADOPTING = 'DESIGN.md "Adopting a running homelab"'
IN_STATE = "`pulumi stack export --stack main` shows whether the state holds it (preflight cannot see the state)"


def bare_lines(url: str) -> list[Line]:
    return [
        ("Access", "cluster main", "PASS", f"{url}, Kubernetes v1.35.0", ""),
        ("Access", "Cloudflare API", "PASS", "token from $CLOUDFLARE_API_TOKEN, accepted", ""),
        (NET, "kube-proxy", "PASS", "no kube-proxy DaemonSet (the stack sets kube-proxy-replacement=true)", ""),
        (NET, "other CNI", "PASS", "no DaemonSet of another CNI", ""),
        (NET, "Service kube-system/kube-dns", "PASS", "not there yet, and no Service has 10.200.0.10", ""),
        (NET, "Deployment kube-system/coredns", "PASS", "not there yet", ""),
        *[
            (
                "Helm releases",
                f"Helm release {ns}/{name}",
                "PASS",
                f"no release of that name (no Secret sh.helm.release.v1.{name}.v*)",
                "",
            )
            for ns, name in (
                ("cert-manager", "cert-manager"),
                ("kube-system", "cilium"),
                ("kube-system", "coredns"),
                ("network", "envoy-gateway"),
                ("network", "external-dns-cloudflare"),
            )
        ],
        (OBJ, "objects of the program", "PASS", "21 objects, none there yet", ""),
        (OBJ, "objects of Chart network/envoy-gateway-crds", "PASS", "2 objects, none there yet", ""),
        (
            "Namespaces",
            "namespace home-automation",
            "PASS",
            "not there yet: up creates it (resource home-automation.home-assistant-namespace)",
            "",
        ),
        (
            "Namespaces",
            "namespace observability",
            "PASS",
            "not there yet: up creates it (resource observability.grafana-namespace)",
            "",
        ),
        (
            "Cloudflare token",
            "Account / Cloudflare Tunnel / Edit",
            "PASS",
            f"GET {TUNNELS} answered: the token reaches the account's tunnels "
            "(up creates tunnel homelab-main; Edit itself is not provable by reading)",
            "",
        ),
        ("Cloudflare token", "Zone / Zone / Read", "PASS", f"zone example.com is {ZONE_ID} (up's getZone)", ""),
        (
            "Cloudflare token",
            "Zone / DNS / Edit",
            "PASS",
            f"GET /zones/{ZONE_ID}/dns_records answered: the token reaches the zone's records "
            "(up creates CNAME external.example.com; Edit itself is not provable by reading)",
            "",
        ),
        ("Cloudflare objects", "tunnel homelab-main", "PASS", f"no tunnel of that name in account {ACCOUNT}", ""),
        ("Cloudflare objects", "record external.example.com", "PASS", "no CNAME of that name in zone example.com", ""),
    ]


# ---------------------------------------------------------------------------------------------
# a bare cluster and account: everything PASSes, nothing is written, no Secret's data is asked for


def test_a_bare_cluster_passes_every_check(lab: Lab) -> None:
    assert lab.lines() == bare_lines(lab.api.url)
    assert {method for method, _ in lab.api.requests} == {"GET"}
    asked = [path for _, path in lab.api.requests]
    # a namespace that is not there: nothing in it is read
    assert not any(p.startswith("/apis/gateway.networking.k8s.io/v1/namespaces/network/") for p in asked)
    secrets = {p: a for p, a in lab.api.accepts.items() if "/secrets" in p}
    assert secrets == {
        "/api/v1/namespaces/kube-system/secrets?labelSelector=owner%3Dhelm%2Cname%3Dcilium": METADATA_LIST,
        "/api/v1/namespaces/kube-system/secrets?labelSelector=owner%3Dhelm%2Cname%3Dcoredns": METADATA_LIST,
    }


def test_what_up_would_create_comes_from_the_plan(want: Wanted) -> None:
    assert [r.label for r in want.releases] == [
        "Helm release cert-manager/cert-manager",
        "Helm release kube-system/cilium",
        "Helm release kube-system/coredns",
        "Helm release network/envoy-gateway",
        "Chart network/envoy-gateway-crds",
        "Helm release network/external-dns-cloudflare",
    ]
    labels = [o.label for o in want.objects]
    assert len(labels) == 23
    assert {
        "GatewayClass envoy",
        "ClusterIssuer letsencrypt-prod",
        "Namespace network",
        "Namespace observability",
    } <= set(labels)
    gateway_class = next(o for o in want.objects if o.kind == "GatewayClass")
    assert (gateway_class.path, gateway_class.resource) == (
        "/apis/gateway.networking.k8s.io/v1/gatewayclasses/envoy",
        "envoy-gateway-class",
    )
    assert [(t.kind, t.name, t.scope, t.resource) for t in want.tunnels] == [
        ("tunnel", "homelab-main", ACCOUNT, "cloudflare-tunnel-tunnel")
    ]
    assert [(t.kind, t.name, t.resource) for t in want.records] == [
        ("CNAME", "external.example.com", "cloudflare-tunnel-dns")
    ]
    assert want.zone_lookups == (("example.com", ACCOUNT),)
    assert dict(want.namespaces) == {
        "cert-manager": "Secret cert-manager/cloudflare-api-token",
        "home-automation": "HTTPRoute home-automation/home-assistant",
        "kube-system": "Helm release kube-system/cilium",
        "network": "Deployment network/cloudflared",
        "observability": "HTTPRoute observability/grafana",
    }


def test_plural_and_chart_objects() -> None:
    assert {
        k: plural(k) for k in ("GatewayClass", "Gateway", "EnvoyProxy", "ClientTrafficPolicy", "Ingress", "Namespace")
    } == {
        "GatewayClass": "gatewayclasses",
        "Gateway": "gateways",
        "EnvoyProxy": "envoyproxies",
        "ClientTrafficPolicy": "clienttrafficpolicies",
        "Ingress": "ingresses",
        "Namespace": "namespaces",
    }
    chart = HelmTarget("envoy-gateway-crds", "network", "envoy-gateway-crds", False, {})
    policy = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "crd-notes"}}
    objects = chart_objects(chart, [*copy.deepcopy(CHART), policy, crd("envoyproxies.gateway.envoyproxy.io")])
    assert [(o.label, o.resource, o.source, o.path) for o in objects] == [
        (
            "CustomResourceDefinition gatewayclasses.gateway.networking.k8s.io",
            "envoy-gateway-crds:gatewayclasses.gateway.networking.k8s.io",
            "Chart network/envoy-gateway-crds",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gatewayclasses.gateway.networking.k8s.io",
        ),
        (
            "CustomResourceDefinition envoyproxies.gateway.envoyproxy.io",
            "envoy-gateway-crds:envoyproxies.gateway.envoyproxy.io",
            "Chart network/envoy-gateway-crds",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/envoyproxies.gateway.envoyproxy.io",
        ),
        (
            "ConfigMap network/crd-notes",
            "envoy-gateway-crds:network/crd-notes",
            "Chart network/envoy-gateway-crds",
            "/api/v1/namespaces/network/configmaps/crd-notes",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# what the stack replaces: kube-proxy, another CNI, the distribution's CoreDNS


def _daemon_sets(lab: Lab) -> list[dict[str, Any]]:
    return lab.api.kube["/apis/apps/v1/daemonsets"]["items"]


def test_kube_proxy_still_running_fails(lab: Lab) -> None:
    _daemon_sets(lab).append(daemon_set("kube-proxy", "kube-system", 3, {"k8s-app": "kube-proxy"}))
    assert lab.not_passed() == [
        (
            NET,
            "kube-proxy",
            "FAIL",
            "DaemonSet kube-system/kube-proxy runs on 3 nodes: the stack sets kube-proxy-replacement=true, "
            "which expects kube-proxy gone",
            "kubectl --context main -n kube-system delete daemonset kube-proxy; "
            "kubectl --context main -n kube-system delete configmap kube-proxy; then on each node "
            "`iptables-save | grep -v KUBE | iptables-restore` (Cilium's kube-proxy-free guide), or the "
            "distribution's switch (kubeadm init --skip-phases=addon/kube-proxy, k3s --disable-kube-proxy, "
            "Talos cluster.proxy.disabled: true)",
        )
    ]


def test_another_cni_fails(lab: Lab) -> None:
    _daemon_sets(lab).append(daemon_set("kube-flannel-ds", "kube-flannel", 3, {"app": "flannel"}))
    _daemon_sets(lab).append(daemon_set("rke2-canal", "kube-system", 2, {"k8s-app": "canal"}))
    assert lab.not_passed() == [
        (
            NET,
            "other CNI",
            "FAIL",
            "DaemonSet kube-flannel/kube-flannel-ds (flannel, 3 nodes), "
            "DaemonSet kube-system/rke2-canal (Canal, 2 nodes): Cilium would share every node with another CNI",
            "kubectl --context main -n kube-flannel delete daemonset kube-flannel-ds; "
            "kubectl --context main -n kube-system delete daemonset rke2-canal, and its file in /etc/cni/net.d on "
            "each node; a distribution's own CNI is switched off in its config (k3s --flannel-backend=none, "
            "Talos cluster.network.cni.name: none)",
        )
    ]


def dns_fix(what: str) -> str:
    return (
        "switch the distribution's CoreDNS off (kubeadm init --skip-phases=addon/coredns, k3s --disable=coredns, "
        f"Talos cluster.coreDNS.disabled: true) or delete it: kubectl --context main -n kube-system delete {what}; "
        "cluster DNS is down from then until up installs the chart"
    )


def test_the_distribution_s_coredns_fails(lab: Lab) -> None:
    """kubeadm's: Service kube-dns on the address the chart wants, Deployment coredns."""
    kube_dns = service("kube-dns", "kube-system", "10.200.0.10", {"k8s-app": "kube-dns"})
    lab.api.kube["/api/v1/namespaces/kube-system/services/kube-dns"] = kube_dns
    lab.api.kube["/api/v1/services"]["items"].append(kube_dns)
    lab.api.kube["/apis/apps/v1/namespaces/kube-system/deployments/coredns"] = {
        "kind": "Deployment",
        "metadata": meta("coredns", "kube-system", {"k8s-app": "kube-dns"}),
    }
    assert lab.not_passed() == [
        (
            NET,
            "Service kube-system/kube-dns",
            "FAIL",
            "would fail: already exists (clusterIP 10.200.0.10, the address homelab:cluster.dns.corednsIp asks for; "
            "no owner label)",
            dns_fix("service kube-dns"),
        ),
        (
            NET,
            "Deployment kube-system/coredns",
            "FAIL",
            "would fail: already exists (no owner label): Helm installs over no object of another owner",
            dns_fix("deployment coredns"),
        ),
    ]


def test_another_service_holding_the_dns_address_fails(lab: Lab) -> None:
    held = service("rke2-coredns-rke2-coredns", "kube-system", "10.200.0.10", {"app.kubernetes.io/managed-by": "Helm"})
    lab.api.kube["/api/v1/services"]["items"].append(held)
    assert lab.not_passed() == [
        (
            NET,
            "Service kube-system/kube-dns",
            "FAIL",
            "would fail: 10.200.0.10 (homelab:cluster.dns.corednsIp) is already the clusterIP of Service "
            "kube-system/rke2-coredns-rke2-coredns (app.kubernetes.io/managed-by: Helm)",
            dns_fix("service rke2-coredns-rke2-coredns"),
        )
    ]


# ---------------------------------------------------------------------------------------------
# what up creates that is there already: Helm releases, objects, namespaces


def test_an_existing_helm_release_of_the_same_name_fails(lab: Lab) -> None:
    secrets = lab.api.kube["/api/v1/namespaces/kube-system/secrets"]["items"]
    secrets += [
        release_secret("cilium", "kube-system", 9, "superseded"),
        release_secret("cilium", "kube-system", 10, "deployed"),
    ]
    assert lab.not_passed() == [
        (
            "Helm releases",
            "Helm release kube-system/cilium",
            "FAIL",
            "would fail: already exists: revision 10 (deployed), Secret sh.helm.release.v1.cilium.v10: "
            "Helm cannot re-use a name that is still in use",
            f"{IN_STATE}; if it does not, import it (`import` option on resource cilium-release, "
            "id kube-system/cilium: the same values and chart version, or the import is an upgrade) or uninstall it: "
            "helm --kube-context main -n kube-system uninstall cilium (a Flux HelmRelease: suspend it, then delete it; "
            f"{ADOPTING})",
        )
    ]


FLUX = {"kustomize.toolkit.fluxcd.io/name": "cluster-apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}


def test_an_existing_namespace_not_pulumi_s_fails_and_what_is_in_it_is_read(lab: Lab) -> None:
    lab.api.kube["/api/v1/namespaces/network"] = {"kind": "Namespace", "metadata": meta("network", labels=FLUX)}
    assert lab.group(OBJ) == [
        (OBJ, "objects of the program", "PASS", "21 objects: 20 not there yet, 1 there (lines below)", ""),
        (
            OBJ,
            "Namespace network",
            "FAIL",
            "would fail: already exists, not Pulumi's (Flux Kustomization flux-system/cluster-apps)",
            "import it for one up (`import` option on resource envoy-gateway-namespace, id network; "
            f"{ADOPTING}), or delete it: kubectl --context main delete namespaces network",
        ),
        (OBJ, "objects of Chart network/envoy-gateway-crds", "PASS", "2 objects, none there yet", ""),
    ]
    assert ("GET", "/apis/gateway.networking.k8s.io/v1/namespaces/network/gateways/envoy-external") in lab.api.requests


def _gateway_class_and_issuer(lab: Lab, gateway_class_labels: dict[str, str]) -> None:
    helm = {"meta.helm.sh/release-name": "envoy-gateway", "meta.helm.sh/release-namespace": "network"}
    lab.api.kube["/apis/gateway.networking.k8s.io/v1/gatewayclasses/envoy"] = {
        "kind": "GatewayClass",
        "metadata": {**meta("envoy", labels=gateway_class_labels), "annotations": helm},
    }
    lab.api.kube["/apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod"] = {
        "kind": "ClusterIssuer",
        "metadata": meta("letsencrypt-prod", labels=FLUX),
    }


FLUX_HELM = {"helm.toolkit.fluxcd.io/name": "envoy-gateway", "helm.toolkit.fluxcd.io/namespace": "network"}


def test_existing_gateway_class_and_cluster_issuer_fail(lab: Lab) -> None:
    _gateway_class_and_issuer(lab, FLUX_HELM)
    assert lab.group(OBJ) == [
        (OBJ, "objects of the program", "PASS", "21 objects: 19 not there yet, 2 there (lines below)", ""),
        (
            OBJ,
            "ClusterIssuer letsencrypt-prod",
            "FAIL",
            "would fail: already exists, not Pulumi's (Flux Kustomization flux-system/cluster-apps)",
            "import it for one up (`import` option on resource cert-manager-letsencrypt-prod, id letsencrypt-prod; "
            f"{ADOPTING}), or delete it: kubectl --context main delete clusterissuers.cert-manager.io letsencrypt-prod",
        ),
        (
            OBJ,
            "GatewayClass envoy",
            "FAIL",
            "would fail: already exists, not Pulumi's (Helm release network/envoy-gateway of Flux HelmRelease "
            "network/envoy-gateway)",
            "import it for one up (`import` option on resource envoy-gateway-class, id envoy; "
            f"{ADOPTING}), or delete it: kubectl --context main delete gatewayclasses.gateway.networking.k8s.io envoy",
        ),
        (OBJ, "objects of Chart network/envoy-gateway-crds", "PASS", "2 objects, none there yet", ""),
    ]


def test_pulumi_s_own_objects_and_upsert_warn(lab: Lab) -> None:
    """Made by Pulumi: fine if this stack's state holds it. With upsert on: taken over, a WARN."""
    _gateway_class_and_issuer(lab, {"app.kubernetes.io/managed-by": "pulumi"})
    assert lab.not_passed() == [
        (
            OBJ,
            "ClusterIssuer letsencrypt-prod",
            "FAIL",
            "would fail: already exists, not Pulumi's (Flux Kustomization flux-system/cluster-apps)",
            "import it for one up (`import` option on resource cert-manager-letsencrypt-prod, id letsencrypt-prod; "
            f"{ADOPTING}), or delete it: kubectl --context main delete clusterissuers.cert-manager.io letsencrypt-prod",
        ),
        (
            OBJ,
            "GatewayClass envoy",
            "WARN",
            "exists, made by Pulumi (Helm release network/envoy-gateway): fine if stack main's state holds it, "
            "else would fail: already exists",
            f"{IN_STATE}; if it does not, import it (`import` option on resource envoy-gateway-class, id envoy) "
            "or delete it: kubectl --context main delete gatewayclasses.gateway.networking.k8s.io envoy",
        ),
    ]
    upsert = lab.not_passed(PULUMI_K8S_UPSERT_EXISTING_OBJECTS="true")
    assert upsert[0] == (
        OBJ,
        "ClusterIssuer letsencrypt-prod",
        "WARN",
        "exists, not Pulumi's (Flux Kustomization flux-system/cluster-apps): $PULUMI_K8S_UPSERT_EXISTING_OBJECTS "
        "is true, so up takes it over with server-side apply",
        "stop its other manager (Flux Kustomization flux-system/cluster-apps) first: a field it owns with another "
        "value is a conflict",
    )
    assert [line[2] for line in upsert] == ["WARN", "WARN"]


CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gatewayclasses.gateway.networking.k8s.io"


def test_an_existing_crd_of_the_chart_fails_with_the_chart_s_way_out(lab: Lab) -> None:
    lab.api.kube[CRD_PATH] = crd("gatewayclasses.gateway.networking.k8s.io")
    assert lab.group(OBJ)[1:] == [
        (
            OBJ,
            "objects of Chart network/envoy-gateway-crds",
            "PASS",
            "2 objects: 1 not there yet, 1 there (lines below)",
            "",
        ),
        (
            OBJ,
            "CustomResourceDefinition gatewayclasses.gateway.networking.k8s.io",
            "FAIL",
            "would fail: already exists, not Pulumi's (no owner label)",
            "let Chart network/envoy-gateway-crds take it over: PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true for the first "
            "up (server-side apply), or delete it (deleting a CRD deletes every object of its kind): "
            "kubectl --context main delete customresourcedefinitions.apiextensions.k8s.io "
            "gatewayclasses.gateway.networking.k8s.io",
        ),
    ]


def test_a_chart_that_cannot_be_rendered_is_a_warning(lab: Lab) -> None:
    def unavailable(chart: HelmTarget) -> list[dict[str, Any]]:
        raise RenderUnavailableError("no chart package gateway-crds-helm-v1.9.0.tgz")

    lab.render = unavailable
    assert lab.not_passed() == [
        (
            OBJ,
            "objects of Chart network/envoy-gateway-crds",
            "WARN",
            "not checked: no chart package gateway-crds-helm-v1.9.0.tgz",
            "make charts (the pinned chart packages; online once), then run preflight again",
        )
    ]


def test_an_existing_app_namespace_is_a_warning(lab: Lab) -> None:
    lab.api.kube["/api/v1/namespaces/observability"] = {"kind": "Namespace", "metadata": meta("observability")}
    assert lab.not_passed() == [
        (
            "Namespaces",
            "namespace observability",
            "WARN",
            "exists, not Pulumi's (no owner label): the program's create would fail: already exists",
            "import it for one up (`import` option on resource observability.grafana-namespace, id observability), "
            "or let the program adopt it: PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true for the first up",
        )
    ]
    assert ("GET", "/apis/gateway.networking.k8s.io/v1/namespaces/observability/httproutes/grafana") in lab.api.requests


def test_a_namespace_nothing_creates_must_exist(exp: Expected) -> None:
    """An app with ``createNamespace: false``: the program creates no Namespace for it."""
    needed = "HTTPRoute media/jellyfin"
    missing = check_namespace(exp, "media", needed, None, None, False)
    assert (missing.group, missing.name, missing.status.value, missing.evidence, missing.fix) == (
        "Namespaces",
        "namespace media",
        "FAIL",
        "missing: up creates HTTPRoute media/jellyfin in it and fails (the provider retries NotFound, then gives up)",
        "kubectl --context main create namespace media, or deploy what owns it first",
    )
    there = check_namespace(exp, "media", needed, None, meta("media"), False)
    assert (there.status.value, there.evidence, there.fix) == ("PASS", "exists (HTTPRoute media/jellyfin is in it)", "")


# ---------------------------------------------------------------------------------------------
# Cloudflare: the token's permission for each call up makes, the tunnel and the record


def test_an_existing_tunnel_and_record_fail(lab: Lab) -> None:
    cf = lab.api.cloudflare
    cf.tunnels.append(
        {
            "id": TUNNEL_ID,
            "name": "homelab-main",
            "status": "healthy",
            "account_tag": ACCOUNT,
            "created_at": "2026-03-04T05:06:07Z",
            "deleted_at": None,
        }
    )
    cf.records[ZONE_ID] += [
        {"id": "rec-txt", "type": "TXT", "name": "external.example.com", "content": '"v=spf1 -all"', "proxied": False},
        {
            "id": "rec-ext",
            "type": "CNAME",
            "name": "external.example.com",
            "content": f"{TUNNEL_ID}.cfargotunnel.com",
            "proxied": True,
        },
    ]
    assert lab.not_passed() == [
        (
            "Cloudflare objects",
            "tunnel homelab-main",
            "FAIL",
            f"would fail: already exists: tunnel {TUNNEL_ID} (healthy, created 2026-03-04)",
            f"import it (`import` option on resource cloudflare-tunnel-tunnel, id {ACCOUNT}/{TUNNEL_ID}; {ADOPTING}), "
            "delete it if nothing runs it (`cloudflared tunnel delete homelab-main`), or choose another "
            "homelab:cluster.cloudflare.tunnelName",
        ),
        (
            "Cloudflare objects",
            "record external.example.com",
            "FAIL",
            f"would fail: already exists: CNAME to {TUNNEL_ID}.cfargotunnel.com, proxied",
            f"import it (`import` option on resource cloudflare-tunnel-dns, id {ZONE_ID}/rec-ext), or delete it in the "
            "dashboard (DNS > Records of example.com); a record external-dns wrote has a TXT owner record beside it",
        ),
    ]


def test_a_record_of_another_type_beside_it_passes(lab: Lab) -> None:
    lab.api.cloudflare.records[ZONE_ID].append(
        {"id": "rec-txt", "type": "TXT", "name": "external.example.com", "content": '"hello"', "proxied": False}
    )
    assert lab.group("Cloudflare objects")[1] == (
        "Cloudflare objects",
        "record external.example.com",
        "PASS",
        "no CNAME of that name in zone example.com (1 of other types)",
        "",
    )


def permission_fix(permission: str, where: str) -> str:
    return (
        f"give the token {permission} on {where} (dashboard: My Profile > API Tokens > Edit), "
        "then store it again as the stack's homelab:cloudflareApiToken"
    )


def test_a_token_without_the_tunnel_permission_fails_naming_it(lab: Lab) -> None:
    lab.api.cloudflare.errors[TUNNELS] = (403, "Unauthorized to access requested resource", 9109)
    lines = lab.lines()
    assert [line for line in lines if line[2] != "PASS"] == [
        (
            "Cloudflare token",
            "Account / Cloudflare Tunnel / Edit",
            "FAIL",
            f"GET {TUNNELS} answered HTTP 403 (9109: Unauthorized to access requested resource): "
            "up cannot create tunnel homelab-main, its configuration or its token",
            permission_fix("Account / Cloudflare Tunnel / Edit", f"account {ACCOUNT}"),
        )
    ]
    assert "tunnel homelab-main" not in [line[1] for line in lines]  # not known: not judged


@pytest.mark.parametrize(
    ("path", "permission", "evidence", "where"),
    [
        (
            "/zones",
            "Zone / Zone / Read",
            "GET /zones answered HTTP 403 (10000: Authentication error): up's getZone example.com fails",
            "zone example.com",
        ),
        (
            f"/zones/{ZONE_ID}/dns_records",
            "Zone / DNS / Edit",
            f"GET /zones/{ZONE_ID}/dns_records answered HTTP 403 (10000: Authentication error): "
            "up cannot create record external.example.com",
            "zone example.com",
        ),
    ],
)
def test_a_token_without_a_zone_permission_fails_naming_it(
    lab: Lab, path: str, permission: str, evidence: str, where: str
) -> None:
    lab.api.cloudflare.errors[path] = (403, "Authentication error", 10000)
    failing = [line for line in lab.not_passed() if line[2] == "FAIL"]
    assert failing == [("Cloudflare token", permission, "FAIL", evidence, permission_fix(permission, where))]


def test_a_rejected_token_is_one_line_and_never_shown(lab: Lab) -> None:
    lab.api.cloudflare.token = "another-token-altogether-0123456789abcdef"
    checks = lab.run()
    cloudflare = [c for c in checks if c.group.startswith("Cloudflare") or c.name == "Cloudflare API"]
    assert [(c.group, c.name, c.status.value, c.evidence, c.fix) for c in cloudflare] == [
        (
            "Access",
            "Cloudflare API",
            "FAIL",
            "token from $CLOUDFLARE_API_TOKEN rejected by Cloudflare: HTTP 401 (1000: Invalid API Token); "
            "Cloudflare checks skipped",
            'the token is wrong, expired or revoked: create one (README "Secrets") and give it again; '
            "export CLOUDFLARE_API_TOKEN=<the stack's homelab:cloudflareApiToken> (preflight only reads), or install "
            "the Pulumi CLI, log in and export PULUMI_CONFIG_PASSPHRASE: preflight runs "
            "`pulumi config get --stack main homelab:cloudflareApiToken`",
        )
    ]
    assert TOKEN not in json.dumps([c.__dict__ for c in checks], default=str)


def test_server_errors_say_nothing_of_the_token(lab: Lab) -> None:
    for path in (TUNNELS, "/zones"):
        lab.api.cloudflare.errors[path] = (503, "Service Unavailable")
    fault = "a fault at Cloudflare, not an answer about the token"
    retry = "retry later; https://www.cloudflarestatus.com"
    assert lab.not_passed() == [
        ("Access", "Cloudflare API", "WARN", f"token from $CLOUDFLARE_API_TOKEN not checked: {fault}", retry),
        (
            "Cloudflare token",
            "Account / Cloudflare Tunnel / Edit",
            "FAIL",
            f"GET {TUNNELS} answered HTTP 503 (10000: Service Unavailable): {fault}",
            retry,
        ),
        (
            "Cloudflare token",
            "Zone / Zone / Read",
            "FAIL",
            f"GET /zones answered HTTP 503 (10000: Service Unavailable): {fault}",
            retry,
        ),
        (
            "Cloudflare objects",
            "record external.example.com",
            "WARN",
            "not checked: no zone id (above)",
            "give the token Zone / Zone / Read",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# the command: an unreachable cluster, the table, JSON, exit codes


@pytest.fixture
def cli(
    lab: Lab, plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """``python -m tools.doctor.preflight`` in-process: the session's plan, the stand-in renderer."""
    monkeypatch.setattr(preflight, "plan_of", lambda stack, root: plans[stack])
    monkeypatch.setattr(preflight, "chart_renderer", lambda plan: render)
    monkeypatch.setenv("KUBECONFIG", str(lab.kubeconfig))
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("HOMELAB_CLOUDFLARE_API", f"{lab.api.url}/client/v4")
    monkeypatch.delenv("PULUMI_K8S_UPSERT_EXISTING_OBJECTS", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = preflight.main(list(args))
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err and TOKEN not in out.out + out.err
        return code, out.out, out.err

    return run


def test_an_unreachable_cluster_fails_fast_naming_the_context(
    lab: Lab, cli: Callable[..., tuple[int, str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "config", {"main": host})))
    start = time.monotonic()
    code, out, err = cli("--stack", "main")
    assert time.monotonic() - start < 5
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[:6] == [
        "homelab preflight: stack main (context main, domain example.com, zone example.com)",
        "",
        "Access",
        f"  FAIL  cluster main                        {host}: no answer from the API server: Failed to establish a new "
        "connection: [Errno 111] Connection refused; cluster checks skipped",
        f"                                            fix: is the cluster up, {host} reachable from here and the "
        "context's credentials valid? kubectl --context main get --raw /version",
        "  PASS  Cloudflare API                      token from $CLOUDFLARE_API_TOKEN, accepted",
    ]
    assert lines[-1] == "7 checks: 6 PASS, 0 WARN, 1 FAIL"


def test_the_table_and_exit_codes(lab: Lab, cli: Callable[..., tuple[int, str, str]]) -> None:
    code, out, _ = cli("--stack", "main")
    assert code == 0
    lines = out.splitlines()
    assert [ln for ln in lines if ln and not ln.startswith(" ")][1:] == [*GROUPS, "20 checks: 20 PASS, 0 WARN, 0 FAIL"]
    _daemon_sets(lab).append(daemon_set("kube-proxy", "kube-system"))
    code, out, _ = cli("--stack", "main")
    assert code == 1 and out.splitlines()[-1] == "20 checks: 19 PASS, 0 WARN, 1 FAIL"
    lab.api.requests.clear()
    for args, says in (
        (["--stack", "prod"], "no stack file Pulumi.prod.yaml"),
        (["--stack", "../main"], "is not a stack name"),
    ):
        code, out, err = cli(*args)
        assert (code, out) == (2, "") and err.startswith("error: ") and says in err, err
    assert lab.api.requests == []  # bad input reaches nothing


def test_json_output_for_scripts(lab: Lab, cli: Callable[..., tuple[int, str, str]]) -> None:
    _gateway_class_and_issuer(lab, FLUX_HELM)
    code, out, _ = cli("--stack", "main", "--json")
    rows = json.loads(out)
    assert code == 1
    assert all(list(row) == ["group", "check", "status", "evidence", "fix"] for row in rows)
    assert rows[0] == {
        "group": "Access",
        "check": "cluster main",
        "status": "PASS",
        "evidence": f"{lab.api.url}, Kubernetes v1.35.0",
        "fix": None,
    }
    assert [(r["check"], r["status"]) for r in rows if r["status"] != "PASS"] == [
        ("ClusterIssuer letsencrypt-prod", "FAIL"),
        ("GatewayClass envoy", "FAIL"),
    ]
    assert {r["fix"] for r in rows if r["status"] == "PASS"} == {None}


def test_a_plan_the_program_refuses_exits_2_before_any_request(
    lab: Lab, cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from components.promotion import PromotionGateError

    def refused(stack: str, root: Path) -> Plan:
        raise PromotionGateError("main asks for cilium 1.21.0, which staging does not run")

    def broken(stack: str, root: Path) -> Plan:
        raise RuntimeError("boom")

    lab.api.requests.clear()
    for plan_of, says in (
        (refused, "error: main asks for cilium 1.21.0, which staging does not run\n"),
        (broken, "error: the plan failed: RuntimeError: boom (re-run with --debug)\n"),
    ):
        monkeypatch.setattr(preflight, "plan_of", plan_of)
        assert cli("--stack", "main") == (2, "", says)
    assert lab.api.requests == []
