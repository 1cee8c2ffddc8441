"""Cluster checks below the gateways: Cilium, LB-IPAM and L2, cluster DNS, and the Deployments of
external-dns and cloudflared (the gateways, routes, policies and certificate: :mod:`checks_gateway`).

Each ``check_*`` function is pure: it turns the object as the API returned it (a dict, or None
when it does not exist) into one :class:`Check`. :func:`cluster_checks` fetches the objects and
runs every check, so the judgement can be tested without a cluster and the fetching without
judgement.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from components.cilium import POOL_API
from homelab.config import catalog, names
from homelab.config.catalog import (
    CILIUM_AGENT,
    CILIUM_CONFIG,
    CILIUM_OPERATOR,
    CLOUDFLARED,
    COREDNS,
    COREDNS_SERVICE,
    ENVOY_GATEWAY_CONTROLLER,
    EXTERNAL_DNS_DEPLOYMENT,
    EXTERNAL_DNS_TOKEN_SECRET,
    L2_POLICY,
)
from homelab.doctor import checks_gateway
from homelab.doctor.expected import Expected, lease_name
from homelab.doctor.kube import Kube, Obj, condition, conditions, describe, get, guarded, parse_time
from homelab.doctor.report import (
    CILIUM,
    CLUSTER_DNS,
    EXTERNAL_DNS,
    LB,
    TUNNEL,
    Check,
    failed,
    passed,
    warned,
)

SYSTEM = names.SYSTEM_NAMESPACE
NETWORK = names.NETWORK_NAMESPACE
POOL_CONFLICT = "cilium.io/PoolConflict"
IPS_AVAILABLE = "cilium.io/IPsAvailable"
IPAM_SATISFIED = "cilium.io/IPAMRequestSatisfied"
#: What a missing Cilium object comes back with.
CILIUM_UP = f"(the {catalog.CILIUM.release} Helm release)"
KUBE_DNS = COREDNS_SERVICE.name
#: A lease not renewed for this many lease durations has no live holder (clocks may differ a bit).
STALE_LEASES = 3


# ---------------------------------------------------------------------------------------------
# Cilium


def check_agents(exp: Expected, ds: Obj | None) -> Check:
    """Every node's agent ready: a node without one gives its pods no network."""
    name = "agents"
    pods = exp.kubectl(f"-n {SYSTEM} get pods -l {CILIUM_AGENT.pods} -o wide")
    if ds is None:
        return failed(CILIUM, name, f"no {CILIUM_AGENT.label}", f"{exp.up} {CILIUM_UP}")
    desired = int(get(ds, "status", "desiredNumberScheduled", default=0))
    ready = int(get(ds, "status", "numberReady", default=0))
    if desired == 0:
        return failed(
            CILIUM, name, "the DaemonSet schedules no agent on any node", f"{pods}; {exp.kubectl('get nodes')}"
        )
    if ready < desired:
        return failed(
            CILIUM,
            name,
            f"{ready} of {desired} agents ready: pods on the other nodes have no network",
            f"{pods}; then {exp.kubectl(f'-n {SYSTEM} logs <unready pod> -c cilium-agent')}",
        )
    return passed(CILIUM, name, f"{ready} of {desired} agents ready")


def check_operator(exp: Expected, dep: Obj | None) -> Check:
    """The operator runs LB-IPAM: with none ready, no Service gets a pool IP."""
    name = "operator"
    if dep is None:
        return failed(CILIUM, name, f"no {CILIUM_OPERATOR.label}", f"{exp.up} {CILIUM_UP}")
    want = int(get(dep, "spec", "replicas", default=1))
    ready = int(get(dep, "status", "readyReplicas", default=0))
    logs = exp.kubectl(f"-n {SYSTEM} logs deploy/{CILIUM_OPERATOR.name}")
    if ready == 0:
        return failed(CILIUM, name, f"0 of {want} replicas ready: no LB-IPAM, no new pool IPs", logs)
    if ready < want:
        return warned(CILIUM, name, f"{ready} of {want} replicas ready", logs)
    return passed(CILIUM, name, f"{ready} of {want} replicas ready")


def check_cilium_config(exp: Expected, cm: Obj | None) -> Check:
    """The agents run what ``cilium-config`` says: every feature the stack asks for must be there."""
    name = CILIUM_CONFIG
    if cm is None:
        return failed(CILIUM, name, f"no ConfigMap {SYSTEM}/{CILIUM_CONFIG}", f"{exp.up} {CILIUM_UP}")
    data = get(cm, "data", default={})
    wrong = [
        f"{key}={data.get(key)!r} (the stack asks {want!r})"
        for key, want in exp.cilium_config.items()
        if str(data.get(key)) != want
    ]
    if wrong:
        return failed(
            CILIUM,
            name,
            "; ".join(wrong),
            f"{exp.up} puts the stack's values back (the agents restart on a config change); "
            f"a hand-made `helm upgrade {catalog.CILIUM.release}` is the usual cause",
        )
    shown = ("cluster-name", "cluster-id", "kube-proxy-replacement", "datapath-mode", "bpf-lb-mode")
    detail = ", ".join(f"{k}={exp.cilium_config[k]}" for k in shown)
    return passed(CILIUM, name, f"{len(exp.cilium_config)} keys as the stack asks ({detail}, ...)")


# ---------------------------------------------------------------------------------------------
# LB-IPAM and L2


def check_pool(exp: Expected, pool: Obj | None) -> Check:
    """A pool that overlaps another is marked conflicting and assigns nothing; one with no address
    left assigns nothing new. Cilium's operator counts the pool in conditions of status Unknown,
    reason ``noreason``, the count in the message: ``cilium.io/IPsAvailable`` (the addresses it can
    still assign), ``cilium.io/IPsTotal``, ``cilium.io/IPsUsed`` (cilium/cilium
    ``operator/pkg/lbipam/lbipam.go``, ``updatePoolCounts``; the CRD schema types them only as
    ``metav1.Condition``s: ../shared/schemas/cilium.io/ciliumloadbalancerippool_v2.json)."""
    name = f"pool {exp.pool}"
    pools = exp.kubectl("get ciliumloadbalancerippools")
    if pool is None:
        return failed(
            LB,
            name,
            f"no CiliumLoadBalancerIPPool {exp.pool}",
            f"{exp.up} (it follows the {catalog.CILIUM.release} release)",
        )
    conds = conditions(pool)
    conflict = condition(conds, POOL_CONFLICT)
    if conflict is not None and conflict.get("status") == "True":
        return failed(
            LB,
            name,
            f"{describe(conflict, 'PoolConflict')}: Cilium assigns no IP from it",
            f"{pools}: another pool overlaps {exp.pool}; delete or shrink that pool",
        )
    if get(pool, "spec", "disabled", default=False) is True:
        return failed(LB, name, "spec.disabled is true: no new IPs", f"{exp.up} (the stack's pool is enabled)")
    blocks = get(pool, "spec", "blocks", default=[])
    if blocks != exp.pool_blocks:
        return warned(LB, name, f"blocks {blocks}, the stack asks {exp.pool_blocks}", f"{exp.up}")
    count = str((condition(conds, IPS_AVAILABLE) or {}).get("message", "")).strip()
    if count == "0":
        return warned(
            LB,
            name,
            f"no conflict, but 0 IPs available: no new LoadBalancer Service gets an address from {exp.pool}",
            f"{exp.kubectl('get services -A -o wide')} | grep LoadBalancer: which Services hold its addresses; "
            f"free some, or widen homelab:cluster.loadBalancer.blocks",
        )
    return passed(LB, name, "no conflict" + (f", {count} IPs available" if count.isdigit() else ""))


def check_service_ip(exp: Expected, gateway: str, address: str, svc: Obj | None) -> Check:
    """The gateway's LoadBalancer Service has the IP the stack gives it (cloudflared and LAN DNS
    point at it)."""
    name = f"{gateway} IP"
    describe_svc = exp.kubectl(f"-n {NETWORK} describe service {gateway}")
    if svc is None:
        return failed(
            LB,
            name,
            f"no Service {NETWORK}/{gateway}: Envoy Gateway makes it for the Gateway",
            f"see Gateway {gateway} below; {exp.kubectl(f'-n {NETWORK} logs deploy/{ENVOY_GATEWAY_CONTROLLER.name}')}",
        )
    ips = [str(i.get("ip")) for i in get(svc, "status", "loadBalancer", "ingress", default=[]) if i.get("ip")]
    if address in ips:
        return passed(LB, name, f"Service {NETWORK}/{gateway} has {address}")
    why = condition(conditions(svc), IPAM_SATISFIED)
    reason = f"; {describe(why, 'IPAMRequestSatisfied')}" if why else ""
    if not ips:
        return failed(
            LB,
            name,
            f"Service {NETWORK}/{gateway} has no IP assigned (the stack asks {address}){reason}",
            f"{describe_svc}: {address} must be inside {exp.pool} and used by no other Service "
            f"({exp.kubectl('get services -A -o wide')} | grep {address})",
        )
    return failed(
        LB,
        name,
        f"Service {NETWORK}/{gateway} has {', '.join(ips)}, the stack asks {address}{reason}",
        f"{describe_svc}: the Gateway's spec.infrastructure.annotations must carry {names.LB_IPS_ANNOTATION}: "
        f"{address}; {exp.up}",
    )


def check_lease(exp: Expected, gateway: str, address: str, lease: Obj | None, now: datetime) -> Check:
    """A node holds the Service's L2 lease and renews it: that node answers ARP for the IP."""
    name = f"{gateway} L2 lease"
    lease_id = f"{SYSTEM}/{lease_name(gateway)}"
    policy = exp.kubectl(f"get ciliuml2announcementpolicy {L2_POLICY} -o yaml")
    if lease is None:
        return failed(
            LB,
            name,
            f"no Lease {lease_id}: no node answers ARP for {address}",
            f"{policy} (it must select the Service; l2Interfaces must match the nodes' interfaces); "
            f"enable-l2-announcements in {CILIUM_CONFIG}",
        )
    holder = get(lease, "spec", "holderIdentity", default="")
    if not holder:
        return failed(LB, name, f"Lease {lease_id} has no holder: no node answers ARP for {address}", policy)
    renewed = parse_time(get(lease, "spec", "renewTime"))
    duration = int(get(lease, "spec", "leaseDurationSeconds", default=15))
    if renewed is not None:
        age = (now - renewed).total_seconds()
        if age > STALE_LEASES * duration:
            return failed(
                LB,
                name,
                f"held by {holder} but not renewed for {age:.0f}s (lease {duration}s): its agent is gone",
                f"{exp.kubectl(f'-n {SYSTEM} get pods -l {CILIUM_AGENT.pods} -o wide')}; "
                f"{exp.kubectl(f'-n {SYSTEM} logs <agent on {holder}> -c cilium-agent')}",
            )
    return passed(LB, name, f"held by {holder}: {address} is announced")


# ---------------------------------------------------------------------------------------------
# cluster DNS


def check_kube_dns(exp: Expected, svc: Obj | None) -> Check:
    """The kubelets hand every pod ``dns.corednsIp``: the Service must have exactly that IP."""
    name = f"{KUBE_DNS} Service"
    if svc is None:
        return failed(
            CLUSTER_DNS, name, f"no Service {SYSTEM}/{KUBE_DNS}: pods resolve nothing", f"{exp.up} ({COREDNS.release})"
        )
    ip = get(svc, "spec", "clusterIP", default="")
    if ip != exp.coredns_ip:
        return failed(
            CLUSTER_DNS,
            name,
            f"clusterIP {ip}, the stack asks {exp.coredns_ip} (what the kubelets hand to pods)",
            f"a Service's clusterIP cannot change in place: delete Service {SYSTEM}/{KUBE_DNS}, then {exp.up}",
        )
    return passed(CLUSTER_DNS, name, f"clusterIP {ip}")


def check_kube_dns_endpoints(exp: Expected, slices: Obj | None) -> Check:
    """At least one ready CoreDNS behind the Service (an endpoint's unset ``ready`` counts as ready)."""
    name = f"{KUBE_DNS} endpoints"
    ready = [
        address
        for item in get(slices, "items", default=[])
        for endpoint in item.get("endpoints") or []
        if get(endpoint, "conditions", "ready", default=True) is not False
        for address in endpoint.get("addresses") or []
    ]
    if not ready:
        return failed(
            CLUSTER_DNS,
            name,
            f"Service {SYSTEM}/{KUBE_DNS} has no ready endpoint: every DNS lookup in the cluster fails",
            f"{exp.kubectl(f'-n {SYSTEM} get pods -l {COREDNS_SERVICE.pods} -o wide')}; "
            f"{exp.kubectl(COREDNS_SERVICE.logs)}",
        )
    return passed(CLUSTER_DNS, name, f"{len(ready)} ready ({', '.join(sorted(ready))})")


# ---------------------------------------------------------------------------------------------
# Deployments: external-dns and cloudflared


def check_deployment(exp: Expected, group: str, deployment: str, want: int, dep: Obj | None, logs: str) -> Check:
    """Ready replicas against ``want``: none ready FAILs, fewer WARN."""
    if dep is None:
        return failed(group, deployment, f"no Deployment {NETWORK}/{deployment}", exp.up)
    ready = int(get(dep, "status", "readyReplicas", default=0))
    if ready == 0:
        return failed(group, deployment, f"0 of {want} replicas ready", logs)
    if ready < want:
        return warned(group, deployment, f"{ready} of {want} replicas ready", logs)
    return passed(group, deployment, f"{ready} of {want} replicas ready")


# ---------------------------------------------------------------------------------------------
# fetching


def _guarded(exp: Expected, group: str, name: str, judge: Callable[[], Check]) -> Check:
    """One check; a failed read FAILs it alone (see :func:`homelab.doctor.kube.guarded`)."""
    return guarded(group, name, judge, exp.read_access)


def cluster_checks(exp: Expected, kube: Kube, now: datetime) -> list[Check]:
    """Every check of the cluster, in the seed's order, each against what ``exp`` asks for."""
    external, internal = exp.gateways
    out = [
        _guarded(
            exp,
            CILIUM,
            "agents",
            lambda: check_agents(exp, kube.daemon_set(CILIUM_AGENT.namespace, CILIUM_AGENT.name)),
        ),
        _guarded(
            exp,
            CILIUM,
            "operator",
            lambda: check_operator(exp, kube.deployment(CILIUM_OPERATOR.namespace, CILIUM_OPERATOR.name)),
        ),
        _guarded(exp, CILIUM, CILIUM_CONFIG, lambda: check_cilium_config(exp, kube.config_map(SYSTEM, CILIUM_CONFIG))),
        _guarded(
            exp,
            LB,
            f"pool {exp.pool}",
            lambda: check_pool(exp, kube.custom(POOL_API, "ciliumloadbalancerippools", exp.pool)),
        ),
    ]
    for gw in (external, internal):
        out.append(
            _guarded(
                exp,
                LB,
                f"{gw.name} IP",
                lambda gw=gw: check_service_ip(exp, gw.name, gw.address, kube.service(NETWORK, gw.name)),
            )
        )
    for gw in (external, internal):
        out.append(
            _guarded(
                exp,
                LB,
                f"{gw.name} L2 lease",
                lambda gw=gw: check_lease(exp, gw.name, gw.address, kube.lease(SYSTEM, lease_name(gw.name)), now),
            )
        )
    out += [
        _guarded(exp, CLUSTER_DNS, f"{KUBE_DNS} Service", lambda: check_kube_dns(exp, kube.service(SYSTEM, KUBE_DNS))),
        _guarded(
            exp,
            CLUSTER_DNS,
            f"{KUBE_DNS} endpoints",
            lambda: check_kube_dns_endpoints(exp, kube.endpoint_slices(SYSTEM, KUBE_DNS)),
        ),
    ]
    out += checks_gateway.gateway_checks(exp, kube, now)
    edns = EXTERNAL_DNS_DEPLOYMENT.name
    out.append(
        _guarded(
            exp,
            EXTERNAL_DNS,
            edns,
            lambda: check_deployment(
                exp,
                EXTERNAL_DNS,
                edns,
                1,
                kube.deployment(EXTERNAL_DNS_DEPLOYMENT.namespace, edns),
                exp.kubectl(EXTERNAL_DNS_DEPLOYMENT.logs)
                + f"; its token: Secret {NETWORK}/{EXTERNAL_DNS_TOKEN_SECRET} (restarts roll a new one in)",
            ),
        )
    )
    out.append(
        _guarded(
            exp,
            TUNNEL,
            CLOUDFLARED.name,
            lambda: check_deployment(
                exp,
                TUNNEL,
                CLOUDFLARED.name,
                exp.cloudflared_replicas,
                kube.deployment(CLOUDFLARED.namespace, CLOUDFLARED.name),
                exp.kubectl(CLOUDFLARED.logs),
            ),
        )
    )
    return out
