"""Envoy Gateway: chart, GatewayClass, EnvoyProxy, both Gateways, redirect, traffic policies."""

from __future__ import annotations

from typing import Any

import pytest

from homelab.config import names
from homelab.plan.mockrun import Plan
from tests.conftest import STACKS

RELEASE = "kubernetes:helm.sh/v3:Release"
DOMAIN = {"main": "example.com", "staging": "example.net"}
NET = {"main": "10.11", "staging": "10.12"}
POD_CIDR = {"main": "10.201.0.0/16", "staging": "10.202.0.0/16"}


def gateway(plan: Plan, name: str) -> dict[str, Any]:
    return plan.k8s_object("Gateway", name)


@pytest.mark.parametrize("stack", STACKS)
def test_chart(plans: dict[str, Plan], stack: str) -> None:
    inputs = plans[stack].get(RELEASE, "envoy-gateway-release").plain_inputs
    assert inputs["chart"] == "oci://docker.io/envoyproxy/gateway-helm"
    assert inputs["version"] == "v1.9.0"
    assert inputs["namespace"] == "network"
    deploy = inputs["values"]["config"]["envoyGateway"]["provider"]["kubernetes"]["deploy"]
    assert deploy == {"type": "GatewayNamespace"}


@pytest.mark.parametrize("stack", STACKS)
def test_chart_waits_for_cilium_and_namespace(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    deps = plan.get(RELEASE, "envoy-gateway-release").dependencies
    assert plan.get(RELEASE, "cilium-release").urn in deps
    assert plan.get("kubernetes:core/v1:Namespace", "envoy-gateway-namespace").urn in deps
    assert plan.k8s_object("Namespace", "network")


@pytest.mark.parametrize("stack", STACKS)
def test_gateway_class_and_envoy_proxy(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    gc = plan.k8s_object("GatewayClass", "envoy")
    assert gc["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    assert gc["spec"]["parametersRef"] == {
        "group": "gateway.envoyproxy.io",
        "kind": "EnvoyProxy",
        "name": "envoy",
        "namespace": "network",
    }
    proxy = plan.k8s_object("EnvoyProxy", "envoy")
    assert proxy["metadata"]["namespace"] == "network"
    k8s = proxy["spec"]["provider"]["kubernetes"]
    assert proxy["spec"]["provider"]["type"] == "Kubernetes"
    assert k8s["envoyDeployment"]["replicas"] == 2
    assert k8s["envoyDeployment"]["container"]["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "1Gi"},
    }
    assert k8s["envoyService"]["externalTrafficPolicy"] == "Cluster"
    assert proxy["spec"]["shutdown"]["drainTimeout"] == "180s"


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize(
    ("name", "last_octet", "target"), [("envoy-external", 22, "external"), ("envoy-internal", 21, "internal")]
)
def test_gateways(plans: dict[str, Plan], stack: str, name: str, last_octet: int, target: str) -> None:
    gw = gateway(plans[stack], name)
    assert gw["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert gw["metadata"]["namespace"] == "network"
    assert gw["metadata"]["annotations"] == {"external-dns.alpha.kubernetes.io/target": f"{target}.{DOMAIN[stack]}"}
    spec = gw["spec"]
    assert spec["gatewayClassName"] == "envoy"
    assert spec["infrastructure"]["annotations"] == {"lbipam.cilium.io/ips": f"{NET[stack]}.1.{last_octet}"}
    listeners = {listener["name"]: listener for listener in spec["listeners"]}
    assert listeners["https"] == {
        "name": "https",
        "protocol": "HTTPS",
        "port": 443,
        "allowedRoutes": {"namespaces": {"from": "All"}},
        "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "wildcard-tls"}]},
    }
    assert (listeners["http"]["protocol"], listeners["http"]["port"]) == ("HTTP", 80)


@pytest.mark.parametrize("stack", STACKS)
def test_target_annotation_prefix_is_the_one_external_dns_uses(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    values = plan.get(RELEASE, "external-dns-release").plain_inputs["values"]
    prefix = values["annotationPrefix"]
    for name in ("envoy-external", "envoy-internal"):
        (key,) = gateway(plan, name)["metadata"]["annotations"]
        assert key == prefix + "target"
    assert prefix == names.EXTERNAL_DNS_ANNOTATION_PREFIX == "external-dns.alpha.kubernetes.io/"


@pytest.mark.parametrize("stack", STACKS)
def test_http_redirect(plans: dict[str, Plan], stack: str) -> None:
    route = plans[stack].k8s_object("HTTPRoute", "https-redirect")
    spec = route["spec"]
    assert route["metadata"]["namespace"] == "network"
    assert spec["parentRefs"] == [
        {"name": "envoy-external", "namespace": "network", "sectionName": "http"},
        {"name": "envoy-internal", "namespace": "network", "sectionName": "http"},
    ]
    assert spec["rules"] == [
        {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
    ]
    # no hostnames: external-dns has no name to publish, so the redirect gets no DNS record
    assert "hostnames" not in spec
    assert "annotations" not in route["metadata"]


@pytest.mark.parametrize("stack", STACKS)
def test_client_traffic_policy(plans: dict[str, Plan], stack: str) -> None:
    policy = plans[stack].k8s_object("ClientTrafficPolicy", "envoy")
    spec = policy["spec"]
    assert policy["metadata"]["namespace"] == "network"
    assert spec["clientIPDetection"] == {"xForwardedFor": {"trustedCIDRs": [POD_CIDR[stack]]}}
    assert spec["http2"] == {"initialStreamWindowSize": "2Mi", "initialConnectionWindowSize": "32Mi"}
    assert spec["http3"] == {}
    assert spec["tls"] == {"minVersion": "1.2", "alpnProtocols": ["h2", "http/1.1"]}
    assert spec["targetSelectors"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway"}]


@pytest.mark.parametrize("stack", STACKS)
def test_backend_traffic_policy(plans: dict[str, Plan], stack: str) -> None:
    policy = plans[stack].k8s_object("BackendTrafficPolicy", "envoy")
    spec = policy["spec"]
    assert [c["type"] for c in spec["compressor"]] == ["Zstd", "Brotli", "Gzip"]
    assert spec["connection"] == {"bufferLimit": "64Mi"}
    assert spec["timeout"] == {"http": {"requestTimeout": "0s"}}
    assert spec["tcpKeepalive"] == {}
    assert spec["targetSelectors"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway"}]


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_waits_for_the_chart(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    chart = plan.get(RELEASE, "envoy-gateway-release")
    component = plan.get("homelab:envoy_gateway:EnvoyGateway")
    crs = [r for r in plan.children(component) if r.type.startswith("kubernetes:gateway.")]
    assert len(crs) == 7
    for res in crs:
        assert chart.urn in res.dependencies, res.name


@pytest.mark.parametrize("stack", STACKS)
def test_exports(plans: dict[str, Plan], stack: str) -> None:
    out = plans[stack].outputs["gateways"]
    assert out == {
        "envoy-external": {"address": f"{NET[stack]}.1.22", "dnsTarget": f"external.{DOMAIN[stack]}"},
        "envoy-internal": {"address": f"{NET[stack]}.1.21", "dnsTarget": f"internal.{DOMAIN[stack]}"},
    }


@pytest.mark.parametrize("stack", STACKS)
def test_crds_are_a_client_side_chart(plans: dict[str, Plan], stack: str) -> None:
    """Helm never upgrades a chart's crds/ folder, so the CRDs come as templates of their own
    chart; and as a helm.v3.Release that chart needs a release Secret over the API server's
    1 MiB limit, so it is a helm.v4.Chart: each CRD its own resource, no release Secret."""
    plan = plans[stack]
    assert sorted(r.name for r in plan.of_type(RELEASE)) == [
        "cert-manager-release",
        "cilium-release",
        "coredns-release",
        "envoy-gateway-release",
        "external-dns-release",
    ]
    crds = plan.get("kubernetes:helm.sh/v4:Chart", "envoy-gateway-crds")
    assert crds.remote is True
    assert (
        crds.provider
        == f"urn:pulumi:{stack}::homelab::pulumi:pulumi:Stack$pulumi:providers:kubernetes::{stack}::mock-{stack}"
    )
    inputs = crds.plain_inputs
    assert inputs["name"] == "envoy-gateway-crds"
    assert inputs["resourcePrefix"] == "envoy-gateway-crds"
    assert inputs["namespace"] == "network"
    assert inputs["chart"] == "oci://docker.io/envoyproxy/gateway-crds-helm"
    assert inputs["version"] == plan.get(RELEASE, "envoy-gateway-release").plain_inputs["version"] == "v1.9.0"
    assert inputs["values"]["crds"] == {
        "gatewayAPI": {"enabled": True, "channel": "experimental"},
        "envoyGateway": {"enabled": True},
    }
    controller = plan.get(RELEASE, "envoy-gateway-release")
    assert controller.plain_inputs["values"]["crds"] == {"enabled": False}
    assert controller.plain_inputs["skipCrds"] is True
    assert crds.urn in controller.dependencies
    component = plan.get("homelab:envoy_gateway:EnvoyGateway")
    for res in plan.children(component):
        if res.type.startswith("kubernetes:gateway."):
            assert crds.urn in res.dependencies, res.name


@pytest.mark.parametrize("stack", STACKS)
def test_controller_survives_a_drain(plans: dict[str, Plan], stack: str) -> None:
    """The chart's default is one controller and no PodDisruptionBudget (`minAvailable: 0`)."""
    v = plans[stack].get(RELEASE, "envoy-gateway-release").plain_inputs["values"]
    assert v["deployment"] == {"replicas": 2}
    assert v["podDisruptionBudget"] == {"minAvailable": 1}
