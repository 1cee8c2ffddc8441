"""What only makes sense across keys of one stack's config: a pool block outside the VLAN,
overlapping CIDRs, a gateway IP outside the pool, two apps on one hostname, an app that claims
the program's own objects... and the placeholders still set. Rules between stacks are in
:mod:`homelab.config.cross_stack`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from pydantic.alias_generators import to_camel

from homelab.config import names
from homelab.config.cluster import Cluster
from homelab.config.models import APPS_KEY, CLUSTER_KEY, RELEASE_KEY, App, Release
from homelab.config.models import key as _key
from homelab.config.stack import StackConfig
from homelab.config.syntax import VERSION, is_below, is_dns_name, is_k8s_name, is_one_below

#: Cilium refuses a longer ``cluster.name``.
CILIUM_NAME_MAX = 32

# ---------------------------------------------------------------------------------------------
# semantic checks


def _version_problems(release: Release) -> Iterator[str]:
    for section, model in (("charts", release.charts), ("images", release.images)):
        for field, value in model:
            if not VERSION.match(value):
                yield f"{_key(RELEASE_KEY, section, to_camel(field))}: {value!r} is not a pinned version (x.y.z)"


def _network_problems(c: Cluster) -> Iterator[str]:
    net = c.network
    named = {
        "vlan": net.vlan,
        "podCidr": net.pod_cidr,
        "serviceCidr": net.service_cidr,
    }
    items = list(named.items())
    for i, (a_key, a) in enumerate(items):
        for b_key, b in items[i + 1 :]:
            if a.overlaps(b):
                yield (
                    f"{_key(CLUSTER_KEY, 'network', b_key)}: {str(b)!r} overlaps "
                    f"{_key(CLUSTER_KEY, 'network', a_key)} {str(a)!r}"
                )
    for i, block in enumerate(c.load_balancer.blocks):
        key = _key(CLUSTER_KEY, "loadBalancer", "blocks", i)
        if block.cidr is None and block.first > block.last:
            yield f"{key}: start {str(block.start)!r} is after stop {str(block.stop)!r}"
            continue
        value = block.spec()
        if not (block.first in net.vlan and block.last in net.vlan):
            yield f"{key}: {value!r} is outside {_key(CLUSTER_KEY, 'network', 'vlan')} {str(net.vlan)!r}"
        for j, other in enumerate(c.load_balancer.blocks[:i]):
            if other.cidr is None and other.first > other.last:
                continue
            if any(a.overlaps(b) for a in block.networks() for b in other.networks()):
                yield f"{key}: {value!r} overlaps {_key(CLUSTER_KEY, 'loadBalancer', 'blocks', j)} {other.spec()!r}"
    seen: dict[ipaddress.IPv4Address, str] = {}
    for which in ("internal", "external"):
        ip = getattr(c.gateways, which)
        key = _key(CLUSTER_KEY, "gateways", which)
        if ip not in c.load_balancer:
            yield f"{key}: {str(ip)!r} is outside the LB pool {_key(CLUSTER_KEY, 'loadBalancer', 'blocks')}"
        if ip in seen:
            yield f"{key}: {str(ip)!r} is already the IP of {seen[ip]}"
        seen[ip] = key
    if c.dns.coredns_ip not in net.service_cidr:
        yield (
            f"{_key(CLUSTER_KEY, 'dns', 'corednsIp')}: {str(c.dns.coredns_ip)!r} is outside "
            f"{_key(CLUSTER_KEY, 'network', 'serviceCidr')} {str(net.service_cidr)!r}"
        )
    api_ip = _api_ip(c)
    if api_ip is not None and api_ip in c.load_balancer:
        yield (
            f"{_key(CLUSTER_KEY, 'network', 'apiServer', 'host')}: {net.api_server.host!r} is inside the LB pool; "
            "Cilium would hand it to a Service"
        )


def _special(ip: ipaddress.IPv4Address) -> str | None:
    """What makes an address no host's: the names Python's ipaddress gives (RFC 6890)."""
    if ip.is_unspecified:
        return "the unspecified address"
    if ip == ipaddress.IPv4Address("255.255.255.255"):
        return "the limited broadcast address"
    for what in ("loopback", "multicast", "link_local", "reserved"):
        if getattr(ip, f"is_{what}"):
            return f"a {what.replace('_', '-')} address"
    return None


def _in_network(ip: ipaddress.IPv4Address, net: ipaddress.IPv4Network, name: str) -> str | None:
    """Which of a network's own addresses ``ip`` is, if it is one (no host can have them)."""
    if net.prefixlen >= 31:
        return None  # RFC 3021: both addresses of a /31 are hosts'
    if ip == net.network_address:
        return f"the network address of {name} {str(net)!r}"
    if ip == net.broadcast_address:
        return f"the broadcast address of {name} {str(net)!r}"
    return None


def _api_ip(c: Cluster) -> ipaddress.IPv4Address | None:
    """The API server's address, when the config gives one (not a DNS name, resolved by the nodes)."""
    try:
        return ipaddress.IPv4Address(c.network.api_server.host)
    except ValueError:
        return None


def _address_problems(c: Cluster) -> Iterator[str]:
    """Addresses of the right type that no host can have, or that another role already has."""
    net = c.network
    vlan_key, service_key = _key(CLUSTER_KEY, "network", "vlan"), _key(CLUSTER_KEY, "network", "serviceCidr")
    hosts: list[tuple[str, ipaddress.IPv4Address]] = [
        (_key(CLUSTER_KEY, "gateways", "internal"), c.gateways.internal),
        (_key(CLUSTER_KEY, "gateways", "external"), c.gateways.external),
        (_key(CLUSTER_KEY, "dns", "corednsIp"), c.dns.coredns_ip),
    ]
    api = _api_ip(c)
    if api is not None:
        hosts.append((_key(CLUSTER_KEY, "network", "apiServer", "host"), api))
    for key, ip in hosts:
        if ip is api and ip.is_loopback:
            continue  # every node has it: Talos's KubePrism answers the API on 127.0.0.1:7445
        what = _special(ip) or _in_network(ip, net.vlan, vlan_key) or _in_network(ip, net.service_cidr, service_key)
        if what is not None:
            yield f"{key}: {str(ip)!r} is {what}; no host can have it"
    kubernetes = net.service_cidr.network_address + 1
    if c.dns.coredns_ip == kubernetes:
        yield (
            f"{_key(CLUSTER_KEY, 'dns', 'corednsIp')}: {str(kubernetes)!r} is the first address of {service_key} "
            f"{str(net.service_cidr)!r}, which the API server gives its own `kubernetes` Service; pick another one"
        )
    for cidr_key, cidr in (("podCidr", net.pod_cidr), ("serviceCidr", net.service_cidr)):
        if api is not None and api in cidr:
            yield (
                f"{_key(CLUSTER_KEY, 'network', 'apiServer', 'host')}: {str(api)!r} is inside "
                f"{_key(CLUSTER_KEY, 'network', cidr_key)} {str(cidr)!r}: Cilium reaches the API server there "
                "before any pod or Service exists (kube-proxy replacement); give a node's or a VIP's address"
            )


def _name_problems(c: Cluster, stack: str | None) -> Iterator[str]:
    if not is_k8s_name(c.name):
        yield f"{_key(CLUSTER_KEY, 'name')}: {c.name!r} is not a DNS label (a-z, 0-9, -)"
    elif len(c.name) > CILIUM_NAME_MAX:
        yield f"{_key(CLUSTER_KEY, 'name')}: {c.name!r} is longer than the {CILIUM_NAME_MAX} characters Cilium allows"
    if c.name == "default":
        yield (
            f"{_key(CLUSTER_KEY, 'name')}: 'default' is Cilium's name for a cluster without an identity "
            "(its chart refuses it with a cluster id); name the cluster and its stack otherwise"
        )
    if stack is not None and c.name != stack:
        if not is_k8s_name(stack) or len(stack) > CILIUM_NAME_MAX:
            yield (
                f"{_key(CLUSTER_KEY, 'name')}: the stack's name {stack!r} cannot name a cluster (lowercase letters, "
                f"digits and '-', at most {CILIUM_NAME_MAX} characters): rename the stack and its file "
                f"Pulumi.{stack}.yaml, or move the file out of the project if it is not a stack"
            )
        else:
            yield (
                f"{_key(CLUSTER_KEY, 'name')}: {c.name!r} is not the stack's name {stack!r}; "
                "one stack per cluster, named after it"
            )
    if not is_dns_name(c.domain):
        yield f"{_key(CLUSTER_KEY, 'domain')}: {c.domain!r} is not a DNS name"
    zone = c.cloudflare.zone
    if not is_dns_name(zone):
        yield f"{_key(CLUSTER_KEY, 'cloudflare', 'zone')}: {zone!r} is not a DNS name"
    elif is_dns_name(c.domain) and not (c.domain == zone or c.domain.endswith("." + zone)):
        zone_key = _key(CLUSTER_KEY, "cloudflare", "zone")
        yield f"{_key(CLUSTER_KEY, 'domain')}: {c.domain!r} is not in {zone_key} {zone!r}"
    elif is_below(c.domain, zone) and not c.cloudflare.advanced_certificates:
        yield (
            f"{_key(CLUSTER_KEY, 'domain')}: {c.domain!r} is below the zone {zone!r}: {ACM_REASON.format(zone=zone)}"
        )
    host = c.tunnel_hostname
    if is_dns_name(c.domain) and not is_one_below(host, c.domain):
        yield (
            f"{_key(CLUSTER_KEY, 'cloudflare', 'tunnelHostname')}: {host!r} is not one label below the domain "
            f"{c.domain!r}; the wildcard certificate cloudflared verifies the origin against would not cover it"
        )


#: Why a domain below a zone needs ``cloudflare.advancedCertificates`` (DESIGN.md, "Seed points resolved").
ACM_REASON = (
    "Cloudflare's Universal SSL covers only {zone} and *.{zone}, so proxied names under it get no edge "
    "certificate. Give the cluster a zone of its own, or set homelab:cluster.cloudflare.advancedCertificates: "
    "true if the zone has Advanced Certificate Manager (or Total TLS)"
)

#: HTTPRoutes the program itself creates, by (namespace, name).
PROGRAM_ROUTES = {(names.NETWORK_NAMESPACE, names.REDIRECT_ROUTE): "the gateways' HTTP->HTTPS redirect"}


def _app_problems(apps: list[App], cluster: Cluster) -> Iterator[str]:
    domain = cluster.domain
    reserved = {cluster.tunnel_hostname: "the tunnel's hostname", f"internal.{domain}": "envoy-internal's DNS target"}
    claimed: dict[str, str] = {}
    routes: dict[tuple[str, str], str] = {}
    created: dict[str, str] = {}
    for i, app in enumerate(apps):
        for field, value in (("name", app.name), ("namespace", app.namespace), ("service", app.service)):
            if not is_k8s_name(value):
                yield f"{_key(APPS_KEY, i, field)}: {value!r} is not a Kubernetes name"
        ident = (app.namespace, app.name)
        if ident in PROGRAM_ROUTES:
            yield (
                f"{_key(APPS_KEY, i, 'name')}: {app.namespace}/{app.name} is the program's own HTTPRoute "
                f"({PROGRAM_ROUTES[ident]}); name the app's route otherwise"
            )
        elif ident in routes:
            yield f"{_key(APPS_KEY, i, 'name')}: {app.namespace}/{app.name} is already defined by {routes[ident]}"
        routes[ident] = _key(APPS_KEY, i)
        if app.create_namespace is True:
            key = _key(APPS_KEY, i, "createNamespace")
            if app.namespace in names.OWNED_NAMESPACES:
                owner = "the cluster's own" if app.namespace in names.CLUSTER_NAMESPACES else "this program's own"
                yield (
                    f"{key}: namespace {app.namespace!r} is {owner}; an app may put its route there "
                    "but never create it (drop createNamespace)"
                )
            elif app.namespace in created:
                yield f"{key}: namespace {app.namespace!r} is already created by {created[app.namespace]}"
            created.setdefault(app.namespace, _key(APPS_KEY, i))
        said = {other.create_namespace for other in apps if other.namespace == app.namespace}
        if app.create_namespace is not None and {True, False} <= said:
            yield (
                f"{_key(APPS_KEY, i, 'createNamespace')}: apps in namespace {app.namespace!r} disagree on who "
                "creates it (true and false); say it once, on one app"
            )
        for j, host in enumerate(app.hostnames):
            key = _key(APPS_KEY, i, "hostnames", j)
            if not is_one_below(host, domain):
                yield (
                    f"{key}: {host!r} is not a name under the domain {domain!r} "
                    f"(one label below it, as the wildcard certificate *.{domain} covers)"
                )
            elif host in reserved:
                yield f"{key}: {host!r} is {reserved[host]}; an app route there would overwrite its record"
            elif host in claimed:
                yield f"{key}: {host!r} is already claimed by {claimed[host]}"
            claimed.setdefault(host, key)


def app_namespaces(apps: list[App]) -> dict[str, int]:
    """Namespace -> index of the app whose route component creates it.

    Every namespace an app route goes into must exist before the route: the program creates it
    unless it is the program's or the cluster's own, or an app says ``createNamespace: false``
    (it exists, something else owns it). The first app of a namespace creates it.
    """
    external = {app.namespace for app in apps if app.create_namespace is False}
    out: dict[str, int] = {}
    for i, app in enumerate(apps):
        if app.namespace not in names.OWNED_NAMESPACES and app.namespace not in external:
            out.setdefault(app.namespace, i)
    return out


def semantic_problems(cfg: StackConfig, stack: str | None = None) -> list[str]:
    """Problems within one stack; ``stack`` (when known) is the stack's name."""
    return [
        *_name_problems(cfg.cluster, stack),
        *_network_problems(cfg.cluster),
        *_address_problems(cfg.cluster),
        *_version_problems(cfg.release),
        *_app_problems(cfg.apps, cfg.cluster),
    ]


#: Domains reserved for documentation (RFC 2606/6761): fine for the offline plan, refused by
#: Let's Encrypt and owned by nobody, so a real `pulumi up` with them cannot work.
RESERVED_DOMAINS = ("example.com", "example.net", "example.org", "test", "invalid", "localhost", "example")


def _reserved(name: str) -> bool:
    return any(name == d or name.endswith("." + d) for d in RESERVED_DOMAINS)


def placeholder_warnings(cfg: StackConfig) -> list[str]:
    """Values still set to the checked-in placeholders."""
    c = cfg.cluster
    out = []
    if _reserved(c.domain):
        out.append(f"{_key(CLUSTER_KEY, 'domain')}: {c.domain!r} is a placeholder; set your own domain and zone")
    email_domain = c.certificates.email.rpartition("@")[2].lower()
    if _reserved(email_domain):
        out.append(
            f"{_key(CLUSTER_KEY, 'certificates', 'email')}: {c.certificates.email!r} is a placeholder; "
            "Let's Encrypt refuses addresses at reserved domains, so no certificate would be issued"
        )
    for i, app in enumerate(cfg.apps):
        if app.create_namespace is False and app.namespace not in names.OWNED_NAMESPACES:
            out.append(
                f"{_key(APPS_KEY, i, 'createNamespace')}: false: namespace {app.namespace!r} must exist before "
                "`pulumi up` (nothing in this program creates it; `make preflight` checks it)"
            )
    if c.cloudflare.account_id == "0123456789abcdef0123456789abcdef":
        out.append(
            f"{_key(CLUSTER_KEY, 'cloudflare', 'accountId')}: is the placeholder; set your Cloudflare account id"
        )
    return out
