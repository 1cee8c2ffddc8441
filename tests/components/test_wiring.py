"""How the program's resources hang together, per stack: what waits for what (the ordering a
first `pulumi up` on an empty cluster needs, DESIGN.md), which component owns each resource,
and what each component reports. Every expectation is written out."""

from __future__ import annotations

from typing import Any

import pytest

from homelab.plan import mockrun
from homelab.plan.mockrun import Plan
from tests.conftest import STACKS

CHART = ["envoy-gateway-crds", "envoy-gateway-release"]  # the Gateway API / Envoy Gateway CRDs
GATEWAYS = ["envoy-gateway-external", "envoy-gateway-internal", "envoy-gateway-namespace"]

#: resource -> the resources it waits for, on every stack
WAITS_FOR: dict[str, list[str]] = {
    "cilium-pool": ["cilium-release"],
    "cilium-l2-policy": ["cilium-release"],
    "coredns-release": ["cilium-release"],
    "envoy-gateway-crds": ["envoy-gateway-namespace"],
    "envoy-gateway-release": ["cilium-release", "envoy-gateway-crds", "envoy-gateway-namespace"],
    "envoy-gateway-proxy": CHART,
    "envoy-gateway-class": CHART,
    "envoy-gateway-external": CHART,
    "envoy-gateway-internal": CHART,
    "envoy-gateway-https-redirect": CHART,
    "envoy-gateway-client-policy": CHART,
    "envoy-gateway-backend-policy": CHART,
    "cert-manager-release": ["cert-manager-namespace", "cilium-release"],
    "cert-manager-cloudflare-token": ["cert-manager-namespace"],
    "cert-manager-letsencrypt-prod": ["cert-manager-cloudflare-token", "cert-manager-release"],
    "cert-manager-letsencrypt-staging": ["cert-manager-cloudflare-token", "cert-manager-release"],
    "cert-manager-wildcard-certificate": [
        "cert-manager-letsencrypt-prod",
        "cert-manager-letsencrypt-staging",
        "cert-manager-release",
        "envoy-gateway-namespace",
    ],
    "external-dns-cloudflare-token": CHART,
    "external-dns-release": [*CHART, "external-dns-cloudflare-token"],
    "cloudflare-tunnel-tunnel": ["cloudflare-tunnel-secret"],
    "cloudflare-tunnel-config": ["cloudflare-tunnel-tunnel"],
    "cloudflare-tunnel-dns": ["cloudflare-tunnel-tunnel"],
    "cloudflare-tunnel-token": ["cloudflare-tunnel-tunnel", *GATEWAYS],
    "cloudflare-tunnel-pdb": GATEWAYS,
    "cloudflare-tunnel-cloudflared": [
        "cloudflare-tunnel-config",
        "cloudflare-tunnel-dns",
        "cloudflare-tunnel-token",
        "cloudflare-tunnel-tunnel",
        *GATEWAYS,
    ],
}
STACK_WAITS_FOR: dict[str, dict[str, list[str]]] = {
    "main": {
        **WAITS_FOR,
        # the staging gate holds back both providers, so every resource on main
        "main": ["promotion-gate-staging"],
        "cloudflare-main": ["promotion-gate-staging"],
        "cloudflare-tunnel-secret": ["cloudflare-main"],
        "observability.grafana-route": [*CHART, "observability.namespace"],
        "home-automation.home-assistant-route": [*CHART, "home-automation.namespace"],
    },
    "staging": {**WAITS_FOR, "cloudflare-tunnel-secret": ["cloudflare-staging"]},
}


@pytest.mark.parametrize("stack", STACKS)
def test_what_waits_for_what(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    waits = {r.name: sorted(plan.by_urn(d).name for d in r.dependencies) for r in plan.resources if r.dependencies}
    assert waits == STACK_WAITS_FOR[stack]


#: component -> what it reports (``register_outputs``); unknown until applied: "release"
COMPONENT_OUTPUTS: dict[str, dict[str, dict[str, Any]]] = {
    "main": {
        "promotion-gate": {"enabled": True, "stagingStack": "organization/homelab/staging"},
        "cilium": {"pool": "main-pool", "release": "<unknown>"},
        "coredns": {"serviceIp": "10.200.0.10", "release": "<unknown>"},
        "envoy-gateway": {
            "externalAddress": "10.11.1.22",
            "externalDnsTarget": "external.example.com",
            "internalAddress": "10.11.1.21",
            "internalDnsTarget": "internal.example.com",
        },
        "cert-manager": {"issuer": "letsencrypt-prod", "certificateDnsNames": ["example.com", "*.example.com"]},
        "external-dns": {"ownerId": "homelab", "domain": "example.com", "excludeDomains": []},
        "cloudflare-tunnel": {"hostname": "external.example.com", "tunnelId": "<tunnel>", "cname": "<tunnel>"},
        "observability.grafana": {"exposure": "internal", "hostnames": ["grafana.example.com"]},
        "home-automation.home-assistant": {"exposure": "internal", "hostnames": ["home.example.com"]},
    },
    "staging": {
        "promotion-gate": {"enabled": False},
        "cilium": {"pool": "staging-pool", "release": "<unknown>"},
        "coredns": {"serviceIp": "10.200.0.10", "release": "<unknown>"},
        "envoy-gateway": {
            "externalAddress": "10.12.1.22",
            "externalDnsTarget": "external.example.net",
            "internalAddress": "10.12.1.21",
            "internalDnsTarget": "internal.example.net",
        },
        "cert-manager": {"issuer": "letsencrypt-prod", "certificateDnsNames": ["example.net", "*.example.net"]},
        "external-dns": {"ownerId": "homelab-staging", "domain": "example.net", "excludeDomains": []},
        "cloudflare-tunnel": {"hostname": "external.example.net", "tunnelId": "<tunnel>", "cname": "<tunnel>"},
    },
}


def _shown(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("mock-tunnel-"):
        return "<tunnel>"  # the mock's id for the tunnel (its value is checked in test_cloudflare_tunnel)
    if type(value).__name__ == "Unknown":
        return "<unknown>"
    return value


@pytest.mark.parametrize("stack", STACKS)
def test_what_each_component_reports(plans: dict[str, Plan], stack: str) -> None:
    components = [r for r in plans[stack].resources if not r.custom and not r.remote]
    reported = {r.name: {k: _shown(v) for k, v in mockrun.reveal(r.outputs).items()} for r in components}
    assert reported == COMPONENT_OUTPUTS[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_each_resource_belongs_to_the_component_it_is_named_after(plans: dict[str, Plan], stack: str) -> None:
    """`<component>-<what>`: the providers alone are the stack's own; an app's Namespace is named
    after the namespace (`<namespace>.namespace`), whichever app's component creates it."""
    plan = plans[stack]
    components = {r.urn: r.name for r in plan.resources if not r.custom and not r.remote}
    on_stack = []
    for res in plan.resources:
        if not res.custom and not res.remote:
            assert plan.is_top(res), res.name
        elif res.type == "kubernetes:core/v1:Namespace" and res.parent in components and "." in res.name:
            assert res.name == f"{res.k8s_object['metadata']['name']}.namespace", res.name
        elif res.parent in components:
            assert res.name.startswith(components[res.parent] + "-"), (res.name, components[res.parent])
        else:
            on_stack.append(res.name)
    assert sorted(on_stack) == sorted([stack, f"cloudflare-{stack}"])
