"""Every input of every resource, for both stacks: Cloudflare and the providers, each compared with
its snapshot (tests/components/__snapshots__/test_pinned_cloudflare/; tests/support/pinned.py),
and nothing else registered.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from homelab.plan.mockrun import Plan
from tests.conftest import STACKS
from tests.support.pinned import SECRET, inputs, pinned

TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared"
CLOUDFLARE_PROVIDER = "pulumi:providers:cloudflare"
#: (type, name) of every resource both stacks register here; ``{stack}`` is the stack's name
RESOURCES = [
    (TUNNEL, "cloudflare-tunnel-tunnel"),
    (
        "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
        "cloudflare-tunnel-config",
    ),
    ("cloudflare:index/dnsRecord:DnsRecord", "cloudflare-tunnel-dns"),
    ("random:index/randomBytes:RandomBytes", "cloudflare-tunnel-secret"),
    ("pulumi:providers:kubernetes", "{stack}"),
    (CLOUDFLARE_PROVIDER, "cloudflare-{stack}"),
]


@pytest.mark.parametrize(
    ("type_", "name"),
    [pytest.param(t, n, id=f"{t.rsplit(':', 1)[1]}-{n.replace('{stack}', 'stack')}") for t, n in RESOURCES],
)
@pytest.mark.parametrize("stack", STACKS)
def test_resource(plans: dict[str, Plan], snapshot: SnapshotAssertion, stack: str, type_: str, name: str) -> None:
    found = inputs(plans[stack], type_, name.format(stack=stack))
    assert found == pinned(snapshot, found)


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_are_marked(plans: dict[str, Plan], stack: str) -> None:
    assert inputs(plans[stack], TUNNEL, "cloudflare-tunnel-tunnel")["tunnelSecret"] == SECRET
    assert inputs(plans[stack], CLOUDFLARE_PROVIDER, f"cloudflare-{stack}")["apiToken"] == SECRET


def test_only_main_reads_staging(plans: dict[str, Plan], snapshot: SnapshotAssertion) -> None:
    found = inputs(plans["main"], "pulumi:pulumi:StackReference", "promotion-gate-staging")
    assert found == pinned(snapshot, found)
    assert plans["staging"].of_type("pulumi:pulumi:StackReference") == []


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_else_is_registered(plans: dict[str, Plan], snapshot: SnapshotAssertion, stack: str) -> None:
    """The resources pinned here and the components around them: nothing more, nothing less. Remote:
    built by the provider (each CRD becomes a resource of its own there, beyond these mocks)."""
    found = {
        "custom": sorted(r.name for r in plans[stack].resources if r.custom),
        "remote": [r.name for r in plans[stack].resources if r.remote],
    }
    assert found == pinned(snapshot, found)
