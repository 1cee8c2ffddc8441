"""Cloudflare Tunnel as code: the tunnel, its ingress rules, its DNS name and cloudflared.

Nothing here is made by hand: the tunnel secret is generated once and kept (secret) in state,
the token cloudflared runs with is read back from Cloudflare, and the secret, the tunnel and its
DNS record are protected, since recreating any of them cuts every public app off. cloudflared
reads its token only when it starts, so the pod template carries a hash of the token: a new
token rolls the pods.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_random as random
from pulumi_kubernetes.apps.v1 import Deployment, DeploymentSpecArgs
from pulumi_kubernetes.core.v1 import (
    CapabilitiesArgs,
    ContainerArgs,
    ContainerPortArgs,
    EnvVarArgs,
    EnvVarSourceArgs,
    HTTPGetActionArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    ResourceRequirementsArgs,
    SeccompProfileArgs,
    SecretKeySelectorArgs,
    SecurityContextArgs,
    TopologySpreadConstraintArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.policy.v1 import PodDisruptionBudget, PodDisruptionBudgetSpecArgs

from components.base import Component, rolling_hash, token_secret
from components.envoy_gateway import GatewaySpec
from homelab.config.catalog import APP_LABEL, CLOUDFLARED, CLOUDFLARED_TOKEN_SECRET
from homelab.config.cluster import Cluster
from homelab.config.models import Release as ReleaseSettings

IMAGE = "docker.io/cloudflare/cloudflared"
TOKEN_KEY = "token"
METRICS_PORT = 8080
NOBODY = 65534
SECRET_BYTES = 32  # Cloudflare requires at least 32 bytes


#: Pod template annotation whose value changes with the tunnel token (a hash, never the token).
TOKEN_HASH_ANNOTATION = "checksum/tunnel-token"


def zone_filter(cluster: Cluster) -> cloudflare.GetZoneFilterArgs:
    """The stack's zone by name, in the stack's account, active: the data source fails when more
    than one zone matches, and a name alone can match zones of other accounts the token sees."""
    return cloudflare.GetZoneFilterArgs(
        match="all",
        name=cluster.cloudflare.zone,
        account=cloudflare.GetZoneFilterAccountArgs(id=cluster.cloudflare.account_id),
        status="active",
    )


def zone_id(cluster: Cluster, provider: cloudflare.Provider) -> pulumi.Output[str]:
    """The zone's id: from config (no lookup at all), or looked up."""
    if cluster.cloudflare.zone_id:
        return pulumi.Output.from_input(cluster.cloudflare.zone_id)
    zone = cloudflare.get_zone_output(filter=zone_filter(cluster), opts=pulumi.InvokeOutputOptions(provider=provider))
    return zone.id


def origin_url(origin: GatewaySpec) -> str:
    return f"https://{origin.service_host}:443"


def ingress_rules(
    cluster: Cluster, origin: GatewaySpec
) -> list[cloudflare.ZeroTrustTunnelCloudflaredConfigConfigIngressArgs]:
    """Every name under the domain to envoy-external over HTTP/2 with TLS verified against the
    gateway's certificate; anything else 404."""
    return [
        cloudflare.ZeroTrustTunnelCloudflaredConfigConfigIngressArgs(
            hostname=f"*.{cluster.domain}",
            service=origin_url(origin),
            origin_request=cloudflare.ZeroTrustTunnelCloudflaredConfigConfigIngressOriginRequestArgs(
                http2_origin=True,
                origin_server_name=origin.dns_target,
            ),
        ),
        cloudflare.ZeroTrustTunnelCloudflaredConfigConfigIngressArgs(service="http_status:404"),
    ]


def cname_target(tunnel_id: str) -> str:
    return f"{tunnel_id}.cfargotunnel.com"


def container_env(release: ReleaseSettings) -> list[EnvVarArgs]:
    """``TUNNEL_POST_QUANTUM=true`` is strict post-quantum in cloudflared 2026.x (no classical
    fallback); without it cloudflared prefers post-quantum key agreement and falls back."""
    post_quantum = (
        [EnvVarArgs(name="TUNNEL_POST_QUANTUM", value="true")] if release.cloudflared.post_quantum == "strict" else []
    )
    return [
        EnvVarArgs(
            name="TUNNEL_TOKEN",
            value_from=EnvVarSourceArgs(
                secret_key_ref=SecretKeySelectorArgs(name=CLOUDFLARED_TOKEN_SECRET, key=TOKEN_KEY)
            ),
        ),
        EnvVarArgs(name="TUNNEL_TRANSPORT_PROTOCOL", value="quic"),
        *post_quantum,
        EnvVarArgs(name="NO_AUTOUPDATE", value="true"),
        EnvVarArgs(name="TUNNEL_METRICS", value=f"0.0.0.0:{METRICS_PORT}"),
    ]


def deployment_spec(release: ReleaseSettings, token_hash: pulumi.Input[str]) -> DeploymentSpecArgs:
    """``token_hash``: :func:`components.base.token_hash` of the token, so a new token rolls the pods.

    Liveness on ``/healthcheck`` (the process answers), readiness on ``/ready`` (connected to the
    edge): ``/ready`` answers 503 whenever the edge is unreachable, and as a liveness probe it
    would restart both replicas in a loop through any Cloudflare or ISP outage.
    """
    labels = {APP_LABEL: CLOUDFLARED.name}
    res = release.cloudflared.resources
    readiness = ProbeArgs(http_get=HTTPGetActionArgs(path="/ready", port=METRICS_PORT), period_seconds=10)
    liveness = ProbeArgs(
        http_get=HTTPGetActionArgs(path="/healthcheck", port=METRICS_PORT), period_seconds=10, failure_threshold=3
    )
    return DeploymentSpecArgs(
        replicas=release.cloudflared.replicas,
        selector=LabelSelectorArgs(match_labels=labels),
        template=PodTemplateSpecArgs(
            metadata=ObjectMetaArgs(labels=labels, annotations={TOKEN_HASH_ANNOTATION: token_hash}),
            spec=PodSpecArgs(
                security_context=PodSecurityContextArgs(
                    run_as_non_root=True,
                    run_as_user=NOBODY,
                    run_as_group=NOBODY,
                    seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
                ),
                # one replica per node: losing a node keeps the tunnel up
                topology_spread_constraints=[
                    TopologySpreadConstraintArgs(
                        max_skew=1,
                        topology_key="kubernetes.io/hostname",
                        when_unsatisfiable="DoNotSchedule",
                        label_selector=LabelSelectorArgs(match_labels=labels),
                    )
                ],
                containers=[
                    ContainerArgs(
                        name=CLOUDFLARED.name,
                        image=f"{IMAGE}:{release.images.cloudflared}",
                        args=["tunnel", "run"],
                        env=container_env(release),
                        ports=[ContainerPortArgs(name="metrics", container_port=METRICS_PORT)],
                        readiness_probe=readiness,
                        liveness_probe=liveness,
                        resources=ResourceRequirementsArgs(
                            requests={"cpu": res.cpu_request, "memory": res.memory_request},
                            limits={"memory": res.memory_limit},
                        ),
                        security_context=SecurityContextArgs(
                            allow_privilege_escalation=False,
                            read_only_root_filesystem=True,
                            capabilities=CapabilitiesArgs(drop=["ALL"]),
                        ),
                    )
                ],
            ),
        ),
    )


class CloudflareTunnel(Component):
    TYPE = "homelab:cloudflare_tunnel:CloudflareTunnel"
    tunnel_id: pulumi.Output[str]
    cname: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        cluster: Cluster,
        release: ReleaseSettings,
        origin: GatewaySpec,
        zone_id: pulumi.Input[str],
        cloudflare_provider: cloudflare.Provider,
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``origin``: the gateway the tunnel sends traffic to. ``after``: what cloudflared
        needs in the cluster (the ``network`` namespace, the origin gateway)."""
        super().__init__(name, opts)
        account = cluster.cloudflare.account_id
        on_cloudflare = pulumi.ResourceOptions(parent=self, provider=cloudflare_provider)

        # after the provider: nothing is made when main's staging gate holds the provider back;
        # protected like the tunnel: a new secret means a new tunnel
        secret = random.RandomBytes(
            f"{name}-secret",
            length=SECRET_BYTES,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cloudflare_provider], protect=True),
        )
        tunnel = cloudflare.ZeroTrustTunnelCloudflared(
            f"{name}-tunnel",
            account_id=account,
            name=cluster.tunnel_name,
            config_src="cloudflare",
            tunnel_secret=pulumi.Output.secret(secret.base64),
            opts=pulumi.ResourceOptions.merge(on_cloudflare, pulumi.ResourceOptions(protect=True)),
        )
        self.tunnel_id = tunnel.id
        config = cloudflare.ZeroTrustTunnelCloudflaredConfig(
            f"{name}-config",
            account_id=account,
            tunnel_id=tunnel.id,
            config=cloudflare.ZeroTrustTunnelCloudflaredConfigConfigArgs(ingresses=ingress_rules(cluster, origin)),
            opts=on_cloudflare,
        )
        self.cname = tunnel.id.apply(cname_target)
        record = cloudflare.DnsRecord(
            f"{name}-dns",
            zone_id=zone_id,
            name=cluster.tunnel_hostname,
            type="CNAME",
            content=self.cname,
            proxied=True,
            ttl=1,  # automatic; required for proxied records
            comment=f"Cloudflare Tunnel {cluster.tunnel_name} (managed by Pulumi, homelab)",
            opts=pulumi.ResourceOptions.merge(on_cloudflare, pulumi.ResourceOptions(protect=True)),
        )
        token = cloudflare.get_zero_trust_tunnel_cloudflared_token_output(
            account_id=account,
            tunnel_id=tunnel.id,
            opts=pulumi.InvokeOutputOptions(provider=cloudflare_provider),
        ).token

        in_cluster = pulumi.ResourceOptions(parent=self, depends_on=list(after))
        tunnel_token = token_secret(
            f"{name}-token",
            name=CLOUDFLARED_TOKEN_SECRET,
            namespace=CLOUDFLARED.namespace,
            key=TOKEN_KEY,
            token=token,
            opts=in_cluster,
        )
        labels = {APP_LABEL: CLOUDFLARED.name}
        self.deployment = Deployment(
            f"{name}-cloudflared",
            metadata=ObjectMetaArgs(name=CLOUDFLARED.name, namespace=CLOUDFLARED.namespace, labels=labels),
            spec=deployment_spec(release, rolling_hash(token)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[tunnel_token, config, record, *after]),
        )
        self.pdb = PodDisruptionBudget(
            f"{name}-pdb",
            metadata=ObjectMetaArgs(name=CLOUDFLARED.name, namespace=CLOUDFLARED.namespace, labels=labels),
            # one pod at a time, and a drain still works if replicas is ever set to 1
            spec=PodDisruptionBudgetSpecArgs(max_unavailable=1, selector=LabelSelectorArgs(match_labels=labels)),
            opts=in_cluster,
        )
        self.register_outputs({"tunnelId": self.tunnel_id, "cname": self.cname, "hostname": cluster.tunnel_hostname})
