"""Cilium: the CNI, kube-proxy replacement, LB-IPAM pool and L2 announcements of one cluster."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.helm.v3 import Release
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.base import Component, helm_release
from homelab.config.catalog import CILIUM, L2_POLICY, lb_pool
from homelab.config.cluster import Cluster
from homelab.config.models import Release as ReleaseSettings

#: The first install: the agent DaemonSet on every node (cilium and cilium-envoy images, a few
#: hundred MB each node pulls at once) and the operator; nodes stay NotReady until the agent runs.
RELEASE_TIMEOUT = 900
POOL_API = "cilium.io/v2"  # v2alpha1 is no longer served by Cilium 1.20
L2_POLICY_API = "cilium.io/v2alpha1"  # still the only version of this kind in 1.20


def helm_values(cluster: Cluster, release: ReleaseSettings) -> dict[str, Any]:
    """The seed's Cilium feature table, plus what those features need to work.

    Left out on purpose (DESIGN.md): ``bpf.hostLegacyRouting`` (netkit needs eBPF host routing)
    and ``socketLB.hostNamespaceOnly`` (breaks hairpin traffic together with DSR).
    """
    net = cluster.network
    tuning = release.cilium
    return {
        # kube-proxy replacement talks to the API server directly, not through the kube-proxy VIP
        "kubeProxyReplacement": True,
        "k8sServiceHost": net.api_server.host,
        "k8sServicePort": net.api_server.port,
        # L2 announcements keep one lease per Service: the default client rate limit is too low
        "k8sClientRateLimit": {
            "qps": tuning.k8s_client_rate_limit.qps,
            "burst": tuning.k8s_client_rate_limit.burst,
        },
        "routingMode": "native",
        "autoDirectNodeRoutes": True,
        "ipv4NativeRoutingCIDR": str(net.pod_cidr),
        "ipam": {"mode": "kubernetes"},
        "loadBalancer": {"mode": "dsr", "algorithm": "maglev"},
        "bandwidthManager": {"enabled": True, "bbr": True},
        "bpf": {"masquerade": True, "datapathMode": "netkit"},
        "socketLB": {"enabled": True},
        "l2announcements": {
            "enabled": True,
            "leaseDuration": tuning.l2_lease.duration,
            "leaseRenewDeadline": tuning.l2_lease.renew_deadline,
            "leaseRetryPeriod": tuning.l2_lease.retry_period,
        },
        "bgpControlPlane": {"enabled": False},
        # the chart's default is `default`/0 in every cluster; each gets its own (Cluster Mesh needs it)
        "cluster": {"name": cluster.name, "id": cluster.cluster_id},
        # restart agents and operator when their ConfigMap changes, so `pulumi up` takes effect
        "rollOutCiliumPods": True,
        "operator": {"rollOutPods": True},
    }


def pool_spec(cluster: Cluster) -> dict[str, Any]:
    return {
        "allowFirstLastIPs": "Yes",
        "blocks": [block.spec() for block in cluster.load_balancer.blocks],
    }


def l2_policy_spec(cluster: Cluster) -> dict[str, Any]:
    spec: dict[str, Any] = {"loadBalancerIPs": True}
    if cluster.load_balancer.l2_interfaces:
        spec["interfaces"] = list(cluster.load_balancer.l2_interfaces)
    return spec


class Cilium(Component):
    """CNI first: every other component waits for :attr:`release`."""

    TYPE = "homelab:cilium:Cilium"

    release: Release

    def __init__(
        self,
        name: str,
        cluster: Cluster,
        release: ReleaseSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.release = helm_release(
            f"{name}-release",
            CILIUM,
            release.charts,
            timeout=RELEASE_TIMEOUT,
            values=helm_values(cluster, release),
            opts=child,
        )
        after_chart = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        self.pool_name = lb_pool(cluster.name)
        self.pool = CustomResource(
            f"{name}-pool",
            api_version=POOL_API,
            kind="CiliumLoadBalancerIPPool",
            metadata=ObjectMetaArgs(name=self.pool_name),
            spec=pool_spec(cluster),
            opts=after_chart,
        )
        self.l2_policy = CustomResource(
            f"{name}-l2-policy",
            api_version=L2_POLICY_API,
            kind="CiliumL2AnnouncementPolicy",
            metadata=ObjectMetaArgs(name=L2_POLICY),
            spec=l2_policy_spec(cluster),
            opts=after_chart,
        )
        self.register_outputs({"release": self.release.status, "pool": self.pool_name})
