"""doctor against a fake homelab (tests/support/doctor_lab.py): each failure mode FAILs exactly its
check, with its fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from homelab.doctor.report import Status
from tests.support import doctor_lab
from tests.support.doctor_breakages import (
    _agents_not_ready,
    _all_pending_reconnect,
    _backend_missing,
    _certificate_expired,
    _certificate_expiring,
    _certificate_not_ready,
    _cilium_config_drift,
    _dns_forbidden,
    _dns_not_cloudflare,
    _external_dns_down,
    _gateway_not_programmed,
    _internal_app_on_external,
    _ip_not_assigned,
    _listener_without_certificate,
    _no_dns_endpoints,
    _no_lease,
    _no_record,
    _one_connector,
    _pending_reconnect,
    _policy_not_accepted,
    _pool_conflict,
    _pool_exhausted,
    _record_not_proxied,
    _renewal_overdue,
    _route_forbidden,
    _route_not_accepted,
    _stale_lease,
    _stale_status,
    _tunnel_down,
    _tunnel_record_elsewhere,
    _tunnels_forbidden,
    _wrong_ip,
    _wrong_owner,
)
from tests.support.doctor_lab import (
    CERT_FIX,
    CLOUDFLARED_LOGS,
    DNS_READ_FIX,
    EXTERNAL_DNS_LOGS,
    GATEWAY_FIX,
    NOT_EDGE,
    ROUTE_FIX,
    TUNNEL_ID,
    TUNNEL_READ_FIX,
    Homelab,
    K,
    assert_line,
    at,
    expected,
    not_passed,
    statuses,
)

# the shared fixtures (tests/support/doctor_lab.py): pytest finds them under these names
loopback_only = doctor_lab.loopback_only
servers = doctor_lab.servers
homelab = doctor_lab.homelab


# ---------------------------------------------------------------------------------------------
# each failure mode FAILs exactly its check, with its fix


@dataclass(frozen=True)
class Line:
    """A report line a failure mode must print: the check, its exact fix, what its evidence says."""

    check: str
    fix: str
    evidence: str
    status: Status = Status.FAIL


@dataclass(frozen=True)
class Failure:
    id: str
    change: Callable[[Homelab], None]
    check: str
    fix: str
    status: Status = Status.FAIL
    evidence: str = ""
    variant: str = "main+public"
    #: more checks that the change takes down with it (one read answering for several checks)
    also: tuple[Line, ...] = ()


FAILURES = [
    Failure(
        "gateway not programmed",
        _gateway_not_programmed,
        "Gateway envoy-external",
        GATEWAY_FIX.format(gw="envoy-external", then="its Service must have 10.11.1.22 (LB-IPAM above)"),
        evidence="Programmed=False (AddressNotAssigned",
    ),
    Failure(
        "listener without its certificate",
        _listener_without_certificate,
        "Gateway envoy-internal",
        GATEWAY_FIX.format(
            gw="envoy-internal", then="the https listener needs Secret network/wildcard-tls (Certificates below)"
        ),
        evidence="ResolvedRefs=False (InvalidCertificateRef",
    ),
    Failure(
        "pool conflict",
        _pool_conflict,
        "pool main-pool",
        f"{K} get ciliumloadbalancerippools: another pool overlaps main-pool; delete or shrink that pool",
        evidence='PoolConflict=True (cidr_overlap: Pool overlaps with CIDR of "lan-pool")',
    ),
    Failure(
        "IP not assigned",
        _ip_not_assigned,
        "envoy-internal IP",
        f"{K} -n network describe service envoy-internal: 10.11.1.21 must be inside main-pool and used by no "
        f"other Service ({K} get services -A -o wide | grep 10.11.1.21)",
        evidence="has no IP assigned (the stack asks 10.11.1.21); IPAMRequestSatisfied=False (already_allocated",
    ),
    Failure(
        "wrong IP",
        _wrong_ip,
        "envoy-external IP",
        f"{K} -n network describe service envoy-external: the Gateway's spec.infrastructure.annotations must carry "
        "lbipam.cilium.io/ips: 10.11.1.22; pulumi up --stack main",
        evidence="has 10.11.1.40, the stack asks 10.11.1.22",
    ),
    Failure(
        "no L2 lease",
        _no_lease,
        "envoy-external L2 lease",
        f"{K} get ciliuml2announcementpolicy l2-policy -o yaml (it must select the Service; l2Interfaces must match "
        "the nodes' interfaces); enable-l2-announcements in cilium-config",
        evidence="no Lease kube-system/cilium-l2announce-network-envoy-external",
    ),
    Failure(
        "stale L2 lease",
        _stale_lease,
        "envoy-internal L2 lease",
        f"{K} -n kube-system get pods -l k8s-app=cilium -o wide; "
        f"{K} -n kube-system logs <agent on node-1> -c cilium-agent",
        evidence="held by node-1 but not renewed for 600s",
    ),
    Failure(
        "route not accepted",
        _route_not_accepted,
        "HTTPRoute observability/grafana",
        ROUTE_FIX.format(ns="observability", name="grafana", svc="grafana-service:3000", svc_name="grafana-service"),
        evidence="envoy-internal: Accepted=False (NotAllowedByListeners",
    ),
    Failure(
        "route backend missing",
        _backend_missing,
        "HTTPRoute blog/blog",
        ROUTE_FIX.format(ns="blog", name="blog", svc="blog:8080", svc_name="blog"),
        evidence="envoy-external: ResolvedRefs=False (BackendNotFound",
    ),
    Failure(
        "internal app on the external gateway",
        _internal_app_on_external,
        "HTTPRoute observability/grafana",
        "pulumi up --stack main (the route was changed by hand)",
        evidence="attached to envoy-external too",
    ),
    Failure(
        "policy not accepted",
        _policy_not_accepted,
        "ClientTrafficPolicy envoy",
        f"{K} -n network describe clienttrafficpolicy envoy; {K} -n network logs deploy/envoy-gateway",
        evidence="envoy-internal: Accepted=False",
    ),
    Failure(
        "certificate expiring",
        _certificate_expiring,
        "Certificate wildcard-tls",
        f"renewal is failing: {CERT_FIX}",
        status=Status.WARN,
        evidence="5 days left",
    ),
    Failure("certificate expired", _certificate_expired, "Certificate wildcard-tls", CERT_FIX, evidence="expired on"),
    Failure(
        "certificate not ready",
        _certificate_not_ready,
        "Certificate wildcard-tls",
        CERT_FIX,
        evidence="Ready=False (DoesNotExist",
    ),
    Failure(
        "cilium-config drift",
        _cilium_config_drift,
        "cilium-config",
        "pulumi up --stack main puts the stack's values back (the agents restart on a config change); "
        "a hand-made `helm upgrade cilium` is the usual cause",
        evidence="bpf-lb-mode='snat' (the stack asks 'dsr')",
    ),
    Failure(
        "agents not ready",
        _agents_not_ready,
        "agents",
        f"{K} -n kube-system get pods -l k8s-app=cilium -o wide; "
        f"then {K} -n kube-system logs <unready pod> -c cilium-agent",
        evidence="2 of 3 agents ready",
    ),
    Failure(
        "no DNS endpoints",
        _no_dns_endpoints,
        "kube-dns endpoints",
        f"{K} -n kube-system get pods -l k8s-app=kube-dns -o wide; {K} -n kube-system logs -l k8s-app=kube-dns",
        evidence="Service kube-system/kube-dns has no ready endpoint",
    ),
    Failure(
        "external-dns down",
        _external_dns_down,
        "external-dns-cloudflare",
        f"{EXTERNAL_DNS_LOGS}; its token: Secret network/external-dns-cloudflare (restarts roll a new one in)",
        evidence="0 of 1 replicas ready",
    ),
    Failure(
        "tunnel down",
        _tunnel_down,
        "tunnel homelab-main",
        f"{CLOUDFLARED_LOGS}; cloudflared needs outbound UDP 7844 (QUIC) and its token "
        "(Secret network/cloudflared-tunnel)",
        evidence="down, 0 cloudflared connected (0 connections), 2 replicas",
    ),
    Failure(
        "tunnel degraded",
        _one_connector,
        "tunnel homelab-main",
        CLOUDFLARED_LOGS,
        status=Status.WARN,
        evidence="degraded, 1 cloudflared connected (4 connections), 2 replicas",
    ),
    Failure(
        "tunnel record elsewhere",
        _tunnel_record_elsewhere,
        "record external.example.com",
        "pulumi up --stack main (the record is the program's)",
        evidence=f"CNAME to old-tunnel.cfargotunnel.com; the tunnel is {TUNNEL_ID['main']}.cfargotunnel.com",
    ),
    Failure(
        "record not proxied",
        _record_not_proxied,
        "record blog.example.com",
        "external-dns sets proxied only when it writes the record: turn the proxy on in the dashboard, "
        "or delete the record and its TXT so external-dns writes them again",
        evidence="DNS only",
    ),
    Failure(
        "wrong owner TXT",
        _wrong_owner,
        "owner blog.example.com",
        "another external-dns (owner 'homelab-staging') manages blog.example.com: remove the app from that "
        "cluster's homelab:apps, or delete the record and its TXT so this cluster's external-dns takes it over",
        evidence="owner 'homelab-staging'",
    ),
    Failure(
        "no record",
        _no_record,
        "record status.example.com",
        f"{EXTERNAL_DNS_LOGS}; the route must be Accepted on envoy-external (Gateways above)",
        evidence="external-dns has not published it",
        also=(
            Line(
                "owner status.example.com",
                "the record was made by hand or by another tool: delete it, external-dns writes it and its TXT again",
                "no ownership TXT k8s.cname-status.example.com",
            ),
        ),
    ),
    Failure(
        "public DNS outside Cloudflare",
        _dns_not_cloudflare,
        "resolve blog.example.com",
        "turn the proxy on for the record, or delete the record that shadows it (external-dns above)",
        evidence=f"{NOT_EDGE} is not Cloudflare's edge",
    ),
    Failure(
        "DNS records forbidden",
        _dns_forbidden,
        "record external.example.com",
        DNS_READ_FIX,
        evidence="cannot read it: HTTP 403 (10000: Authentication error)",
        also=tuple(
            Line(name, DNS_READ_FIX, "cannot read it: HTTP 403 (10000: Authentication error)")
            for name in (
                "record blog.example.com",
                "owner blog.example.com",
                "record status.example.com",
                "owner status.example.com",
            )
        ),
    ),
    # the issue's findings: each was a PASS
    Failure(
        "a cloudflared whose connections are pending reconnect",
        _pending_reconnect,
        "tunnel homelab-main",
        CLOUDFLARED_LOGS,
        status=Status.WARN,
        evidence="healthy, 1 cloudflared connected (4 connections, 4 pending reconnect), 2 replicas",
    ),
    Failure(
        "every connection pending reconnect",
        _all_pending_reconnect,
        "tunnel homelab-main",
        f"{CLOUDFLARED_LOGS}; cloudflared needs outbound UDP 7844 (QUIC) and its token "
        "(Secret network/cloudflared-tunnel)",
        evidence="healthy, 0 cloudflared connected (0 connections, 8 pending reconnect), 2 replicas: "
        "every public app is unreachable",
    ),
    Failure(
        "status of an older generation",
        _stale_status,
        "Gateway envoy-external",
        f"{K} -n network describe gateway envoy-external; {K} -n network logs deploy/envoy-gateway",
        evidence="status is stale: Programmed, listener http, listener https set for generation 1; "
        "the Gateway is at generation 2: Envoy Gateway has not processed its latest change",
        also=(
            Line(
                "HTTPRoute blog/blog",
                f"{K} -n blog describe httproute blog; {K} -n network logs deploy/envoy-gateway",
                "status is stale: Accepted on envoy-external, ResolvedRefs on envoy-external set for generation 1; "
                "the HTTPRoute is at generation 2: Envoy Gateway has not processed its latest change",
            ),
            Line(
                "ClientTrafficPolicy envoy",
                f"{K} -n network describe clienttrafficpolicy envoy; {K} -n network logs deploy/envoy-gateway",
                "status is stale: Accepted on envoy-external, Accepted on envoy-internal set for generation 1; "
                "the ClientTrafficPolicy is at generation 2: Envoy Gateway has not processed its latest change",
            ),
        ),
    ),
    Failure(
        "certificate past its renewal time",
        _renewal_overdue,
        "Certificate wildcard-tls",
        f"renewal is failing: {CERT_FIX}",
        status=Status.WARN,
        evidence="Ready, expires {expires} (28 days left), but its renewal was due {due} UTC and has not happened; "
        "2 failed issuance attempts, the last at {failed} UTC",
    ),
    Failure(
        "pool with no address left",
        _pool_exhausted,
        "pool main-pool",
        f"{K} get services -A -o wide | grep LoadBalancer: which Services hold its addresses; free some, "
        "or widen homelab:cluster.loadBalancer.blocks",
        status=Status.WARN,
        evidence="no conflict, but 0 IPs available: no new LoadBalancer Service gets an address from main-pool",
    ),
    Failure(
        "token without the tunnel permission",
        _tunnels_forbidden,
        "tunnel homelab-main",
        TUNNEL_READ_FIX,
        evidence="cannot read it: HTTP 403 (10000: Authentication error)",
        # the zone and every record are still read: only the tunnel's CNAME needs the tunnel's id
        also=(
            Line(
                "record external.example.com",
                TUNNEL_READ_FIX,
                "not checked: the tunnel's id is unknown (tunnel homelab-main above)",
                Status.WARN,
            ),
        ),
    ),
    Failure(
        "route forbidden",
        _route_forbidden,
        "HTTPRoute home-automation/home-assistant",
        f"{K} auth can-i --list shows what the kubeconfig user may read",
        evidence='cannot read it: HTTP 403 Forbidden: httproutes.gateway.networking.k8s.io "home-assistant"',
    ),
]


#: variant -> the statuses of its healthy run (all PASS: the healthy test says so)
HEALTHY: dict[str, dict[str, Status]] = {}


@pytest.mark.parametrize("failure", FAILURES, ids=[f.id for f in FAILURES])
def test_each_failure_fails_exactly_its_check(homelab: Homelab, failure: Failure) -> None:
    exp = expected(failure.variant)
    homelab.load(exp)
    if failure.variant not in HEALTHY:
        HEALTHY[failure.variant] = statuses(homelab.run(exp))
    healthy = HEALTHY[failure.variant]
    failure.change(homelab)
    checks = homelab.run(exp)
    assert list(statuses(checks)) == list(healthy)  # the same checks, in the same order
    bad = {c.name: c for c in not_passed(checks)}
    times = {  # the fixtures' times, as the evidence shows them
        "expires": at(timedelta(days=28))[:10],
        "due": at(-timedelta(days=2)).replace("T", " ")[:16],
        "failed": at(-timedelta(hours=1)).replace("T", " ")[:16],
    }
    lines = [Line(failure.check, failure.fix, failure.evidence.format(**times), failure.status), *failure.also]
    assert sorted(bad) == sorted(line.check for line in lines)
    for line in lines:
        assert_line(bad[line.check], line.check, line.status, line.fix, line.evidence)
    assert {m for m, _ in homelab.api.requests} == {"GET"}


def test_the_failures_cover_the_issue_s_list() -> None:
    ids = {f.id for f in FAILURES}
    assert {
        "gateway not programmed",
        "pool conflict",
        "IP not assigned",
        "route not accepted",
        "certificate expiring",
        "tunnel down",
        "record not proxied",
        "wrong owner TXT",
    } <= ids
