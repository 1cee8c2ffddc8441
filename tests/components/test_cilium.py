"""Cilium: the seed's feature table, the LB-IPAM pool and the L2 announcement policy per stack."""

from __future__ import annotations

from typing import Any

import pytest

from homelab.plan.mockrun import Plan
from tests.conftest import STACKS, RunProgram, stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
POOL = "kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool"
L2 = "kubernetes:cilium.io/v2alpha1:CiliumL2AnnouncementPolicy"

POD_CIDR = {"main": "10.201.0.0/16", "staging": "10.202.0.0/16"}
API = {"main": "10.11.0.10", "staging": "10.12.0.10"}
BLOCKS = {
    "main": [{"cidr": "10.11.0.15/32"}, {"start": "10.11.1.2", "stop": "10.11.1.127"}],
    "staging": [{"cidr": "10.12.0.15/32"}, {"start": "10.12.1.2", "stop": "10.12.1.127"}],
}


def values(plan: Plan) -> dict[str, Any]:
    return plan.get(RELEASE, "cilium-release").plain_inputs["values"]


@pytest.mark.parametrize("stack", STACKS)
def test_feature_table(plans: dict[str, Plan], stack: str) -> None:
    v = values(plans[stack])
    assert v["kubeProxyReplacement"] is True
    assert v["loadBalancer"]["mode"] == "dsr"
    assert v["loadBalancer"]["algorithm"] == "maglev"
    assert v["bandwidthManager"] == {"enabled": True, "bbr": True}
    assert v["bpf"]["masquerade"] is True
    assert v["bpf"]["datapathMode"] == "netkit"
    assert v["routingMode"] == "native"
    assert v["autoDirectNodeRoutes"] is True
    assert v["ipv4NativeRoutingCIDR"] == POD_CIDR[stack]
    assert v["ipam"] == {"mode": "kubernetes"}
    assert v["socketLB"]["enabled"] is True
    assert v["l2announcements"]["enabled"] is True
    assert v["bgpControlPlane"] == {"enabled": False}


@pytest.mark.parametrize("stack", STACKS)
def test_what_the_features_need(plans: dict[str, Plan], stack: str) -> None:
    v = values(plans[stack])
    assert (v["k8sServiceHost"], v["k8sServicePort"]) == (API[stack], 6443)
    assert v["k8sClientRateLimit"] == {"qps": 50, "burst": 100}
    assert {k: v["l2announcements"][k] for k in ("leaseDuration", "leaseRenewDeadline", "leaseRetryPeriod")} == {
        "leaseDuration": "15s",
        "leaseRenewDeadline": "5s",
        "leaseRetryPeriod": "2s",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_no_combination_design_warns_against(plans: dict[str, Plan], stack: str) -> None:
    v = values(plans[stack])
    assert "hostLegacyRouting" not in v["bpf"]  # netkit needs eBPF host routing
    assert "hostNamespaceOnly" not in v["socketLB"]  # breaks hairpin with DSR


@pytest.mark.parametrize("stack", STACKS)
def test_chart(plans: dict[str, Plan], stack: str) -> None:
    inputs = plans[stack].get(RELEASE, "cilium-release").plain_inputs
    assert inputs["chart"] == "cilium"
    assert inputs["version"] == "1.20.0"
    assert inputs["namespace"] == "kube-system"
    assert inputs["name"] == "cilium"


@pytest.mark.parametrize("stack", STACKS)
def test_pool(plans: dict[str, Plan], stack: str) -> None:
    pool = plans[stack].k8s_object("CiliumLoadBalancerIPPool", f"{stack}-pool")
    assert pool["apiVersion"] == "cilium.io/v2"
    assert pool["spec"] == {"allowFirstLastIPs": "Yes", "blocks": BLOCKS[stack]}


@pytest.mark.parametrize("stack", STACKS)
def test_l2_policy(plans: dict[str, Plan], stack: str) -> None:
    policy = plans[stack].k8s_object("CiliumL2AnnouncementPolicy", "l2-policy")
    assert policy["apiVersion"] == "cilium.io/v2alpha1"
    assert policy["spec"]["loadBalancerIPs"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_wait_for_the_release(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    release = plan.get(RELEASE, "cilium-release")
    for type_ in (POOL, L2):
        assert release.urn in plan.get(type_).dependencies


@pytest.mark.parametrize(("stack", "cluster_id"), [("main", 1), ("staging", 2)])
def test_each_cluster_has_its_own_cilium_identity(plans: dict[str, Plan], stack: str, cluster_id: int) -> None:
    """The chart's default is `default`/0 in every cluster (DESIGN.md, real render)."""
    assert values(plans[stack])["cluster"] == {"name": stack, "id": cluster_id}


def test_l2_interfaces_in_go_syntax_reach_the_policy(run_program: RunProgram) -> None:
    """RE2's `\\z` (end of text, which Python spells `\\Z`) is Cilium's syntax and is accepted."""
    cfg = stack_config("main")
    cfg["homelab:cluster"]["loadBalancer"]["l2Interfaces"] = [r"^eth0\z", "^enp[0-9]+s0$"]
    policy = run_program("main", cfg).k8s_object("CiliumL2AnnouncementPolicy", "l2-policy")
    assert policy["spec"] == {"loadBalancerIPs": True, "interfaces": [r"^eth0\z", "^enp[0-9]+s0$"]}


@pytest.mark.parametrize("stack", STACKS)
def test_l2_policy_answers_on_every_interface_by_default(plans: dict[str, Plan], stack: str) -> None:
    assert plans[stack].k8s_object("CiliumL2AnnouncementPolicy", "l2-policy")["spec"] == {"loadBalancerIPs": True}
