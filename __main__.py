"""homelab: the network stack of the stack's cluster, and its Cloudflare side.

Reads like DESIGN.md's diagram: Cilium first, everything else after it.
"""

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_kubernetes as kubernetes

from components import imports as import_plan
from components import settings as program_settings
from components.app_route import app_routes
from components.cert_manager import CertManager
from components.cilium import Cilium
from components.cloudflare_tunnel import CloudflareTunnel, zone_id
from components.coredns import CoreDns
from components.envoy_gateway import EnvoyGateway
from components.external_dns import ExternalDns
from components.promotion import StagingGate
from homelab.config import policy

settings = program_settings.load()  # refuses bad config, this stack's or the homelab's, before any resource exists
imports = import_plan.load(program_settings.project_root(), pulumi.get_stack())  # <stack>.imports.yaml
cluster, release = settings.config.cluster, settings.config.release
token, dns_token = settings.cloudflare_api_token, settings.cluster_dns_token

gate = StagingGate("promotion-gate", settings.config)  # main: only what staging already runs
k8s = kubernetes.Provider(cluster.name, kubernetes.ProviderArgs(context=gate.then(cluster.kube_context)))
cf = cloudflare.Provider(f"cloudflare-{cluster.name}", cloudflare.ProviderArgs(api_token=gate.then(token)))
on_cluster = pulumi.ResourceOptions(provider=k8s)
zone = zone_id(cluster, cf)

cilium = Cilium("cilium", cluster, release, opts=on_cluster)
coredns = CoreDns("coredns", cluster, release, after=[cilium.release], opts=on_cluster)
envoy = EnvoyGateway("envoy-gateway", cluster, release, after=[cilium.release], opts=on_cluster)
certs = CertManager(
    "cert-manager",
    cluster,
    release,
    dns_token,
    after=[cilium.release],
    certificate_after=[envoy.namespace],
    opts=on_cluster,
)
dns = ExternalDns(
    "external-dns",
    cluster,
    release,
    dns_token,
    zone,
    exclude_domains=settings.excluded_domains,  # other clusters' domains below this one's
    after=[envoy.crds, envoy.release],
    opts=on_cluster,
)
tunnel = CloudflareTunnel(
    "cloudflare-tunnel",
    cluster,
    release,
    origin=envoy.external,
    zone_id=zone,
    cloudflare_provider=cf,
    after=[envoy.namespace, *envoy.gateways],
    opts=on_cluster,
)
apps = app_routes(settings.config.apps, after=[envoy.crds, envoy.release], opts=on_cluster)  # namespaces too

pulumi.export("cluster", cluster.name)
pulumi.export("kubeContext", cluster.kube_context)
pulumi.export("kubernetesVersion", cluster.kubernetes_version)
pulumi.export("lbPool", cilium.pool_name)
pulumi.export("corednsIp", str(cluster.dns.coredns_ip))
pulumi.export(
    "gateways",
    {gw.name: {"address": gw.address, "dnsTarget": gw.dns_target} for gw in (envoy.external, envoy.internal)},
)
pulumi.export("tunnelId", tunnel.tunnel_id)
pulumi.export("tunnelCname", tunnel.cname)
pulumi.export("tunnelHostname", cluster.tunnel_hostname)
pulumi.export("release", policy.release_settings(settings.config))  # read by main's gate
imports.finish()  # every entry of the import plan matched a resource above
