"""Every input of every resource, for both stacks: the custom resources and the program's own
Kubernetes objects, each compared with its snapshot
(tests/components/__snapshots__/test_pinned_objects/; tests/support/pinned.py).
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from homelab.plan.mockrun import Plan
from tests.conftest import STACKS
from tests.support.pinned import SECRET, pinned

#: (kind, metadata.name) of every object both stacks register; ``{stack}`` is the stack's name
OBJECTS = [
    ("CiliumLoadBalancerIPPool", "{stack}-pool"),
    ("CiliumL2AnnouncementPolicy", "l2-policy"),
    ("Gateway", "envoy-external"),
    ("Gateway", "envoy-internal"),
    ("GatewayClass", "envoy"),
    ("EnvoyProxy", "envoy"),
    ("ClientTrafficPolicy", "envoy"),
    ("BackendTrafficPolicy", "envoy"),
    ("HTTPRoute", "https-redirect"),
    ("ClusterIssuer", "letsencrypt-prod"),
    ("ClusterIssuer", "letsencrypt-staging"),
    ("Certificate", "wildcard-tls"),
    ("Namespace", "network"),
    ("Namespace", "cert-manager"),
    ("Secret", "cloudflare-api-token"),
    ("Secret", "external-dns-cloudflare"),
    ("Secret", "cloudflared-tunnel"),
    ("Deployment", "cloudflared"),
    ("PodDisruptionBudget", "cloudflared"),
]
#: the seed's example routes: main's only
MAIN_ONLY = [("HTTPRoute", "grafana"), ("HTTPRoute", "home-assistant")]


def ids(objects: list[tuple[str, str]]) -> list[object]:
    return [pytest.param(k, n, id=f"{k}-{n.replace('{stack}', 'stack')}") for k, n in objects]


@pytest.mark.parametrize(("kind", "name"), ids(OBJECTS))
@pytest.mark.parametrize("stack", STACKS)
def test_object(plans: dict[str, Plan], snapshot: SnapshotAssertion, stack: str, kind: str, name: str) -> None:
    found = plans[stack].k8s_object(kind, name.format(stack=stack))
    assert found == pinned(snapshot, found)


@pytest.mark.parametrize(("kind", "name"), ids(MAIN_ONLY))
def test_app_route_of_main(plans: dict[str, Plan], snapshot: SnapshotAssertion, kind: str, name: str) -> None:
    """The seed's examples: both internal, on envoy-internal's https listener."""
    found = plans["main"].k8s_object(kind, name)
    assert found == pinned(snapshot, found)


def test_staging_has_no_app_routes(plans: dict[str, Plan]) -> None:
    assert [r.name for r in plans["staging"].of_type("homelab:app_route:AppRoute")] == []


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_are_marked(plans: dict[str, Plan], stack: str) -> None:
    """The Secrets' data reaches the plan (and so the snapshots) only as the secret marker."""
    for name in ("cloudflare-api-token", "external-dns-cloudflare", "cloudflared-tunnel"):
        assert plans[stack].k8s_object("Secret", name)["stringData"] == SECRET
