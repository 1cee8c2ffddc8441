"""cert-manager: Let's Encrypt DNS-01 through Cloudflare, and the wildcard certificate the
gateways terminate TLS with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.core.v1 import Namespace
from pulumi_kubernetes.helm.v3 import Release
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.base import Component, helm_release, token_secret
from homelab.config import names
from homelab.config.catalog import CERT_MANAGER, CERT_MANAGER_TOKEN_SECRET
from homelab.config.cluster import Cluster
from homelab.config.models import Release as ReleaseSettings

NAMESPACE = CERT_MANAGER.namespace
#: Four images (controller, webhook, cainjector, startupapicheck), then the startupapicheck
#: post-install Job, which retries until the webhook serves: the slowest first install here.
RELEASE_TIMEOUT = 900
API = "cert-manager.io/v1"
TOKEN_KEY = "api-token"
#: Public DNS-over-HTTPS resolvers for the DNS-01 self-check: LAN DNS never stalls issuance.
DOH_RESOLVERS = "https://1.1.1.1:443/dns-query,https://1.0.0.1:443/dns-query"

ISSUERS = {
    "letsencrypt-prod": "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}


def helm_values() -> dict[str, Any]:
    return {
        # keep: deleting the release must not delete every Certificate in the cluster
        "crds": {"enabled": True, "keep": True},
        "dns01RecursiveNameservers": DOH_RESOLVERS,
        "dns01RecursiveNameserversOnly": True,
    }


def cluster_issuer_spec(issuer: str, cluster: Cluster) -> dict[str, Any]:
    return {
        "acme": {
            "server": ISSUERS[issuer],
            "email": cluster.certificates.email,
            "privateKeySecretRef": {"name": f"{issuer}-account-key"},
            "solvers": [
                {
                    # only the stack's own names (its domain and below) are solved through this
                    # token, even where the zone holds other clusters' names
                    "selector": {"dnsZones": [cluster.domain]},
                    "dns01": {
                        "cloudflare": {"apiTokenSecretRef": {"name": CERT_MANAGER_TOKEN_SECRET, "key": TOKEN_KEY}}
                    },
                }
            ],
        }
    }


def dns_names(cluster: Cluster) -> list[str]:
    return [cluster.domain, f"*.{cluster.domain}"]


def certificate_spec(cluster: Cluster) -> dict[str, Any]:
    return {
        "secretName": names.WILDCARD_TLS_SECRET,
        "dnsNames": dns_names(cluster),
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": cluster.certificates.issuer},
    }


class CertManager(Component):
    TYPE = "homelab:cert_manager:CertManager"
    release: Release
    certificate: CustomResource

    def __init__(
        self,
        name: str,
        cluster: Cluster,
        release: ReleaseSettings,
        api_token: pulumi.Input[str],
        after: Sequence[pulumi.Resource] = (),
        certificate_after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``after``: the CNI. ``certificate_after``: what creates the ``network`` namespace."""
        super().__init__(name, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = Namespace(f"{name}-namespace", metadata=ObjectMetaArgs(name=NAMESPACE), opts=child)
        self.release = helm_release(
            f"{name}-release",
            CERT_MANAGER,
            release.charts,
            timeout=RELEASE_TIMEOUT,
            values=helm_values(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, *after]),
        )
        # ClusterIssuers read their secrets from cert-manager's own namespace
        token = token_secret(
            f"{name}-cloudflare-token",
            name=CERT_MANAGER_TOKEN_SECRET,
            namespace=NAMESPACE,
            key=TOKEN_KEY,
            token=api_token,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        after_chart = pulumi.ResourceOptions(parent=self, depends_on=[self.release, token])
        self.issuers = [
            CustomResource(
                f"{name}-{issuer}",
                api_version=API,
                kind="ClusterIssuer",
                metadata=ObjectMetaArgs(name=issuer),
                spec=cluster_issuer_spec(issuer, cluster),
                opts=after_chart,
            )
            for issuer in ISSUERS
        ]
        self.certificate = CustomResource(
            f"{name}-wildcard-certificate",
            api_version=API,
            kind="Certificate",
            metadata=ObjectMetaArgs(name=names.WILDCARD_TLS_SECRET, namespace=names.NETWORK_NAMESPACE),
            spec=certificate_spec(cluster),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, *self.issuers, *certificate_after]),
        )
        self.register_outputs({"certificateDnsNames": dns_names(cluster), "issuer": cluster.certificates.issuer})
