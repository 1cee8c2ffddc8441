"""Every input of every resource, written out, for both stacks.

One test per resource compares the whole object the program registers with the object the seed,
DESIGN.md and the upstream docs call for, so any changed, dropped or added value fails a test.
Per-stack values come from the literal tables below (the seed's IP map and this project's
placeholders), never from the stack files or the code under test. Provider answers are the
mocks' (`mock-...`), and the token hashes are 16 hex digits of SHA-256 of the mock or
placeholder token, worked out by hand with `hashlib`.
"""

from __future__ import annotations

from typing import Any

import pytest

from homelab.plan.mockrun import Plan
from tests.conftest import STACKS

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


# --- custom resources and the program's own Kubernetes objects ------------------------------


def k8s(plan: Plan, kind: str, name: str) -> dict[str, Any]:
    return plan.k8s_object(kind, name)


@pytest.mark.parametrize("stack", STACKS)
def test_lb_pool_and_l2_policy(plans: dict[str, Plan], stack: str) -> None:
    net = NET[stack]
    assert k8s(plans[stack], "CiliumLoadBalancerIPPool", f"{stack}-pool") == {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumLoadBalancerIPPool",
        "metadata": {"name": f"{stack}-pool"},
        "spec": {
            "allowFirstLastIPs": "Yes",
            "blocks": [{"cidr": f"{net}.0.15/32"}, {"start": f"{net}.1.2", "stop": f"{net}.1.127"}],
        },
    }
    assert k8s(plans[stack], "CiliumL2AnnouncementPolicy", "l2-policy") == {
        "apiVersion": "cilium.io/v2alpha1",
        "kind": "CiliumL2AnnouncementPolicy",
        "metadata": {"name": "l2-policy"},
        "spec": {"loadBalancerIPs": True},
    }


def gateway(name: str, ip: str, target: str) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {
            "name": name,
            "namespace": "network",
            "annotations": {"external-dns.alpha.kubernetes.io/target": target},
        },
        "spec": {
            "gatewayClassName": "envoy",
            "infrastructure": {"annotations": {"lbipam.cilium.io/ips": ip}},
            "listeners": [
                # plain HTTP only for the redirect route, which lives beside the gateway
                {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "Same"}}},
                {
                    "name": "https",
                    "protocol": "HTTPS",
                    "port": 443,
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "wildcard-tls"}]},
                },
            ],
        },
    }


@pytest.mark.parametrize("stack", STACKS)
def test_gateways(plans: dict[str, Plan], stack: str) -> None:
    plan, net, domain = plans[stack], NET[stack], DOMAIN[stack]
    assert k8s(plan, "Gateway", "envoy-external") == gateway("envoy-external", f"{net}.1.22", f"external.{domain}")
    assert k8s(plan, "Gateway", "envoy-internal") == gateway("envoy-internal", f"{net}.1.21", f"internal.{domain}")


@pytest.mark.parametrize("stack", STACKS)
def test_gateway_class_and_envoy_proxy(plans: dict[str, Plan], stack: str) -> None:
    assert k8s(plans[stack], "GatewayClass", "envoy") == {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": "envoy"},
        "spec": {
            "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
            "parametersRef": {
                "group": "gateway.envoyproxy.io",
                "kind": "EnvoyProxy",
                "name": "envoy",
                "namespace": "network",
            },
        },
    }
    assert k8s(plans[stack], "EnvoyProxy", "envoy") == {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "EnvoyProxy",
        "metadata": {"name": "envoy", "namespace": "network"},
        "spec": {
            "provider": {
                "type": "Kubernetes",
                "kubernetes": {
                    "envoyDeployment": {
                        "replicas": 2,
                        "container": {
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}}
                        },
                    },
                    "envoyService": {"externalTrafficPolicy": "Cluster"},
                },
            },
            "shutdown": {"drainTimeout": "180s"},
        },
    }


@pytest.mark.parametrize("stack", STACKS)
def test_traffic_policies_and_redirect(plans: dict[str, Plan], stack: str) -> None:
    targets = [{"group": "gateway.networking.k8s.io", "kind": "Gateway"}]
    assert k8s(plans[stack], "ClientTrafficPolicy", "envoy") == {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "ClientTrafficPolicy",
        "metadata": {"name": "envoy", "namespace": "network"},
        "spec": {
            "clientIPDetection": {"xForwardedFor": {"trustedCIDRs": [POD_CIDR[stack]]}},
            "http2": {"initialStreamWindowSize": "2Mi", "initialConnectionWindowSize": "32Mi"},
            "http3": {},
            "targetSelectors": targets,
            "tls": {"minVersion": "1.2", "alpnProtocols": ["h2", "http/1.1"]},
        },
    }
    assert k8s(plans[stack], "BackendTrafficPolicy", "envoy") == {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "BackendTrafficPolicy",
        "metadata": {"name": "envoy", "namespace": "network"},
        "spec": {
            "compressor": [{"type": "Zstd"}, {"type": "Brotli"}, {"type": "Gzip"}],
            "connection": {"bufferLimit": "64Mi"},
            "timeout": {"http": {"requestTimeout": "0s"}},
            "tcpKeepalive": {},
            "targetSelectors": targets,
        },
    }
    assert k8s(plans[stack], "HTTPRoute", "https-redirect") == {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "https-redirect", "namespace": "network"},
        "spec": {
            "parentRefs": [
                {"name": "envoy-external", "namespace": "network", "sectionName": "http"},
                {"name": "envoy-internal", "namespace": "network", "sectionName": "http"},
            ],
            "rules": [
                {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
            ],
        },
    }


def test_app_routes_of_main(plans: dict[str, Plan]) -> None:
    """The seed's examples: both internal, on envoy-internal's https listener."""

    def route(name: str, namespace: str, host: str, service: str, port: int) -> dict[str, Any]:
        return {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "hostnames": [host],
                "parentRefs": [{"name": "envoy-internal", "namespace": "network", "sectionName": "https"}],
                "rules": [{"backendRefs": [{"name": service, "port": port}]}],
            },
        }

    plan = plans["main"]
    assert k8s(plan, "HTTPRoute", "grafana") == route(
        "grafana", "observability", "grafana.example.com", "grafana-service", 3000
    )
    assert k8s(plan, "HTTPRoute", "home-assistant") == route(
        "home-assistant", "home-automation", "home.example.com", "home-assistant", 8123
    )
    assert [r.name for r in plans["staging"].of_type("homelab:app_route:AppRoute")] == []


@pytest.mark.parametrize("stack", STACKS)
def test_issuers_and_certificate(plans: dict[str, Plan], stack: str) -> None:
    for issuer, server in (
        ("letsencrypt-prod", "https://acme-v02.api.letsencrypt.org/directory"),
        ("letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory"),
    ):
        assert k8s(plans[stack], "ClusterIssuer", issuer) == {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": issuer},
            "spec": {
                "acme": {
                    "server": server,
                    "email": "admin@example.com",
                    "privateKeySecretRef": {"name": f"{issuer}-account-key"},
                    "solvers": [
                        {
                            "selector": {"dnsZones": [DOMAIN[stack]]},
                            "dns01": {
                                "cloudflare": {
                                    "apiTokenSecretRef": {"name": "cloudflare-api-token", "key": "api-token"}
                                }
                            },
                        }
                    ],
                }
            },
        }
    assert k8s(plans[stack], "Certificate", "wildcard-tls") == {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "wildcard-tls", "namespace": "network"},
        "spec": {
            "secretName": "wildcard-tls",
            "dnsNames": [DOMAIN[stack], f"*.{DOMAIN[stack]}"],
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "letsencrypt-prod"},
        },
    }


@pytest.mark.parametrize("stack", STACKS)
def test_namespaces_and_secrets(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    assert k8s(plan, "Namespace", "network") == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "network"},
    }
    assert k8s(plan, "Namespace", "cert-manager") == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "cert-manager"},
    }
    for name, namespace in (
        ("cloudflare-api-token", "cert-manager"),
        ("external-dns-cloudflare", "network"),
        ("cloudflared-tunnel", "network"),
    ):
        assert k8s(plan, "Secret", name) == {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "type": "Opaque",
            "stringData": "[secret]",
        }


@pytest.mark.parametrize("stack", STACKS)
def test_cloudflared(plans: dict[str, Plan], stack: str) -> None:
    labels = {"app.kubernetes.io/name": "cloudflared"}
    assert k8s(plans[stack], "Deployment", "cloudflared") == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "cloudflared", "namespace": "network", "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": {"checksum/tunnel-token": TUNNEL_TOKEN_HASH[stack]}},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65534,
                        "runAsGroup": 65534,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": {"matchLabels": labels},
                        }
                    ],
                    "containers": [
                        {
                            "name": "cloudflared",
                            "image": "docker.io/cloudflare/cloudflared:2026.8.2",
                            "args": ["tunnel", "run"],
                            "env": [
                                {
                                    "name": "TUNNEL_TOKEN",
                                    "valueFrom": {"secretKeyRef": {"name": "cloudflared-tunnel", "key": "token"}},
                                },
                                {"name": "TUNNEL_TRANSPORT_PROTOCOL", "value": "quic"},
                                {"name": "TUNNEL_POST_QUANTUM", "value": "true"},
                                {"name": "NO_AUTOUPDATE", "value": "true"},
                                {"name": "TUNNEL_METRICS", "value": "0.0.0.0:8080"},
                            ],
                            "ports": [{"name": "metrics", "containerPort": 8080}],
                            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 10},
                            "livenessProbe": {
                                "httpGet": {"path": "/healthcheck", "port": 8080},
                                "periodSeconds": 10,
                                "failureThreshold": 3,
                            },
                            "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                },
            },
        },
    }
    assert k8s(plans[stack], "PodDisruptionBudget", "cloudflared") == {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "cloudflared", "namespace": "network", "labels": labels},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}},
    }


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
