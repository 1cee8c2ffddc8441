"""CoreDNS: the seed's server block, the fixed service IP, control-plane placement, ordering."""

from __future__ import annotations

from typing import Any

import pytest

from homelab.plan.mockrun import Plan
from tests.conftest import STACKS

RELEASE = "kubernetes:helm.sh/v3:Release"


def values(plan: Plan) -> dict[str, Any]:
    return plan.get(RELEASE, "coredns-release").plain_inputs["values"]


def plugins(plan: Plan) -> dict[str, dict[str, str]]:
    (server,) = values(plan)["servers"]
    return {p["name"]: p for p in server["plugins"]}


@pytest.mark.parametrize("stack", STACKS)
def test_service_ip(plans: dict[str, Plan], stack: str) -> None:
    assert values(plans[stack])["service"]["clusterIP"] == "10.200.0.10"


@pytest.mark.parametrize("stack", STACKS)
def test_server_block(plans: dict[str, Plan], stack: str) -> None:
    (server,) = values(plans[stack])["servers"]
    assert server["zones"] == [{"zone": ".", "scheme": "dns://", "use_tcp": True}]
    assert server["port"] == 53
    p = plugins(plans[stack])
    assert p["kubernetes"]["parameters"] == "cluster.local in-addr.arpa ip6.arpa"
    assert p["forward"]["parameters"] == ". /etc/resolv.conf"
    assert p["cache"]["configBlock"].splitlines() == ["prefetch 20", "serve_stale"]
    assert p["autopath"]["parameters"] == "@kubernetes"
    # autopath answers from pod data: the kubernetes plugin must verify pods
    assert "pods verified" in p["kubernetes"]["configBlock"].splitlines()
    assert "prometheus" in p
    assert {"errors", "health", "ready", "loop", "reload", "loadbalance"} <= set(p)


@pytest.mark.parametrize("stack", STACKS)
def test_on_control_plane_nodes(plans: dict[str, Plan], stack: str) -> None:
    v = values(plans[stack])
    terms = v["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]}]
    assert {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"} in v[
        "tolerations"
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_waits_for_cilium(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    assert plan.get(RELEASE, "cilium-release").urn in plan.get(RELEASE, "coredns-release").dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_chart(plans: dict[str, Plan], stack: str) -> None:
    inputs = plans[stack].get(RELEASE, "coredns-release").plain_inputs
    assert (inputs["chart"], inputs["version"], inputs["namespace"]) == ("coredns", "1.46.2", "kube-system")


@pytest.mark.parametrize("stack", STACKS)
def test_hardened_past_the_chart_defaults(plans: dict[str, Plan], stack: str) -> None:
    """The chart runs CoreDNS as the namespace's `default` ServiceAccount, unspread, unprioritised."""
    v = values(plans[stack])
    assert v["serviceAccount"] == {"create": True, "name": "coredns"}
    assert v["priorityClassName"] == "system-cluster-critical"
    assert v["replicaCount"] == 2
    assert v["topologySpreadConstraints"] == [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"k8s-app": "kube-dns", "app.kubernetes.io/name": "coredns"}},
        }
    ]
    assert v["podDisruptionBudget"] == {"maxUnavailable": 1}
