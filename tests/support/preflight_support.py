"""preflight against the loopback fakes (tests/support/fakes.py): the real clients, a real HTTP server.

The cluster starts bare (a fresh cluster of the distribution, no CNI, kube-proxy and CoreDNS
switched off) and each case adds what a running homelab may have: kube-proxy, another CNI, the
distribution's CoreDNS, a Helm release of a name the program installs, objects the program or
its ``helm.v4.Chart`` creates, the tunnel or a DNS record at Cloudflare. What the program would
create is the real program's plan (conftest's ``plans``); the chart is rendered by a stand-in
(its objects as the pinned chart renders them, trimmed). Each check line is stated in full.

The lab all the ``tests/doctor/test_preflight*.py`` modules share: the fakes' state, the stand-in
renderer, the helpers that add what a running homelab may have, and the fixtures (each module
binds them under their names, so the module-scoped ones are per module).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from homelab.doctor import credentials, preflight
from homelab.doctor.checks_preflight import GROUPS
from homelab.doctor.expected import Expected, load
from homelab.doctor.preflight_plan import HelmTarget, Wanted, wanted
from homelab.doctor.report import Check, ordered
from homelab.doctor.runner import Options
from homelab.plan.mockrun import Plan
from tests.support import fakes
from tests.support.fakes import TOKEN, CloudflareState, FakeApi, write_kubeconfig

ROOT = Path(__file__).resolve().parents[2]
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
    www = {
        "id": "5c1d2e3f4a5b46c7d8e9f0a1b2c3d4e5",
        "type": "A",
        "name": "www.example.com",
        "content": "203.0.113.7",
        "proxied": True,
    }
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


def daemon_sets(lab: Lab) -> list[dict[str, Any]]:
    return lab.api.kube["/apis/apps/v1/daemonsets"]["items"]


FLUX = {"kustomize.toolkit.fluxcd.io/name": "cluster-apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
FLUX_HELM = {"helm.toolkit.fluxcd.io/name": "envoy-gateway", "helm.toolkit.fluxcd.io/namespace": "network"}


def gateway_class_and_issuer(lab: Lab, gateway_class_labels: dict[str, str]) -> None:
    helm = {"meta.helm.sh/release-name": "envoy-gateway", "meta.helm.sh/release-namespace": "network"}
    lab.api.kube["/apis/gateway.networking.k8s.io/v1/gatewayclasses/envoy"] = {
        "kind": "GatewayClass",
        "metadata": {**meta("envoy", labels=gateway_class_labels), "annotations": helm},
    }
    lab.api.kube["/apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod"] = {
        "kind": "ClusterIssuer",
        "metadata": meta("letsencrypt-prod", labels=FLUX),
    }
