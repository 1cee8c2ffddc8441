"""What the stack's config says should be live: read with the program's own config loading.

Doctor never keeps a second copy of the config rules or of the names objects refer to each
other by: the stack file is read and parsed exactly as the program reads another stack's file
(:func:`homelab.config.cross_stack.read_member`), and every name and value below comes from
:mod:`homelab.config.names`, from what :mod:`homelab.config.catalog` declares each component
runs, or from the function of the component that creates the object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.app_route import PARENTS
from components.cert_manager import dns_names
from components.cilium import helm_values as cilium_values
from components.envoy_gateway import GatewaySpec, gateways
from components.external_dns import TXT_PREFIX
from homelab.config import names
from homelab.config.catalog import L2_LEASE_PREFIX, lb_pool
from homelab.config.cluster import Cluster
from homelab.config.cross_stack import read_member
from homelab.config.models import App, ConfigError, Exposure
from homelab.config.reader import StackFileError, is_stack_name, stack_file, stack_files
from homelab.config.stack import StackConfig
from homelab.errors import HomelabError

#: What the tunnel's CNAME points at (components/cloudflare_tunnel.py ``cname_target``; importing
#: that module would load pulumi_cloudflare, seconds of start-up for one string: a test pins them
#: together).
TUNNEL_CNAME_SUFFIX = ".cfargotunnel.com"


def _flag(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def cilium_config(cfg: StackConfig) -> dict[str, str]:
    """The ``cilium-config`` ConfigMap keys the chart writes from the program's Helm values.

    The mapping from values to keys is the chart's: tests/doctor/test_doctor_healthy.py compares it with the
    ConfigMap the pinned chart renders for each stack (recorded in tests/doctor_fixtures/).
    """
    v = cilium_values(cfg.cluster, cfg.release)
    return {
        "kube-proxy-replacement": _flag(v["kubeProxyReplacement"]),
        "routing-mode": v["routingMode"],
        "ipv4-native-routing-cidr": v["ipv4NativeRoutingCIDR"],
        "auto-direct-node-routes": _flag(v["autoDirectNodeRoutes"]),
        "ipam": v["ipam"]["mode"],
        "bpf-lb-mode": v["loadBalancer"]["mode"],
        "bpf-lb-algorithm": v["loadBalancer"]["algorithm"],
        "datapath-mode": v["bpf"]["datapathMode"],
        "enable-bpf-masquerade": _flag(v["bpf"]["masquerade"]),
        "enable-bandwidth-manager": _flag(v["bandwidthManager"]["enabled"]),
        "enable-bbr": _flag(v["bandwidthManager"]["bbr"]),
        "enable-l2-announcements": _flag(v["l2announcements"]["enabled"]),
        "l2-announcements-lease-duration": v["l2announcements"]["leaseDuration"],
        "l2-announcements-renew-deadline": v["l2announcements"]["leaseRenewDeadline"],
        "l2-announcements-retry-period": v["l2announcements"]["leaseRetryPeriod"],
        "k8s-client-qps": _flag(v["k8sClientRateLimit"]["qps"]),
        "k8s-client-burst": _flag(v["k8sClientRateLimit"]["burst"]),
        "cluster-name": v["cluster"]["name"],
        "cluster-id": _flag(v["cluster"]["id"]),
    }


def lease_name(service: str, namespace: str = names.NETWORK_NAMESPACE) -> str:
    """Cilium holds one Lease per announced Service, in kube-system, named after it."""
    return f"{L2_LEASE_PREFIX}{namespace}-{service}"


def txt_names(hostname: str, record_type: str = "CNAME") -> tuple[str, str]:
    """external-dns's ownership TXT names for a record: the one app 0.18 and later write (the
    record type before the first label, after the prefix: ``k8s.cname-app.example.com``, as its
    ``registry/mapper``), and the legacy one (``k8s.app.example.com``) of older releases."""
    first, _, rest = hostname.partition(".")
    typed = f"{TXT_PREFIX}{record_type.lower()}-{first}" + (f".{rest}" if rest else "")
    return typed, f"{TXT_PREFIX}{hostname}"


@dataclass(frozen=True)
class Expected:
    """The live state one stack's config asks for."""

    stack: str
    config: StackConfig

    @property
    def cluster(self) -> Cluster:
        return self.config.cluster

    @property
    def context(self) -> str:
        return self.cluster.kube_context

    @property
    def pool(self) -> str:
        return lb_pool(self.cluster.name)

    @property
    def pool_blocks(self) -> list[dict[str, str]]:
        return [block.spec() for block in self.cluster.load_balancer.blocks]

    @property
    def gateways(self) -> tuple[GatewaySpec, GatewaySpec]:
        """(external, internal): names, LB IPs, DNS targets, as envoy_gateway.py builds them."""
        return gateways(self.cluster)

    @property
    def coredns_ip(self) -> str:
        return str(self.cluster.dns.coredns_ip)

    @property
    def cilium_config(self) -> dict[str, str]:
        return cilium_config(self.config)

    @property
    def certificate_names(self) -> list[str]:
        return dns_names(self.cluster)

    @property
    def issuer(self) -> str:
        return self.cluster.certificates.issuer

    @property
    def owner_id(self) -> str:
        return self.cluster.external_dns.owner_id

    @property
    def tunnel_name(self) -> str:
        return self.cluster.tunnel_name

    @property
    def tunnel_hostname(self) -> str:
        return self.cluster.tunnel_hostname

    @property
    def cloudflared_replicas(self) -> int:
        return self.config.release.cloudflared.replicas

    @property
    def apps(self) -> list[App]:
        return list(self.config.apps)

    def parents(self, app: App) -> tuple[str, ...]:
        """The gateways an app's exposure pattern attaches its route to (components/app_route.py)."""
        return PARENTS[app.exposure]

    @property
    def public_hostnames(self) -> list[str]:
        """Names external-dns publishes: every hostname of an app on envoy-external."""
        return [
            h for app in self.config.apps if app.exposure in (Exposure.external, Exposure.dual) for h in app.hostnames
        ]

    def kubectl(self, args: str) -> str:
        """A kubectl command against this stack's cluster, for fix texts (the seed's style)."""
        return f"kubectl --context {self.context} {args}"

    @property
    def up(self) -> str:
        return f"pulumi up --stack {self.stack}"

    @property
    def read_access(self) -> str:
        """What to do when a read is refused or gets no answer."""
        return f"{self.kubectl('auth can-i --list')} shows what the kubeconfig user may read"


class BadInputError(HomelabError):
    """The stack cannot be read: doctor exits 2 with this message."""


def load(stack: str, root: Path) -> Expected:
    """Read and parse ``Pulumi.<stack>.yaml`` in ``root`` as the program reads a stack file
    (its secrets are not needed). Raises :class:`BadInputError` with the program's own message."""
    if not is_stack_name(stack):
        raise BadInputError(f"--stack {stack!r} is not a stack name (letters, digits, '-', '_', '.')")
    if not (root / "Pulumi.yaml").is_file():
        raise BadInputError(f"{root}: no Pulumi.yaml, not the project directory")
    path = stack_file(root, stack)
    if not path.is_file():
        known = ", ".join(stack_files(root)) or "none"
        raise BadInputError(f"no stack file {path.name} in {root} (stacks of this project: {known})")
    try:
        member = read_member(stack, path)
    except (ConfigError, StackFileError) as exc:
        raise BadInputError(str(exc)) from None
    return Expected(stack, member.config)
