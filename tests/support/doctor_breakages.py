"""The failure modes doctor must catch (tests/doctor/test_doctor_failures.py): each changes one object of
the fake homelab (tests/support/doctor_lab.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tests.support.doctor_lab import (
    ACCOUNT,
    NOT_EDGE,
    TUNNEL_ID,
    ZONE_ID,
    Homelab,
    at,
    cond,
)


def _path(suffix: str) -> Callable[[Homelab], dict[str, Any]]:
    return lambda h: next(v for k, v in h.api.kube.items() if k.endswith(suffix))


def _set_conditions(obj: dict[str, Any], *conds: dict[str, Any]) -> None:
    obj["status"]["conditions"] = list(conds)


def _gateway_not_programmed(h: Homelab) -> None:
    gw = _path("/gateways/envoy-external")(h)
    msg = "No addresses have been assigned to the Gateway"
    _set_conditions(gw, cond("Accepted"), cond("Programmed", "False", "AddressNotAssigned", msg))
    gw["status"]["addresses"] = []


def _listener_without_certificate(h: Homelab) -> None:
    gw = _path("/gateways/envoy-internal")(h)
    gw["status"]["listeners"][1]["conditions"] = [
        cond("Programmed", "False", "Invalid"),
        cond("ResolvedRefs", "False", "InvalidCertificateRef", "Secret network/wildcard-tls does not exist."),
    ]


def _pool_conflict(h: Homelab) -> None:
    pool = _path("/ciliumloadbalancerippools/main-pool")(h)
    pool["status"]["conditions"][-1] = cond(
        "cilium.io/PoolConflict", "True", "cidr_overlap", 'Pool overlaps with CIDR of "lan-pool"'
    )


def _ip_not_assigned(h: Homelab) -> None:
    svc = _path("/services/envoy-internal")(h)
    svc["status"] = {
        "loadBalancer": {},
        "conditions": [cond("cilium.io/IPAMRequestSatisfied", "False", "already_allocated", "The IP is in use")],
    }


def _wrong_ip(h: Homelab) -> None:
    _path("/services/envoy-external")(h)["status"]["loadBalancer"]["ingress"] = [{"ip": "10.11.1.40"}]


def _no_lease(h: Homelab) -> None:
    del h.api.kube[next(k for k in h.api.kube if k.endswith("cilium-l2announce-network-envoy-external"))]


def _stale_lease(h: Homelab) -> None:
    _path("cilium-l2announce-network-envoy-internal")(h)["spec"]["renewTime"] = at(-timedelta(minutes=10))


def _route_not_accepted(h: Homelab) -> None:
    route = _path("/httproutes/grafana")(h)
    route["status"]["parents"][0]["conditions"][0] = cond(
        "Accepted",
        "False",
        "NotAllowedByListeners",
        "No listeners included by this parent ref allowed this attachment.",
    )


def _backend_missing(h: Homelab) -> None:
    route = _path("/httproutes/blog")(h)
    route["status"]["parents"][0]["conditions"][1] = cond(
        "ResolvedRefs",
        "False",
        "BackendNotFound",
        "Failed to process route rule 0 backendRef 0: service blog/blog not found.",
    )


def _internal_app_on_external(h: Homelab) -> None:
    route = _path("/httproutes/grafana")(h)
    route["spec"]["parentRefs"].append({"name": "envoy-external", "namespace": "network", "sectionName": "https"})


def _policy_not_accepted(h: Homelab) -> None:
    policy = _path("/clienttrafficpolicies/envoy")(h)
    policy["status"]["ancestors"][1]["conditions"] = [
        cond("Accepted", "False", "Invalid", "TLS: minVersion 1.4 is not supported")
    ]


def _certificate_expiring(h: Homelab) -> None:
    _path("/certificates/wildcard-tls")(h)["status"]["notAfter"] = at(timedelta(days=5))


def _certificate_expired(h: Homelab) -> None:
    cert = _path("/certificates/wildcard-tls")(h)
    cert["status"]["notAfter"] = at(-timedelta(days=2))


def _certificate_not_ready(h: Homelab) -> None:
    _set_conditions(
        _path("/certificates/wildcard-tls")(h),
        cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist"),
    )


def _cilium_config_drift(h: Homelab) -> None:
    _path("/configmaps/cilium-config")(h)["data"]["bpf-lb-mode"] = "snat"


def _agents_not_ready(h: Homelab) -> None:
    _path("/daemonsets/cilium")(h)["status"]["numberReady"] = 2


def _kube_dns_slice(h: Homelab) -> dict[str, Any]:
    items = _path("/endpointslices")(h)["items"]
    return next(i for i in items if i["metadata"]["labels"]["kubernetes.io/service-name"] == "kube-dns")


def _no_dns_endpoints(h: Homelab) -> None:
    for endpoint in _kube_dns_slice(h)["endpoints"]:
        endpoint["conditions"]["ready"] = False


def _external_dns_down(h: Homelab) -> None:
    _path("/deployments/external-dns-cloudflare")(h)["status"]["readyReplicas"] = 0


def _tunnel(h: Homelab) -> dict[str, Any]:
    """The stack's tunnel (not the decoys beside it)."""
    return next(t for t in h.api.cloudflare.tunnels if t["id"] in TUNNEL_ID.values())


def _tunnel_down(h: Homelab) -> None:
    _tunnel(h)["status"] = "down"
    h.api.cloudflare.connections = {t: [] for t in h.api.cloudflare.connections}


def _one_connector(h: Homelab) -> None:
    tid = _tunnel(h)["id"]
    _tunnel(h)["status"] = "degraded"
    h.api.cloudflare.connections[tid] = h.api.cloudflare.connections[tid][:1]


def _zone_records(h: Homelab) -> list[dict[str, Any]]:
    return next(iter(h.api.cloudflare.records.values()))


def _record_not_proxied(h: Homelab) -> None:
    next(r for r in _zone_records(h) if r["name"] == "blog.example.com")["proxied"] = False


def _tunnel_record_elsewhere(h: Homelab) -> None:
    next(r for r in _zone_records(h) if r["name"] == "external.example.com")["content"] = "old-tunnel.cfargotunnel.com"


def _wrong_owner(h: Homelab) -> None:
    txt = next(r for r in _zone_records(h) if r["name"] == "k8s.cname-blog.example.com")
    txt["content"] = (
        '"heritage=external-dns,external-dns/owner=homelab-staging,external-dns/resource=httproute/blog/blog"'
    )


def _no_record(h: Homelab) -> None:
    h.api.cloudflare.records[ZONE_ID["main"]] = [r for r in _zone_records(h) if "status" not in r["name"]]


def _dns_not_cloudflare(h: Homelab) -> None:
    h.dns.answers["blog.example.com"] = [NOT_EDGE]


def _dns_forbidden(h: Homelab) -> None:
    h.api.cloudflare.errors[f"/zones/{ZONE_ID['main']}/dns_records"] = (403, "Authentication error")


def _route_forbidden(h: Homelab) -> None:
    path = next(k for k in h.api.kube if k.endswith("/httproutes/home-assistant"))
    h.api.kube[path] = (403, 'httproutes.gateway.networking.k8s.io "home-assistant" is forbidden')


def _pending_reconnect(h: Homelab, connectors: int = 1) -> None:
    """Cloudflare still lists the connections of ``connectors`` cloudflared that dropped, as
    ``is_pending_reconnect: true``; the tunnel's status has not changed yet."""
    for connector in h.api.cloudflare.connections[_tunnel(h)["id"]][:connectors]:
        for conn in connector["conns"]:
            conn["is_pending_reconnect"] = True


def _all_pending_reconnect(h: Homelab) -> None:
    _pending_reconnect(h, connectors=2)


def _stale_status(h: Homelab) -> None:
    """The Gateway, a route and a policy changed (metadata.generation 2) and Envoy Gateway has not
    processed them: their conditions still say True, of generation 1."""
    for suffix in ("/gateways/envoy-external", "/httproutes/blog", "/clienttrafficpolicies/envoy"):
        _path(suffix)(h)["metadata"]["generation"] = 2


def _renewal_overdue(h: Homelab) -> None:
    """Past its renewalTime, 28 days left (more than the 14 that WARN by themselves), two failed tries."""
    status = _path("/certificates/wildcard-tls")(h)["status"]
    status.update(
        notAfter=at(timedelta(days=28)),
        renewalTime=at(-timedelta(days=2)),
        failedIssuanceAttempts=2,
        lastFailureTime=at(-timedelta(hours=1)),
    )


def _pool_exhausted(h: Homelab) -> None:
    conds = _path("/ciliumloadbalancerippools/main-pool")(h)["status"]["conditions"]
    conds[:3] = [
        cond("cilium.io/IPsTotal", "Unknown", "noreason", "127"),
        cond("cilium.io/IPsAvailable", "Unknown", "noreason", "0"),
        cond("cilium.io/IPsUsed", "Unknown", "noreason", "127"),
    ]


def _tunnels_forbidden(h: Homelab) -> None:
    """The token lacks Account / Cloudflare Tunnel / Read, and has the zone's permissions."""
    h.api.cloudflare.errors[f"/accounts/{ACCOUNT}/cfd_tunnel"] = (403, "Authentication error")
