"""Every input of every resource, written out, for both stacks: Cloudflare and the providers, and
nothing else registered (the literal tables are tests/support/pinned.py).
"""

from __future__ import annotations

import pytest

from homelab.plan.mockrun import Plan
from tests.conftest import STACKS
from tests.support.pinned import (
    ACCOUNT,
    DOMAIN,
    TUNNEL_ID,
    ZONE_ID,
    inputs,
)

# --- Cloudflare and the providers ------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_cloudflare_resources(plans: dict[str, Plan], stack: str) -> None:
    plan, domain = plans[stack], DOMAIN[stack]
    assert inputs(
        plan, "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared", "cloudflare-tunnel-tunnel"
    ) == {
        "accountId": ACCOUNT,
        "name": f"homelab-{stack}",
        "configSrc": "cloudflare",
        "tunnelSecret": "[secret]",
    }
    assert inputs(
        plan,
        "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
        "cloudflare-tunnel-config",
    ) == {
        "accountId": ACCOUNT,
        "tunnelId": TUNNEL_ID[stack],
        "config": {
            "ingresses": [
                {
                    "hostname": f"*.{domain}",
                    "service": "https://envoy-external.network.svc.cluster.local:443",
                    "originRequest": {"http2Origin": True, "originServerName": f"external.{domain}"},
                },
                {"service": "http_status:404"},
            ]
        },
    }
    assert inputs(plan, "cloudflare:index/dnsRecord:DnsRecord", "cloudflare-tunnel-dns") == {
        "zoneId": ZONE_ID[stack],
        "name": f"external.{domain}",
        "type": "CNAME",
        "content": f"{TUNNEL_ID[stack]}.cfargotunnel.com",
        "proxied": True,
        "ttl": 1,
        "comment": f"Cloudflare Tunnel homelab-{stack} (managed by Pulumi, homelab)",
    }
    assert inputs(plan, "random:index/randomBytes:RandomBytes", "cloudflare-tunnel-secret") == {"length": 32}


@pytest.mark.parametrize("stack", STACKS)
def test_providers(plans: dict[str, Plan], stack: str) -> None:
    assert inputs(plans[stack], "pulumi:providers:kubernetes", stack) == {"context": stack}
    assert inputs(plans[stack], "pulumi:providers:cloudflare", f"cloudflare-{stack}") == {"apiToken": "[secret]"}


def test_only_main_reads_staging(plans: dict[str, Plan]) -> None:
    assert inputs(plans["main"], "pulumi:pulumi:StackReference", "promotion-gate-staging") == {
        "name": "organization/homelab/staging"
    }
    assert plans["staging"].of_type("pulumi:pulumi:StackReference") == []


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_else_is_registered(plans: dict[str, Plan], stack: str) -> None:
    """The resources above and the components around them: nothing more, nothing less."""
    custom = sorted(r.name for r in plans[stack].resources if r.custom)
    expected = [
        "cert-manager-cloudflare-token",
        "cert-manager-letsencrypt-prod",
        "cert-manager-letsencrypt-staging",
        "cert-manager-namespace",
        "cert-manager-release",
        "cert-manager-wildcard-certificate",
        "cilium-l2-policy",
        "cilium-pool",
        "cilium-release",
        f"cloudflare-{stack}",
        "cloudflare-tunnel-cloudflared",
        "cloudflare-tunnel-config",
        "cloudflare-tunnel-dns",
        "cloudflare-tunnel-pdb",
        "cloudflare-tunnel-secret",
        "cloudflare-tunnel-token",
        "cloudflare-tunnel-tunnel",
        "coredns-release",
        "envoy-gateway-backend-policy",
        "envoy-gateway-class",
        "envoy-gateway-client-policy",
        "envoy-gateway-external",
        "envoy-gateway-https-redirect",
        "envoy-gateway-internal",
        "envoy-gateway-namespace",
        "envoy-gateway-proxy",
        "envoy-gateway-release",
        "external-dns-cloudflare-token",
        "external-dns-release",
        stack,
    ]
    if stack == "main":
        expected += [
            "home-automation.namespace",
            "home-automation.home-assistant-route",
            "observability.namespace",
            "observability.grafana-route",
            "promotion-gate-staging",
        ]
    assert custom == sorted(expected)
    # built by the provider (each CRD becomes a resource of its own there, beyond these mocks)
    assert [r.name for r in plans[stack].resources if r.remote] == ["envoy-gateway-crds"]
