"""adopt against the loopback fakes (tests/support/fakes.py): a homelab the seed's Flux runs.

The cluster holds what Flux leaves: Helm's release Secrets, built as Helm builds them (the release
JSON with homelab/plan's Go encoders, then Helm's gzip and base64, then the API's base64 of the
Secret's data), the HelmRelease objects of helm-controller, and the objects the program would
create, applied by kustomize-controller (or rendered by a Flux HelmRelease) and labelled as Flux
labels them. Each object starts as the program's own (the plan's registration) with a few fields
as Flux's homelab has them. The account holds the zone, a remotely managed tunnel, the tunnel's
CNAME and external-dns's ownership TXT beside it, in the fields Cloudflare's API returns.

``flux_homelab()`` and ``flux_account()`` are the all-adoptable homelab; each test changes what
its case needs. The command runs in-process in a copy of the project (conftest's ``project``),
with the session's plan and preflight's stand-in chart renderer.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from homelab.adopt import command
from homelab.config.imports import import_file
from homelab.doctor.preflight_plan import KubeTarget, Wanted, wanted
from homelab.plan.helm_chart_load import LoadedChart, chart_json
from homelab.plan.helm_go_encoding import go_string, go_struct, go_time, go_value, omit_empty_str
from homelab.plan.helm_storage import HELM_STORAGE_TYPE, encode
from homelab.plan.mockrun import Plan
from tests.conftest import Project
from tests.support import fakes
from tests.support.fakes import TOKEN, CloudflareState, FakeApi, write_kubeconfig
from tests.support.preflight_support import ACCOUNT, TUNNEL_ID, ZONE_ID, meta, render

RECORD_ID = "372e67954025e0ba6aaa6d586b9e0b59"
TXT_ID = "a4b1c2d3e4f5061728394a5b6c7d8e9f"
KUSTOMIZATION = {
    "kustomize.toolkit.fluxcd.io/name": "cluster-apps",
    "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
}
#: Flux's external-dns token, as a HelmRelease's values may carry it: never shown.
DNS_TOKEN = "Zq8vR2mN9pL4kT8wZ3yB6cD1fG5hJ0sA-uE_iO2r"
CHART_VERSIONS = {"cilium": "1.19.1", "coredns": "1.46.2", "cert-manager": "v1.21.1", "gateway-helm": "v1.9.0"}


def helm_labels(release: str, namespace: str) -> tuple[dict[str, str], dict[str, str]]:
    """(labels, annotations) Helm and helm-controller put on a chart's object."""
    labels = {
        "app.kubernetes.io/managed-by": "Helm",
        "helm.toolkit.fluxcd.io/name": release,
        "helm.toolkit.fluxcd.io/namespace": namespace,
    }
    return labels, {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace}


def release_secret(
    release: str, namespace: str, chart: str, version: str, values: dict[str, Any], revision: int, status: str
) -> dict[str, Any]:
    """A revision as Helm stores it (helm/helm pkg/storage/driver/secrets.go, util.go ``encodeRelease``;
    the release's fields as homelab/plan/helm_storage.py writes them, for a deployed revision)."""
    loaded = LoadedChart({"apiVersion": "v2", "name": chart, "version": version}, None, [], {}, None, [])
    manifest = f"---\n# Source: {chart}/templates/serviceaccount.yaml\napiVersion: v1\nkind: ServiceAccount\n"
    info = go_struct(
        [
            ("first_deployed", go_string(go_time("2026-03-01T10:00:00.123456789Z"))),
            ("last_deployed", go_string(go_time(f"2026-03-0{revision}T10:00:00Z"))),
            ("deleted", '""'),
            ("description", go_string("Install complete" if revision == 1 else "Upgrade complete")),
            ("status", go_string(status)),
        ]
    )
    text = go_struct(
        [
            ("name", omit_empty_str(release)),
            ("info", info),
            ("chart", chart_json(loaded, values)),
            ("config", go_value(values) if values else None),
            ("manifest", omit_empty_str(manifest)),
            ("version", str(revision)),
            ("namespace", omit_empty_str(namespace)),
        ]
    )
    stored = encode(text.encode())  # Helm's base64 of the gzip of the JSON
    labels = {"name": release, "owner": "helm", "status": status, "version": str(revision), "modifiedAt": "1772359200"}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {**meta(f"{HELM_STORAGE_TYPE}.{release}.v{revision}", namespace), "labels": labels},
        "type": "helm.sh/release.v1",
        "data": {"release": base64.b64encode(stored.encode()).decode()},  # the API's base64 of []byte
    }


def helm_release(name: str, namespace: str, chart: str) -> dict[str, Any]:
    """helm-controller's HelmRelease (helm.toolkit.fluxcd.io/v2) for it, as cluster-template writes one."""
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {**meta(name, namespace), "labels": KUSTOMIZATION},
        "spec": {"interval": "1h", "chartRef": {"kind": "OCIRepository", "name": chart}, "values": {}},
    }


def install(kube: dict[str, Any], secrets: list[dict[str, Any]], releases: list[dict[str, Any]]) -> None:
    """Release Secrets where the API serves them (each one, its namespace's list, the cluster's list)."""
    for s in secrets:
        kube[f"/api/v1/namespaces/{s['metadata']['namespace']}/secrets/{s['metadata']['name']}"] = s
    for namespace in {s["metadata"]["namespace"] for s in secrets}:
        items = [s for s in secrets if s["metadata"]["namespace"] == namespace]
        kube[f"/api/v1/namespaces/{namespace}/secrets"] = {"kind": "SecretList", "items": items}
    kube["/api/v1/secrets"] = {"kind": "SecretList", "items": secrets}
    kube["/apis/helm.toolkit.fluxcd.io/v2/helmreleases"] = {"kind": "HelmReleaseList", "items": releases}


def applied(obj: dict[str, Any], labels: dict[str, str], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """The program's object as kustomize-controller (or helm-controller) left it on the cluster."""
    out = copy.deepcopy(obj)
    name, namespace = out["metadata"]["name"], out["metadata"].get("namespace")
    manager = "helm-controller" if annotations else "kustomize-controller"
    notes = {**(out["metadata"].get("annotations") or {}), **(annotations or {})}
    out["metadata"] = {
        **meta(name, namespace),
        "labels": {**(out["metadata"].get("labels") or {}), **labels},
        **({"annotations": notes} if notes else {}),
        "managedFields": [{"manager": manager, "operation": "Apply" if not annotations else "Update"}],
    }
    if out["kind"] == "Secret":
        out.pop("stringData", None)
        out["data"] = {"api-token": base64.b64encode(DNS_TOKEN.encode()).decode()}
    return out


def flux_homelab(plan: Plan, want: Wanted) -> dict[str, Any]:
    """Main's cluster as the seed's Flux runs it: every release and object there, adoptable."""
    kube: dict[str, Any] = {
        "/version": {"major": "1", "minor": "35", "gitVersion": "v1.35.0"},
        "/api/v1/namespaces/kube-system/configmaps/cilium-config": {
            "kind": "ConfigMap",
            "metadata": meta("cilium-config", "kube-system"),
            "data": {"cluster-name": "main", "cluster-id": "1"},
        },
    }
    values = {r.name: copy.deepcopy(dict(r.values)) for r in want.releases}
    zone_filter = f"--zone-id-filter={ZONE_ID}"
    values["external-dns-cloudflare"]["extraArgs"][2] = zone_filter
    values["external-dns-cloudflare"]["podAnnotations"] = {}
    values["external-dns-cloudflare"]["env"] = [{"name": "CF_API_TOKEN", "value": DNS_TOKEN}]
    values["cilium"]["hubble"] = {"enabled": True}
    del values["cilium"]["bgpControlPlane"]
    charts = {"cilium": "cilium", "coredns": "coredns", "cert-manager": "cert-manager", "envoy-gateway": "gateway-helm"}
    secrets = []
    for r in want.releases:
        if not r.stored:
            continue
        chart = charts.get(r.name, "external-dns")
        version = CHART_VERSIONS.get(chart, "1.21.1")
        secrets.append(release_secret(r.name, r.namespace, chart, version, values[r.name], 1, "superseded"))
        secrets.append(release_secret(r.name, r.namespace, chart, version, values[r.name], 2, "deployed"))
    install(kube, secrets, [helm_release(r.name, r.namespace, r.name) for r in want.releases if r.stored])
    registered = {r.name: r for r in plan.resources}
    for target in want.objects:
        obj = registered[target.resource].k8s_object
        kube[target.path] = applied(obj, KUSTOMIZATION)
    issuer = next(t for t in want.objects if t.name == "letsencrypt-prod")
    kube[issuer.path]["spec"]["acme"]["email"] = "me@old.example.com"
    cloudflared = next(t for t in want.objects if t.kind == "Deployment")
    labels, annotations = helm_labels("cloudflared", "network")
    deployment = applied(registered[cloudflared.resource].k8s_object, labels, annotations)
    deployment["spec"]["replicas"] = 1
    del deployment["spec"]["template"]["metadata"]["annotations"]
    kube[cloudflared.path] = deployment
    for obj in render(want.charts[0]):  # the CRDs Flux's envoy-gateway release installed from its crds/
        if obj["kind"] == "CustomResourceDefinition":
            kube[f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{obj['metadata']['name']}"] = obj
    return kube


def tunnel(config_src: str = "cloudflare", **fields: Any) -> dict[str, Any]:
    """A tunnel as ``GET /accounts/{id}/cfd_tunnel`` lists it."""
    return {
        "id": TUNNEL_ID,
        "account_tag": ACCOUNT,
        "created_at": "2025-06-01T10:00:00.123456Z",
        "deleted_at": None,
        "name": "homelab-main",
        "connections": [],
        "conns_active_at": "2026-03-01T10:00:00Z",
        "conns_inactive_at": None,
        "tun_type": "cfd_tunnel",
        "metadata": {},
        "status": "healthy",
        "remote_config": config_src == "cloudflare",
        "config_src": config_src,
        **fields,
    }


def record(type_: str, name: str, content: str, id_: str = RECORD_ID, proxied: bool = True) -> dict[str, Any]:
    """A record as ``GET /zones/{id}/dns_records`` lists it."""
    return {
        "id": id_,
        "zone_id": ZONE_ID,
        "zone_name": "example.com",
        "name": name,
        "type": type_,
        "content": content,
        "proxiable": True,
        "proxied": proxied,
        "ttl": 1,
        "settings": {},
        "meta": {},
        "comment": None,
        "tags": [],
        "created_on": "2025-06-01T10:00:01.5Z",
        "modified_on": "2025-06-01T10:00:01.5Z",
    }


def flux_account() -> CloudflareState:
    zone = {"id": ZONE_ID, "name": "example.com", "status": "active", "account": {"id": ACCOUNT, "name": "Homelab"}}
    owner = '"heritage=external-dns,external-dns/owner=default,external-dns/resource=crd/network/cloudflared"'
    records = [
        record("CNAME", "external.example.com", f"{TUNNEL_ID}.cfargotunnel.com"),
        record("TXT", "k8s.cname-external.example.com", owner, TXT_ID, proxied=False),
    ]
    # the tunnel Flux's cloudflared runs is named otherwise than the program's: a tunnel of the program's
    # name cannot be adopted (judge_tunnel), so a Flux user names the program's a new one first (README)
    return CloudflareState(zones=[zone], tunnels=[tunnel(name="homelab")], records={ZONE_ID: records})


Run = Callable[..., tuple[int, str, str]]


class Adopt:
    """The fakes loaded with Flux's homelab, and ``homelab adopt`` run against them in a project copy."""

    def __init__(self, api: FakeApi, kubeconfig: Path, plan: Plan, project: Project) -> None:
        self.api, self.kubeconfig, self.plan, self.project = api, kubeconfig, plan, project
        self.want = wanted(plan)
        api.kube = flux_homelab(plan, self.want)
        api.cloudflare = flux_account()
        api.requests.clear()

    @property
    def imports(self) -> Path:
        return import_file(self.project.file("main"))

    def target(self, kind: str, name: str) -> KubeTarget:
        return next(t for t in self.want.objects if (t.kind, t.name) == (kind, name))

    def drop(self, prefix: str) -> None:
        """Nothing of the cluster under this API path."""
        for path in [p for p in self.api.kube if p.startswith(prefix)]:
            del self.api.kube[path]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeApi, Path]]:
    with fakes.serving(FakeApi()) as api:
        yield api, write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", {"main": api.url})


@pytest.fixture
def adopt(
    server: tuple[FakeApi, Path],
    plans: dict[str, Plan],
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[tuple[Adopt, Run]]:
    """The lab, and ``run(*args)``: ``homelab adopt --root <project> ...`` -> (code, stdout, stderr)."""
    fakes.direct_clients(monkeypatch)
    lab = Adopt(*server, plans["main"], project)
    monkeypatch.setattr(command, "plan_of", lambda stack, root: plans[stack])
    monkeypatch.setattr(command, "chart_renderer", lambda plan: render)
    monkeypatch.setenv("KUBECONFIG", str(lab.kubeconfig))
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("HOMELAB_CLOUDFLARE_API", f"{lab.api.url}/client/v4")
    monkeypatch.delenv("PULUMI_K8S_UPSERT_EXISTING_OBJECTS", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = command.main(["--root", str(project.root), *args])
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err
        assert TOKEN not in out.out + out.err and DNS_TOKEN not in out.out + out.err
        assert {method for method, _ in lab.api.requests} <= {"GET"}
        return code, out.out, out.err

    yield lab, run
