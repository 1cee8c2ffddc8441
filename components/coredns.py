"""CoreDNS: cluster DNS at the fixed service IP the kubelets hand to every pod."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi_kubernetes.helm.v3 import Release

from components.base import Component, helm_release
from homelab.config.catalog import APP_LABEL, COREDNS, COREDNS_DEPLOYMENT, KUBE_DNS
from homelab.config.cluster import Cluster
from homelab.config.models import Release as ReleaseSettings

#: Two small pods, but the first ones scheduled right after the CNI: their image pull and the
#: nodes turning Ready count against it.
RELEASE_TIMEOUT = 600
CLUSTER_DOMAIN = "cluster.local"
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
SERVICE_ACCOUNT = "coredns"


def server_plugins() -> list[dict[str, str]]:
    """The seed's server block. ``autopath @kubernetes`` needs ``pods verified``."""
    return [
        {"name": "errors"},
        {"name": "health", "configBlock": "lameduck 5s"},
        {"name": "ready"},
        {
            "name": "kubernetes",
            "parameters": f"{CLUSTER_DOMAIN} in-addr.arpa ip6.arpa",
            "configBlock": "pods verified\nfallthrough in-addr.arpa ip6.arpa",
        },
        {"name": "autopath", "parameters": "@kubernetes"},
        {"name": "forward", "parameters": ". /etc/resolv.conf"},
        {"name": "cache", "configBlock": "prefetch 20\nserve_stale"},
        {"name": "loop"},
        {"name": "reload"},
        {"name": "loadbalance"},
        {"name": "prometheus", "parameters": "0.0.0.0:9153"},
    ]


def helm_values(cluster: Cluster) -> dict[str, Any]:
    return {
        "fullnameOverride": COREDNS_DEPLOYMENT.name,
        "replicaCount": 2,
        # kubelets point pods at this IP; it must not move
        "service": {"clusterIP": str(cluster.dns.coredns_ip), "name": KUBE_DNS},
        "k8sAppLabelOverride": KUBE_DNS,
        "servers": [
            {
                "zones": [{"zone": ".", "scheme": "dns://", "use_tcp": True}],
                "port": 53,
                "plugins": server_plugins(),
            }
        ],
        # on the control-plane nodes, as in the seed
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": CONTROL_PLANE, "operator": "Exists"}]}]
                }
            }
        },
        "tolerations": [{"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"}],
        # one replica per node where the nodes allow it (a single control-plane node still runs both)
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"k8s-app": KUBE_DNS, APP_LABEL: COREDNS.name}},
            }
        ],
        "podDisruptionBudget": {"maxUnavailable": 1},
        # its own identity, not the namespace's `default` ServiceAccount (the chart's default)
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
        # cluster DNS is evicted last under node pressure
        "priorityClassName": "system-cluster-critical",
    }


class CoreDns(Component):
    TYPE = "homelab:coredns:CoreDns"
    release: Release

    def __init__(
        self,
        name: str,
        cluster: Cluster,
        release: ReleaseSettings,
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``after``: what must exist first (the CNI: no pod starts without it)."""
        super().__init__(name, opts)
        self.release = helm_release(
            f"{name}-release",
            COREDNS,
            release.charts,
            timeout=RELEASE_TIMEOUT,
            values=helm_values(cluster),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )
        self.register_outputs({"release": self.release.status, "serviceIp": str(cluster.dns.coredns_ip)})
