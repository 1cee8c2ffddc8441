"""Envoy Gateway: the two Gateways every app is reached through, TLS, redirect and policies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.core.v1 import Namespace
from pulumi_kubernetes.helm.v3 import Release
from pulumi_kubernetes.helm.v4 import Chart
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.base import Component, client_side_chart, helm_release
from homelab.config import names
from homelab.config.catalog import ENVOY_GATEWAY, ENVOY_GATEWAY_CRDS
from homelab.config.cluster import Cluster
from homelab.config.models import Release as ReleaseSettings

#: The controller's first install: its certgen Job (a pre-install hook) and then two controller
#: pods, each an image pull of its own; 300 s (the provider's default) leaves little for a slow link.
RELEASE_TIMEOUT = 600
#: gateway-helm's bundled default; dropping experimental-only CRDs later would delete objects.
GATEWAY_API_CHANNEL = "experimental"
CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
GATEWAY_API = "gateway.networking.k8s.io/v1"
ENVOY_API = "gateway.envoyproxy.io/v1alpha1"


@dataclass(frozen=True)
class GatewaySpec:
    """One of the seed's two Gateways."""

    name: str
    address: str
    #: external-dns target: the name records for routes on this gateway point at.
    dns_target: str

    @property
    def service_host(self) -> str:
        return names.service_fqdn(self.name, names.NETWORK_NAMESPACE)


def gateways(cluster: Cluster) -> tuple[GatewaySpec, GatewaySpec]:
    """(external, internal), with the cluster's LB IPs and DNS targets."""
    return (
        GatewaySpec(names.EXTERNAL_GATEWAY, str(cluster.gateways.external), cluster.tunnel_hostname),
        GatewaySpec(names.INTERNAL_GATEWAY, str(cluster.gateways.internal), f"internal.{cluster.domain}"),
    )


#: Envoy Gateway controller replicas.
CONTROLLER_REPLICAS = 2


def helm_values() -> dict[str, Any]:
    # GatewayNamespace: each Gateway's proxy runs in the Gateway's namespace behind a Service
    # named after the Gateway, which is what cloudflared's origin URL points at.
    return {
        "crds": {"enabled": False},  # the CRDs release owns them
        # two controllers (leader election picks one) and never both drained at once: the
        # chart's default is one replica and no PodDisruptionBudget
        "deployment": {"replicas": CONTROLLER_REPLICAS},
        "podDisruptionBudget": {"minAvailable": 1},
        "config": {
            "envoyGateway": {"provider": {"type": "Kubernetes", "kubernetes": {"deploy": {"type": "GatewayNamespace"}}}}
        },
    }


def crds_values() -> dict[str, Any]:
    return {
        "crds": {
            "gatewayAPI": {"enabled": True, "channel": GATEWAY_API_CHANNEL},
            "envoyGateway": {"enabled": True},
        }
    }


def envoy_proxy_spec(release: ReleaseSettings) -> dict[str, Any]:
    envoy = release.envoy
    return {
        "provider": {
            "type": "Kubernetes",
            "kubernetes": {
                "envoyDeployment": {
                    "replicas": envoy.replicas,
                    "container": {
                        "resources": {
                            "requests": {"cpu": envoy.resources.cpu_request, "memory": envoy.resources.memory_request},
                            "limits": {"memory": envoy.resources.memory_limit},
                        }
                    },
                },
                "envoyService": {"externalTrafficPolicy": envoy.external_traffic_policy},
            },
        },
        "shutdown": {"drainTimeout": envoy.drain_timeout},
    }


def gateway_class_spec() -> dict[str, Any]:
    return {
        "controllerName": CONTROLLER_NAME,
        "parametersRef": {
            "group": "gateway.envoyproxy.io",
            "kind": "EnvoyProxy",
            "name": names.ENVOY_PROXY,
            "namespace": names.NETWORK_NAMESPACE,
        },
    }


def gateway_spec(gateway: GatewaySpec) -> dict[str, Any]:
    return {
        "gatewayClassName": names.GATEWAY_CLASS,
        "infrastructure": {"annotations": {names.LB_IPS_ANNOTATION: gateway.address}},
        "listeners": [
            {
                # only the redirect route (same namespace) may use plain HTTP
                "name": names.HTTP_LISTENER,
                "protocol": "HTTP",
                "port": 80,
                "allowedRoutes": {"namespaces": {"from": "Same"}},
            },
            {
                "name": names.HTTPS_LISTENER,
                "protocol": "HTTPS",
                "port": 443,
                "allowedRoutes": {"namespaces": {"from": "All"}},
                "tls": {
                    "mode": "Terminate",
                    "certificateRefs": [{"kind": "Secret", "name": names.WILDCARD_TLS_SECRET}],
                },
            },
        ],
    }


def parent_ref(gateway_name: str, listener: str) -> dict[str, str]:
    return {"name": gateway_name, "namespace": names.NETWORK_NAMESPACE, "sectionName": listener}


def redirect_route_spec() -> dict[str, Any]:
    """HTTP -> HTTPS with 301 on both gateways. No hostnames, so external-dns makes no record."""
    return {
        "parentRefs": [parent_ref(g, names.HTTP_LISTENER) for g in (names.EXTERNAL_GATEWAY, names.INTERNAL_GATEWAY)],
        "rules": [
            {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
        ],
    }


def _gateway_targets() -> list[dict[str, str]]:
    return [{"group": "gateway.networking.k8s.io", "kind": "Gateway"}]


def client_traffic_policy_spec(cluster: Cluster) -> dict[str, Any]:
    return {
        # X-Forwarded-For is believed only from inside this cluster (cloudflared's pods)
        "clientIPDetection": {"xForwardedFor": {"trustedCIDRs": [str(cluster.network.pod_cidr)]}},
        "http2": {"initialStreamWindowSize": "2Mi", "initialConnectionWindowSize": "32Mi"},
        "http3": {},
        "tls": {"minVersion": "1.2", "alpnProtocols": ["h2", "http/1.1"]},
        "targetSelectors": _gateway_targets(),
    }


def backend_traffic_policy_spec() -> dict[str, Any]:
    return {
        # `compressor` replaces the deprecated `compression` in Envoy Gateway 1.9; order = preference
        "compressor": [{"type": "Zstd"}, {"type": "Brotli"}, {"type": "Gzip"}],
        "connection": {"bufferLimit": "64Mi"},
        "timeout": {"http": {"requestTimeout": "0s"}},
        "tcpKeepalive": {},
        "targetSelectors": _gateway_targets(),
    }


class EnvoyGateway(Component):
    """The controller chart and every object the seed's gateway section names."""

    TYPE = "homelab:envoy_gateway:EnvoyGateway"

    namespace: Namespace
    crds: Chart
    release: Release
    external: GatewaySpec
    internal: GatewaySpec

    def __init__(
        self,
        name: str,
        cluster: Cluster,
        release: ReleaseSettings,
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``after``: the CNI (the controller's pods need it)."""
        super().__init__(name, opts)
        self.external, self.internal = gateways(cluster)

        self.namespace = Namespace(
            f"{name}-namespace",
            metadata=ObjectMetaArgs(name=names.NETWORK_NAMESPACE),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # the same CRDs as templates: Helm never upgrades the ``crds/`` folder gateway-helm bundles,
        # so a promoted Envoy Gateway version would otherwise keep the first install's CRDs forever.
        # Applied as ``helm.v4.Chart``: as a Helm release it would need a ~1.6 MB release Secret
        # (DESIGN.md).
        self.crds = client_side_chart(
            f"{name}-crds",
            ENVOY_GATEWAY_CRDS,
            release.charts,
            values=crds_values(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.release = helm_release(
            f"{name}-release",
            ENVOY_GATEWAY,
            release.charts,
            values=helm_values(),
            skip_crds=True,
            timeout=RELEASE_TIMEOUT,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, self.crds, *after]),
        )
        # every custom resource needs the CRDs, and the controller to act on it
        after_chart = pulumi.ResourceOptions(parent=self, depends_on=[self.crds, self.release])

        def resource(
            suffix: str, api: str, kind: str, obj_name: str, spec: dict[str, Any], **meta: Any
        ) -> CustomResource:
            return CustomResource(
                f"{name}-{suffix}",
                api_version=api,
                kind=kind,
                metadata=ObjectMetaArgs(name=obj_name, **meta),
                spec=spec,
                opts=after_chart,
            )

        network = {"namespace": names.NETWORK_NAMESPACE}
        self.envoy_proxy = resource(
            "proxy", ENVOY_API, "EnvoyProxy", names.ENVOY_PROXY, envoy_proxy_spec(release), **network
        )
        self.gateway_class = resource("class", GATEWAY_API, "GatewayClass", names.GATEWAY_CLASS, gateway_class_spec())
        self.gateways = [
            resource(
                gw.name.removeprefix("envoy-"),
                GATEWAY_API,
                "Gateway",
                gw.name,
                gateway_spec(gw),
                annotations={names.EXTERNAL_DNS_TARGET_ANNOTATION: gw.dns_target},
                **network,
            )
            for gw in (self.external, self.internal)
        ]
        self.redirect = resource(
            names.REDIRECT_ROUTE, GATEWAY_API, "HTTPRoute", names.REDIRECT_ROUTE, redirect_route_spec(), **network
        )
        self.client_policy = resource(
            "client-policy",
            ENVOY_API,
            "ClientTrafficPolicy",
            names.ENVOY_PROXY,
            client_traffic_policy_spec(cluster),
            **network,
        )
        self.backend_policy = resource(
            "backend-policy",
            ENVOY_API,
            "BackendTrafficPolicy",
            names.ENVOY_PROXY,
            backend_traffic_policy_spec(),
            **network,
        )

        self.register_outputs(
            {
                "externalAddress": self.external.address,
                "externalDnsTarget": self.external.dns_target,
                "internalAddress": self.internal.address,
                "internalDnsTarget": self.internal.dns_target,
            }
        )
