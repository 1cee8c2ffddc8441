"""homelab: the network stack of one cluster (the stack's), and its Cloudflare side.

Reads like DESIGN.md's diagram: Cilium first, everything else after it.
"""

import pulumi
import pulumi_kubernetes as kubernetes

from components import config
from components.cilium import Cilium
from components.coredns import CoreDns

settings = config.load()  # refuses bad config before any resource exists
cluster, release = settings.config.cluster, settings.config.release

k8s = kubernetes.Provider(cluster.name, kubernetes.ProviderArgs(context=cluster.kube_context))
on_cluster = pulumi.ResourceOptions(provider=k8s)

cilium = Cilium("cilium", cluster, release, opts=on_cluster)
coredns = CoreDns("coredns", cluster, release, after=[cilium.release], opts=on_cluster)

pulumi.export("cluster", cluster.name)
pulumi.export("kubeContext", cluster.kube_context)
pulumi.export("lbPool", cilium.pool_name)
pulumi.export("corednsIp", str(cluster.dns.coredns_ip))
pulumi.export("release", config.release_settings(settings.config))
