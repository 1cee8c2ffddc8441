"""external-dns: public Cloudflare records for the routes on envoy-external, proxied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi_kubernetes.helm.v3 import Release

from components.base import Component, helm_release, rolling_hash, token_secret
from homelab.config import names
from homelab.config.catalog import EXTERNAL_DNS, EXTERNAL_DNS_APP, EXTERNAL_DNS_TOKEN_SECRET
from homelab.config.cluster import Cluster
from homelab.config.models import Release as ReleaseSettings

#: One pod and one image pull; it waits for nothing but its own Deployment.
RELEASE_TIMEOUT = 600
TOKEN_KEY = "api-token"
TXT_PREFIX = "k8s."


#: Pod annotation whose value changes with the DNS token: external-dns reads ``CF_API_TOKEN``
#: from its environment at start only, so a rotated token must roll the pod.
TOKEN_HASH_ANNOTATION = "checksum/cloudflare-token"


def helm_values(cluster: Cluster, zone_id: str, exclude_domains: Sequence[str], token_hash: str) -> dict[str, Any]:
    """``exclude_domains``: other clusters' domains below this one's, which its domain filter
    would otherwise match (their own external-dns manages them). ``token_hash``: of the token."""
    return {
        "nameOverride": EXTERNAL_DNS_APP,
        "fullnameOverride": EXTERNAL_DNS_APP,
        "provider": {"name": "cloudflare"},
        "podAnnotations": {TOKEN_HASH_ANNOTATION: token_hash},
        "env": [
            {
                "name": "CF_API_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": EXTERNAL_DNS_TOKEN_SECRET, "key": TOKEN_KEY}},
            },
        ],
        "sources": ["gateway-httproute"],
        # sync deletes records whose routes are gone; the owner id keeps it to this cluster's records
        "policy": "sync",
        "txtOwnerId": cluster.external_dns.owner_id,
        "txtPrefix": TXT_PREFIX,
        "domainFilters": [cluster.domain],
        "excludeDomains": list(exclude_domains),
        # the same constant the Gateways' target annotations are written with
        "annotationPrefix": names.EXTERNAL_DNS_ANNOTATION_PREFIX,
        "triggerLoopOnEvent": True,
        "extraArgs": [
            f"--gateway-name={names.EXTERNAL_GATEWAY}",
            "--cloudflare-proxied",
            f"--zone-id-filter={zone_id}",
        ],
    }


class ExternalDns(Component):
    TYPE = "homelab:external_dns:ExternalDns"
    release: Release

    def __init__(
        self,
        name: str,
        cluster: Cluster,
        release: ReleaseSettings,
        api_token: pulumi.Input[str],
        zone_id: pulumi.Input[str],
        exclude_domains: Sequence[str] = (),
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``after``: the Envoy Gateway chart (the Gateway API CRDs external-dns watches)."""
        super().__init__(name, opts)
        token = token_secret(
            f"{name}-cloudflare-token",
            name=EXTERNAL_DNS_TOKEN_SECRET,
            namespace=EXTERNAL_DNS.namespace,
            key=TOKEN_KEY,
            token=api_token,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )
        self.release = helm_release(
            f"{name}-release",
            EXTERNAL_DNS,
            release.charts,
            values=pulumi.Output.all(zone_id, rolling_hash(api_token)).apply(
                lambda args: helm_values(cluster, args[0], exclude_domains, args[1])
            ),
            timeout=RELEASE_TIMEOUT,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[token, *after]),
        )
        self.register_outputs(
            {
                "ownerId": cluster.external_dns.owner_id,
                "domain": cluster.domain,
                "excludeDomains": list(exclude_domains),
            }
        )
