"""Every input of every resource, written out, for both stacks: the custom resources and the
program's own Kubernetes objects (the literal tables are tests/support/pinned.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from homelab.plan.mockrun import Plan
from tests.conftest import STACKS
from tests.support.pinned import (
    DOMAIN,
    NET,
    POD_CIDR,
    TUNNEL_TOKEN_HASH,
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
