"""What each component installs and what doctor finds live for it, declared once, one section
per component, so the program, the plan and doctor cannot disagree about a name.

* :class:`HelmChart`: a chart as its component installs it (``components/base.py`` builds the
  release from it), the schema version the plan checks its values with (``../shared/schemas/
  helm-values/<name>.*``, named after the chart), and what the plan must know of the chart beyond
  its values (subtrees passed on verbatim, CRDs its operator creates at run time). Preflight
  needs nothing here: it reads every release from the program's own plan.
* :class:`Workload`: what doctor reads live by name, and the label its pods carry.

Pure data, no Pulumi: doctor reads it without loading a provider SDK (importing
``components/cloudflare_tunnel.py`` costs seconds for two strings).
"""

from __future__ import annotations

from dataclasses import dataclass

from homelab.config import names
from homelab.config.models import Charts

SYSTEM = names.SYSTEM_NAMESPACE
NETWORK = names.NETWORK_NAMESPACE
#: The label a chart's (and cloudflared's) pods carry their app name in.
APP_LABEL = "app.kubernetes.io/name"


def chart_name(chart: str) -> str:
    """``oci://docker.io/envoyproxy/gateway-helm`` -> ``gateway-helm``; ``cilium/cilium`` -> ``cilium``:
    the name of the package (``<name>-<version>.tgz``) and of its schema files."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class HelmChart:
    """One chart of a component: what Helm installs, under which release, from where."""

    #: a chart name in :attr:`repo`, or an ``oci://`` reference
    chart: str
    #: the release's name and namespace: what Helm stores it under, what doctor points at
    release: str
    namespace: str
    #: the field of :class:`~homelab.config.models.Charts` (``homelab:release.charts``) that pins it
    version_key: str
    #: the chart version ``../shared/schemas`` was taken from (its README): a release on another
    #: version is still checked against those schemas, and the plan says so
    schema_version: str
    #: the Helm repository; empty for an ``oci://`` reference
    repo: str = ""
    #: values subtrees the chart passes on verbatim (documented elsewhere, not by its values.yaml)
    verbatim: tuple[tuple[str, ...], ...] = ()
    #: API groups whose CRDs no chart renders: the chart's operator creates them at run time
    runtime_crd_groups: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return chart_name(self.chart)

    def version(self, charts: Charts) -> str:
        """The version the stack pins for it."""
        return str(getattr(charts, self.version_key))


@dataclass(frozen=True)
class Workload:
    """Something a component runs that doctor reads live by name (its fixes name it too)."""

    kind: str
    namespace: str
    name: str
    #: the label selector of its pods (``kubectl logs -l``), where doctor uses one
    pods: str = ""

    @property
    def label(self) -> str:
        """``Deployment network/cloudflared``: how doctor names it."""
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def logs(self) -> str:
        """The kubectl arguments that show its pods' logs."""
        return f"-n {self.namespace} logs -l {self.pods}"


# ---------------------------------------------------------------------------------------------
# Cilium (components/cilium.py)

CILIUM = HelmChart(
    chart="cilium",
    release="cilium",
    namespace=SYSTEM,
    version_key="cilium",
    schema_version="1.20.0",
    repo="https://helm.cilium.io/",
    runtime_crd_groups=frozenset({"cilium.io"}),
)
CILIUM_AGENT = Workload("DaemonSet", SYSTEM, "cilium", pods="k8s-app=cilium")
CILIUM_OPERATOR = Workload("Deployment", SYSTEM, "cilium-operator")
#: The ConfigMap the chart writes the agents' settings to.
CILIUM_CONFIG = "cilium-config"
#: Cilium holds one Lease per announced Service, in kube-system, named after it.
L2_LEASE_PREFIX = "cilium-l2announce-"
L2_POLICY = "l2-policy"


def lb_pool(cluster: str) -> str:
    """The cluster's CiliumLoadBalancerIPPool."""
    return f"{cluster}-pool"


# ---------------------------------------------------------------------------------------------
# CoreDNS (components/coredns.py)

COREDNS = HelmChart(
    chart="coredns",
    release="coredns",
    namespace=SYSTEM,
    version_key="coredns",
    schema_version="1.46.2",
    repo="https://coredns.github.io/helm",
)
#: The Service's name and its pods' ``k8s-app`` label, as every distribution names them.
KUBE_DNS = "kube-dns"
COREDNS_SERVICE = Workload("Service", SYSTEM, KUBE_DNS, pods=f"k8s-app={KUBE_DNS}")
COREDNS_DEPLOYMENT = Workload("Deployment", SYSTEM, "coredns")


# ---------------------------------------------------------------------------------------------
# Envoy Gateway (components/envoy_gateway.py)

#: Gateway API's and Envoy Gateway's CRDs, a ``helm.v4.Chart`` (the component says why).
ENVOY_GATEWAY_CRDS = HelmChart(
    chart="oci://docker.io/envoyproxy/gateway-crds-helm",
    release="envoy-gateway-crds",
    namespace=NETWORK,
    version_key="envoy_gateway",
    schema_version="v1.9.0",
)
ENVOY_GATEWAY = HelmChart(
    chart="oci://docker.io/envoyproxy/gateway-helm",
    release="envoy-gateway",
    namespace=NETWORK,
    version_key="envoy_gateway",
    schema_version="v1.9.0",
    verbatim=(("config", "envoyGateway"),),  # the EnvoyGateway configuration object itself
)
ENVOY_GATEWAY_CONTROLLER = Workload("Deployment", NETWORK, "envoy-gateway")


# ---------------------------------------------------------------------------------------------
# cert-manager (components/cert_manager.py)

CERT_MANAGER = HelmChart(
    chart="cert-manager",
    release="cert-manager",
    namespace=names.CERT_MANAGER_NAMESPACE,
    version_key="cert_manager",
    schema_version="v1.21.1",
    repo="https://charts.jetstack.io",
)
CERT_MANAGER_CONTROLLER = Workload("Deployment", names.CERT_MANAGER_NAMESPACE, "cert-manager")
#: The Cloudflare token the ClusterIssuers' DNS-01 solver reads.
CERT_MANAGER_TOKEN_SECRET = "cloudflare-api-token"


# ---------------------------------------------------------------------------------------------
# external-dns (components/external_dns.py)

#: Release and app name; the seed's troubleshooting selects pods by this label.
EXTERNAL_DNS_APP = "external-dns-cloudflare"
EXTERNAL_DNS = HelmChart(
    chart="external-dns",
    release=EXTERNAL_DNS_APP,
    namespace=NETWORK,
    version_key="external_dns",
    schema_version="1.21.1",
    repo="https://kubernetes-sigs.github.io/external-dns/",
)
EXTERNAL_DNS_DEPLOYMENT = Workload("Deployment", NETWORK, EXTERNAL_DNS_APP, pods=f"{APP_LABEL}={EXTERNAL_DNS_APP}")
EXTERNAL_DNS_TOKEN_SECRET = "external-dns-cloudflare"


# ---------------------------------------------------------------------------------------------
# Cloudflare Tunnel (components/cloudflare_tunnel.py): no chart

#: cloudflared's Deployment, container and app label.
CLOUDFLARED_APP = "cloudflared"
CLOUDFLARED = Workload("Deployment", NETWORK, CLOUDFLARED_APP, pods=f"{APP_LABEL}={CLOUDFLARED_APP}")
#: The Secret holding the tunnel's token.
CLOUDFLARED_TOKEN_SECRET = "cloudflared-tunnel"


# ---------------------------------------------------------------------------------------------
# every chart above: what the plan checks per chart (tests/config/test_catalog.py: each a release
# of the program, each version pinned in ``Charts``)

CHARTS: tuple[HelmChart, ...] = (CILIUM, COREDNS, ENVOY_GATEWAY_CRDS, ENVOY_GATEWAY, CERT_MANAGER, EXTERNAL_DNS)
