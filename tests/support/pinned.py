"""The literal tables and helpers of the pinned-input tests (tests/components/test_pinned_*.py): the
seed's IP map and this project's placeholders, never the stack files or the code under test.
"""

from __future__ import annotations

from typing import Any

from homelab.plan.mockrun import Plan

NET = {"main": "10.11", "staging": "10.12"}
POD_CIDR = {"main": "10.201.0.0/16", "staging": "10.202.0.0/16"}
DOMAIN = {"main": "example.com", "staging": "example.net"}
OWNER = {"main": "homelab", "staging": "homelab-staging"}
CLUSTER_ID = {"main": 1, "staging": 2}
ACCOUNT = "0123456789abcdef0123456789abcdef"
TUNNEL_ID = {
    "main": "mock-tunnel-d5ed6f71-66c6-3590-c870-10a571d2d7f1",
    "staging": "mock-tunnel-9d4b5016-6420-c5d4-26f0-1618f33fcc39",
}
ZONE_ID = {"main": "mock-8c7a86a1b4bb7dda193a77d13e2", "staging": "mock-56a17e27dddfa4ce71a5c761d3b"}
TUNNEL_TOKEN_HASH = {"main": "2f0817622037f8eb", "staging": "bbd9cfad017ad2ac"}
#: sha256("PLACEHOLDER-SECRET-cloudflareDnsApiToken")[:16]: the placeholder a fresh clone plans with
DNS_TOKEN_HASH = "928aad456cf30326"
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


def inputs(plan: Plan, type_: str, name: str) -> dict[str, Any]:
    found = dict(plan.get(type_, name).plain_inputs)
    found.pop("__meta", None)
    return found


def release(name: str, chart: str, version: str, namespace: str, values: dict[str, Any], **extra: Any) -> dict:
    return {
        "name": name,
        "chart": chart,
        "version": version,
        "namespace": namespace,
        "values": values,
        "maxHistory": 5,
        "skipCrds": False,
        "compat": "true",
        **extra,
    }


RELEASE = "kubernetes:helm.sh/v3:Release"
