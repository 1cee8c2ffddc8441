"""Every input of every resource, written out, for both stacks: the Helm releases.

One test per resource compares the whole object the program registers with the object the seed,
DESIGN.md and the upstream docs call for, so any changed, dropped or added value fails a test.
Per-stack values come from the literal tables below (the seed's IP map and this project's
placeholders), never from the stack files or the code under test. Provider answers are the
mocks' (`mock-...`), and the token hashes are 16 hex digits of SHA-256 of the mock or
placeholder token, worked out by hand with `hashlib`.
"""

from __future__ import annotations

import pytest

from homelab.plan.mockrun import Plan
from tests.conftest import STACKS
from tests.support.pinned import (
    CLUSTER_ID,
    CONTROL_PLANE,
    DNS_TOKEN_HASH,
    DOMAIN,
    NET,
    OWNER,
    POD_CIDR,
    RELEASE,
    ZONE_ID,
    inputs,
    release,
)


@pytest.mark.parametrize("stack", STACKS)
def test_cilium_release(plans: dict[str, Plan], stack: str) -> None:
    assert inputs(plans[stack], RELEASE, "cilium-release") == release(
        "cilium",
        "cilium",
        "1.20.0",
        "kube-system",
        {
            "kubeProxyReplacement": True,
            "k8sServiceHost": f"{NET[stack]}.0.10",
            "k8sServicePort": 6443,
            "k8sClientRateLimit": {"qps": 50, "burst": 100},
            "routingMode": "native",
            "autoDirectNodeRoutes": True,
            "ipv4NativeRoutingCIDR": POD_CIDR[stack],
            "ipam": {"mode": "kubernetes"},
            "loadBalancer": {"mode": "dsr", "algorithm": "maglev"},
            "bandwidthManager": {"enabled": True, "bbr": True},
            "bpf": {"masquerade": True, "datapathMode": "netkit"},
            "socketLB": {"enabled": True},
            "l2announcements": {
                "enabled": True,
                "leaseDuration": "15s",
                "leaseRenewDeadline": "5s",
                "leaseRetryPeriod": "2s",
            },
            "bgpControlPlane": {"enabled": False},
            "cluster": {"name": stack, "id": CLUSTER_ID[stack]},
            "rollOutCiliumPods": True,
            "operator": {"rollOutPods": True},
        },
        repositoryOpts={"repo": "https://helm.cilium.io/"},
        timeout=900,
    )


@pytest.mark.parametrize("stack", STACKS)
def test_coredns_release(plans: dict[str, Plan], stack: str) -> None:
    assert inputs(plans[stack], RELEASE, "coredns-release") == release(
        "coredns",
        "coredns",
        "1.46.2",
        "kube-system",
        {
            "fullnameOverride": "coredns",
            "replicaCount": 2,
            "service": {"clusterIP": "10.200.0.10", "name": "kube-dns"},
            "k8sAppLabelOverride": "kube-dns",
            "servers": [
                {
                    "zones": [{"zone": ".", "scheme": "dns://", "use_tcp": True}],
                    "port": 53,
                    "plugins": [
                        {"name": "errors"},
                        {"name": "health", "configBlock": "lameduck 5s"},
                        {"name": "ready"},
                        {
                            "name": "kubernetes",
                            "parameters": "cluster.local in-addr.arpa ip6.arpa",
                            "configBlock": "pods verified\nfallthrough in-addr.arpa ip6.arpa",
                        },
                        {"name": "autopath", "parameters": "@kubernetes"},
                        {"name": "forward", "parameters": ". /etc/resolv.conf"},
                        {"name": "cache", "configBlock": "prefetch 20\nserve_stale"},
                        {"name": "loop"},
                        {"name": "reload"},
                        {"name": "loadbalance"},
                        {"name": "prometheus", "parameters": "0.0.0.0:9153"},
                    ],
                }
            ],
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [{"key": CONTROL_PLANE, "operator": "Exists"}]}]
                    }
                }
            },
            "tolerations": [{"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"}],
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": {"k8s-app": "kube-dns", "app.kubernetes.io/name": "coredns"}},
                }
            ],
            "podDisruptionBudget": {"maxUnavailable": 1},
            "serviceAccount": {"create": True, "name": "coredns"},
            "priorityClassName": "system-cluster-critical",
        },
        repositoryOpts={"repo": "https://coredns.github.io/helm"},
        timeout=600,
    )


@pytest.mark.parametrize("stack", STACKS)
def test_cert_manager_release(plans: dict[str, Plan], stack: str) -> None:
    assert inputs(plans[stack], RELEASE, "cert-manager-release") == release(
        "cert-manager",
        "cert-manager",
        "v1.21.1",
        "cert-manager",
        {
            "crds": {"enabled": True, "keep": True},
            "dns01RecursiveNameservers": "https://1.1.1.1:443/dns-query,https://1.0.0.1:443/dns-query",
            "dns01RecursiveNameserversOnly": True,
        },
        repositoryOpts={"repo": "https://charts.jetstack.io"},
        timeout=900,
    )


@pytest.mark.parametrize("stack", STACKS)
def test_envoy_gateway_releases(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    assert inputs(plan, "kubernetes:helm.sh/v4:Chart", "envoy-gateway-crds") == {
        "name": "envoy-gateway-crds",
        "chart": "oci://docker.io/envoyproxy/gateway-crds-helm",
        "version": "v1.9.0",
        "namespace": "network",
        "resourcePrefix": "envoy-gateway-crds",
        "values": {
            "crds": {"gatewayAPI": {"enabled": True, "channel": "experimental"}, "envoyGateway": {"enabled": True}}
        },
    }
    assert inputs(plan, RELEASE, "envoy-gateway-release") == release(
        "envoy-gateway",
        "oci://docker.io/envoyproxy/gateway-helm",
        "v1.9.0",
        "network",
        {
            "crds": {"enabled": False},
            "deployment": {"replicas": 2},
            "podDisruptionBudget": {"minAvailable": 1},
            "config": {
                "envoyGateway": {
                    "provider": {"type": "Kubernetes", "kubernetes": {"deploy": {"type": "GatewayNamespace"}}}
                }
            },
        },
        skipCrds=True,
        timeout=600,
    )


@pytest.mark.parametrize("stack", STACKS)
def test_external_dns_release(plans: dict[str, Plan], stack: str) -> None:
    assert inputs(plans[stack], RELEASE, "external-dns-release") == release(
        "external-dns-cloudflare",
        "external-dns",
        "1.21.1",
        "network",
        {
            "nameOverride": "external-dns-cloudflare",
            "fullnameOverride": "external-dns-cloudflare",
            "provider": {"name": "cloudflare"},
            "podAnnotations": {"checksum/cloudflare-token": DNS_TOKEN_HASH},
            "env": [
                {
                    "name": "CF_API_TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": "external-dns-cloudflare", "key": "api-token"}},
                }
            ],
            "sources": ["gateway-httproute"],
            "policy": "sync",
            "txtOwnerId": OWNER[stack],
            "txtPrefix": "k8s.",
            "domainFilters": [DOMAIN[stack]],
            "excludeDomains": [],
            "annotationPrefix": "external-dns.alpha.kubernetes.io/",
            "triggerLoopOnEvent": True,
            "extraArgs": [
                "--gateway-name=envoy-external",
                "--cloudflare-proxied",
                f"--zone-id-filter={ZONE_ID[stack]}",
            ],
        },
        repositoryOpts={"repo": "https://kubernetes-sigs.github.io/external-dns/"},
        timeout=600,
    )
