"""The catalog (homelab/config/catalog.py) against what it declares: the program installs every
chart it lists, and only those, exactly as listed; each version comes from one ``Charts`` field;
each chart has values schemas in ../shared/schemas; doctor's workloads are what the program or
its charts run. Expected values of the releases themselves are pinned as literals by the
snapshots (tests/components/test_pinned_releases.py); these tests hold the declaration to them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.config import catalog
from homelab.config.catalog import CHARTS
from homelab.config.models import Charts
from homelab.plan.mockrun import Plan
from tests.conftest import STACKS, stack_config

HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")


def test_data_each_chart_version_is_one_field_of_charts() -> None:
    assert sorted({c.version_key for c in CHARTS}) == sorted(Charts.model_fields)


def test_the_catalog_names_the_seed_s_releases() -> None:
    """The literal names other tools (Helm's storage, Flux's adoption, doctor) find releases by."""
    assert [(c.chart, c.repo, c.release, c.namespace) for c in CHARTS] == [
        ("cilium", "https://helm.cilium.io/", "cilium", "kube-system"),
        ("coredns", "https://coredns.github.io/helm", "coredns", "kube-system"),
        ("oci://docker.io/envoyproxy/gateway-crds-helm", "", "envoy-gateway-crds", "network"),
        ("oci://docker.io/envoyproxy/gateway-helm", "", "envoy-gateway", "network"),
        ("cert-manager", "https://charts.jetstack.io", "cert-manager", "cert-manager"),
        ("external-dns", "https://kubernetes-sigs.github.io/external-dns/", "external-dns-cloudflare", "network"),
    ]


def test_charts_are_named_once() -> None:
    assert len({c.name for c in CHARTS}) == len({(c.namespace, c.release) for c in CHARTS}) == len(CHARTS)


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_installs_exactly_the_catalog_s_charts(plans: dict[str, Plan], stack: str) -> None:
    charts = Charts.model_validate(stack_config(stack)["homelab:release"]["charts"])
    registered = {
        (
            str(inputs["chart"]),
            str((inputs.get("repositoryOpts") or {}).get("repo") or ""),
            str(inputs["name"]),
            str(inputs["namespace"]),
            str(inputs["version"]),
        )
        for r in plans[stack].resources
        if r.type in HELM_TYPES
        for inputs in [r.plain_inputs]
    }
    assert registered == {(c.chart, c.repo, c.release, c.namespace, c.version(charts)) for c in CHARTS}


def test_data_each_chart_has_its_values_schema(schemas: Path) -> None:
    folder = schemas / "helm-values"
    missing = [
        c.name
        for c in CHARTS
        if not (folder / f"{c.name}.schema.json").is_file() and not (folder / f"{c.name}.values.yaml").is_file()
    ]
    assert missing == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_runs_what_doctor_looks_for(plans: dict[str, Plan], stack: str) -> None:
    """The Workloads the program registers itself (the others come from the charts: doctor's
    recorded healthy cluster, tests/doctor/, holds those)."""
    plan = plans[stack]
    deployments = {
        ((r.k8s_object.get("metadata") or {}).get("namespace"), (r.k8s_object.get("metadata") or {}).get("name"))
        for r in plan.resources
        if r.type == "kubernetes:apps/v1:Deployment"
    }
    assert (catalog.CLOUDFLARED.namespace, catalog.CLOUDFLARED.name) in deployments
    pools = [r for r in plan.resources if r.type == "kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool"]
    assert [p.k8s_object["metadata"]["name"] for p in pools] == [catalog.lb_pool(stack)]


def test_what_doctor_looks_for_is_named_as_the_charts_name_it() -> None:
    """Literals from the charts and the seed's troubleshooting commands (doctor's own tests run
    against a recorded cluster; these also hold under ``make mutate``, which skips them)."""
    workloads = (
        catalog.CILIUM_AGENT,
        catalog.CILIUM_OPERATOR,
        catalog.COREDNS_SERVICE,
        catalog.COREDNS_DEPLOYMENT,
        catalog.ENVOY_GATEWAY_CONTROLLER,
        catalog.CERT_MANAGER_CONTROLLER,
        catalog.EXTERNAL_DNS_DEPLOYMENT,
        catalog.CLOUDFLARED,
    )
    assert [w.label for w in workloads] == [
        "DaemonSet kube-system/cilium",
        "Deployment kube-system/cilium-operator",
        "Service kube-system/kube-dns",
        "Deployment kube-system/coredns",
        "Deployment network/envoy-gateway",
        "Deployment cert-manager/cert-manager",
        "Deployment network/external-dns-cloudflare",
        "Deployment network/cloudflared",
    ]
    assert [w.logs for w in (catalog.CILIUM_AGENT, catalog.COREDNS_SERVICE, catalog.EXTERNAL_DNS_DEPLOYMENT)] == [
        "-n kube-system logs -l k8s-app=cilium",
        "-n kube-system logs -l k8s-app=kube-dns",
        "-n network logs -l app.kubernetes.io/name=external-dns-cloudflare",
    ]
    assert catalog.CLOUDFLARED.logs == "-n network logs -l app.kubernetes.io/name=cloudflared"
    assert (catalog.CILIUM_CONFIG, catalog.L2_LEASE_PREFIX, catalog.L2_POLICY) == (
        "cilium-config",
        "cilium-l2announce-",
        "l2-policy",
    )
    assert (catalog.CERT_MANAGER_TOKEN_SECRET, catalog.EXTERNAL_DNS_TOKEN_SECRET, catalog.CLOUDFLARED_TOKEN_SECRET) == (
        "cloudflare-api-token",
        "external-dns-cloudflare",
        "cloudflared-tunnel",
    )
