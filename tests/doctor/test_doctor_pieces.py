"""doctor against a fake homelab (tests/support/doctor_lab.py): the loopback guard, the fakes' filters
and the small pure pieces.
"""

from __future__ import annotations

import ast
import copy
import json
import socket
import time
import uuid
from pathlib import Path

import cloudflare
import pytest
from jsonschema import Draft7Validator

from homelab.doctor import checks_cloudflare, checks_cluster, checks_dns, checks_gateway
from homelab.doctor.kube import parse_time
from homelab.doctor.report import Check, Status, redact
from tests.support import doctor_lab
from tests.support.doctor_lab import (
    CERT,
    CLOUDFLARED_LOGS,
    DELETED_TUNNEL_ID,
    EDGE,
    EXTERNAL_DNS_LOGS,
    NOT_EDGE,
    NOW,
    TUNNEL_ID,
    ZONE_ID,
    Homelab,
    K,
    assert_line,
    cloudflare_state,
    cluster_objects,
    connector,
    expected,
    not_passed,
    record,
)
from tests.support.fakes import (
    RECORD_FILTERS,
    TUNNEL_FILTERS,
    ZONE_FILTERS,
    closed_port,
    filtered,
    selected,
)

# the shared fixtures (tests/support/doctor_lab.py): pytest finds them under these names
loopback_only = doctor_lab.loopback_only
servers = doctor_lab.servers
homelab = doctor_lab.homelab


# ---------------------------------------------------------------------------------------------
# small pure pieces


def test_nothing_leaves_the_loopback(loopback_only: list[str]) -> None:
    """The guard works: the real default resolver (1.1.1.1) is refused before a packet leaves
    (checked installed first, so this test cannot send anything either)."""
    for name in ("connect", "connect_ex", "sendto"):
        assert getattr(socket.socket, name).__qualname__.startswith("loopback_only."), name
    checks = checks_dns.public_dns_checks(expected("main"), [(checks_dns.DEFAULT_NAMESERVER, 53)])
    fix = "the tunnel's record (Cloudflare Tunnel above); pulumi up --stack main"
    assert_line(checks[0], "resolve external.example.com", Status.FAIL, fix, "is outside the loopback (asked 1.1.1.1)")
    assert loopback_only and all("'1.1.1.1', 53" in attempt for attempt in loopback_only), loopback_only
    loopback_only.clear()


def test_the_fake_answers_lists_as_the_apis_filter_them() -> None:
    """The fake's lists honour the filters doctor relies on, and a filter not sent selects all
    (so a filter doctor stops sending lets a healthy fixture's decoys in)."""
    slices = cluster_objects(expected("main"))["/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices"]

    def names(query: dict[str, list[str]]) -> list[str]:
        return [i["metadata"]["name"] for i in selected(slices, query)["items"]]

    everything = ["hubble-peer-5q8wz", "kube-dns-upstream-m2d9c", "kube-dns-x7k2p"]
    assert names({}) == everything
    assert names({"labelSelector": ["kubernetes.io/service-name=kube-dns"]}) == ["kube-dns-x7k2p"]
    assert names({"labelSelector": ["kubernetes.io/service-name==kube-dns"]}) == ["kube-dns-x7k2p"]
    assert names({"labelSelector": ["kubernetes.io/service-name!=kube-dns"]}) == everything[:2]
    assert names({"labelSelector": ["kubernetes.io/service-name=kube-dns,app=x"]}) == []
    assert names({"fieldSelector": ["metadata.name=hubble-peer-5q8wz"]}) == everything[:1]
    for bad in ({"labelSelector": ["kubernetes.io/service-name in (kube-dns)"]}, {"fieldSelector": ["spec.x=1"]}):
        with pytest.raises(ValueError):
            names(bad)
    cf = cloudflare_state(expected("main"))
    zone = {"name": "example.com", "account.id": "0123456789abcdef0123456789abcdef", "status": "active"}
    assert [z["id"] for z in filtered(cf.zones, zone, ZONE_FILTERS)] == [ZONE_ID["main"]]
    for dropped in zone:
        assert len(filtered(cf.zones, {k: v for k, v in zone.items() if k != dropped}, ZONE_FILTERS)) == 2
    tunnel = {"name": "homelab-main", "is_deleted": "false"}
    assert [t["id"] for t in filtered(cf.tunnels, tunnel, TUNNEL_FILTERS)] == [TUNNEL_ID["main"]]
    assert [t["id"] for t in filtered(cf.tunnels, {"is_deleted": "true"}, TUNNEL_FILTERS)] == [DELETED_TUNNEL_ID]
    assert len(filtered(cf.tunnels, {}, TUNNEL_FILTERS)) == 3
    records = cf.records[ZONE_ID["main"]]
    assert [r["type"] for r in filtered(records, {"name.exact": "External.example.com"}, RECORD_FILTERS)] == ["CNAME"]
    assert [r["name"] for r in filtered(records, {"type": "TXT"}, RECORD_FILTERS)] == ["k8s.cname-www.example.com"]
    assert filtered(records, {}, RECORD_FILTERS) == records


#: The CRD schema (../shared/schemas) of each kind whose status doctor judges, by the lab's path.
STATUS_SCHEMAS = {
    "/gateways/envoy-external": "gateway.networking.k8s.io/gateway_v1.json",
    "/httproutes/blog": "gateway.networking.k8s.io/httproute_v1.json",
    "/clienttrafficpolicies/envoy": "gateway.envoyproxy.io/clienttrafficpolicy_v1alpha1.json",
    "/backendtrafficpolicies/envoy": "gateway.envoyproxy.io/backendtrafficpolicy_v1alpha1.json",
    "/certificates/wildcard-tls": "cert-manager.io/certificate_v1.json",
    "/ciliumloadbalancerippools/main-pool": "cilium.io/ciliumloadbalancerippool_v2.json",
}


def sdk_fields(module: str, name: str) -> set[str]:
    """The fields of one of the Cloudflare SDK's response types, read from its source (importing
    the ``zero_trust`` types takes 0.4 s)."""
    tree = ast.parse((Path(cloudflare.__file__).parent / "types" / module).read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    return {n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}


def test_the_lab_answers_with_the_upstream_shapes(schemas: Path) -> None:
    """The statuses the fake cluster serves validate against the CRDs' schemas, and the fake
    Cloudflare's tunnels and connections carry the SDK's field names with their types (UUIDs,
    RFC 3339 times, booleans), each connection every field of the SDK's ``Conn``."""
    objects = cluster_objects(expected("main+public"))
    for suffix, name in STATUS_SCHEMAS.items():
        obj = next(v for k, v in objects.items() if k.endswith(suffix))
        status = json.loads((schemas / name).read_text())["properties"]["status"]
        assert [e.message for e in Draft7Validator(status).iter_errors(obj["status"])] == [], suffix
        assert obj["metadata"]["generation"] == 1
    cf = cloudflare_state(expected("main+public"))
    tunnel_fields = sdk_fields("shared/cloudflare_tunnel.py", "CloudflareTunnel")
    assert all(set(t) <= tunnel_fields for t in cf.tunnels)
    connectors = cf.connections[TUNNEL_ID["main"]]
    client, conn = (sdk_fields("zero_trust/tunnels/cloudflared/client.py", n) for n in ("Client", "Conn"))
    assert conn == {
        "id",
        "client_id",
        "client_version",
        "colo_name",
        "is_pending_reconnect",
        "opened_at",
        "origin_ip",
        "uuid",
    }
    for cloudflared in connectors:
        assert set(cloudflared) <= client and str(uuid.UUID(cloudflared["id"])) == cloudflared["id"]
        for c in cloudflared["conns"]:
            assert set(c) == conn and c["client_id"] == cloudflared["id"] and c["uuid"] == c["id"]
            assert str(uuid.UUID(c["id"])) == c["id"] and isinstance(c["is_pending_reconnect"], bool)
            assert parse_time(c["opened_at"]) is not None
    assert len({c["id"] for x in connectors for c in x["conns"]}) == 8


def test_cloudflare_ranges_and_nameservers() -> None:
    assert all(checks_dns.is_cloudflare(a) for a in EDGE)
    assert not any(checks_dns.is_cloudflare(a) for a in (NOT_EDGE, "10.11.1.22", "2001:db8::1", "1.1.1.1"))
    assert checks_dns.parse_nameserver("1.1.1.1") == ("1.1.1.1", 53)
    assert checks_dns.parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert checks_dns.parse_nameserver("[2606:4700:4700::1111]:53") == ("2606:4700:4700::1111", 53)
    assert checks_dns.parse_nameserver("2606:4700:4700::1111") == ("2606:4700:4700::1111", 53)
    for bad in ("dns.google", "1.1.1.1:0", "1.1.1.1:x"):
        with pytest.raises(ValueError):
            checks_dns.parse_nameserver(bad)


def test_public_dns_failures_name_their_cause(homelab: Homelab, monkeypatch: pytest.MonkeyPatch) -> None:
    exp = expected("main+public")
    homelab.load(exp)
    del homelab.dns.answers["status.example.com"]
    [line] = not_passed(homelab.run(exp))
    fix = "external-dns has not published it (external-dns above)"
    assert_line(line, "resolve status.example.com", Status.FAIL, fix, "NXDOMAIN: no such name")
    monkeypatch.setattr(checks_dns, "DNS_LIFETIME", 0.15)
    start = time.monotonic()
    silent = checks_dns.public_dns_checks(exp, [("127.0.0.1", closed_port())])
    assert time.monotonic() - start < 1.5  # the first timeout is not waited for again
    server = silent[0].evidence.rsplit("(asked ", 1)[1].rstrip(")")
    fix = f"is {server} reachable from here (DNS over UDP)? --nameserver picks another public resolver"
    names = ["resolve external.example.com", "resolve blog.example.com", "resolve status.example.com"]
    for line, name in zip(silent, names, strict=True):
        assert_line(line, name, Status.FAIL, fix, "no answer from the resolver (timeout)")


def test_pure_checks_without_a_server() -> None:
    """The judgements are plain functions of the API's objects (no server needed)."""
    exp = expected("main+public")
    objects, cf = cluster_objects(exp), cloudflare_state(exp)
    # only external-dns's legacy TXT name (before app 0.18): owned, but worth a look
    legacy = {
        "k8s.blog.example.com": [
            record("TXT", "k8s.blog.example.com", '"heritage=external-dns,external-dns/owner=homelab"')
        ]
    }
    assert_line(
        checks_cloudflare.check_owner(exp, "blog.example.com", legacy),
        "owner blog.example.com",
        Status.WARN,
        "if k8s.cname-blog.example.com does not appear after external-dns's next sync "
        f"({EXTERNAL_DNS_LOGS}), delete the old TXT and the record so it writes both again",
        "TXT k8s.blog.example.com: owner homelab, in the format of external-dns before 0.18 only",
    )
    assert checks_cloudflare.txt_labels('"a=b,external-dns/owner=x"') == {"a": "b", "external-dns/owner": "x"}
    # more connectors than replicas: someone runs the tunnel's token elsewhere
    tid = TUNNEL_ID["main"]
    extra = [*cf.connections[tid], connector(tid, 2)]
    ours = [t for t in cf.tunnels if t["id"] == tid]
    assert_line(
        checks_cloudflare.check_tunnel(exp, ours, extra),
        "tunnel homelab-main",
        Status.WARN,
        CLOUDFLARED_LOGS,
        "3 cloudflared connected (12 connections), 2 replicas (a cloudflared outside this cluster runs the tunnel's",
    )
    # an A record where external-dns's CNAME belongs
    assert_line(
        checks_cloudflare.check_app_record(exp, "blog.example.com", [record("A", "blog.example.com", "198.51.100.7")]),
        "record blog.example.com",
        Status.FAIL,
        "delete it: external-dns writes its own",
        "A 198.51.100.7; no CNAME to external.example.com",
    )
    # absent objects FAIL with the command that creates them
    assert_line(
        checks_cluster.check_lease(exp, "envoy-external", "10.11.1.22", None, NOW),
        "envoy-external L2 lease",
        Status.FAIL,
        f"{K} get ciliuml2announcementpolicy l2-policy -o yaml (it must select the Service; l2Interfaces must match "
        "the nodes' interfaces); enable-l2-announcements in cilium-config",
        "no Lease kube-system/cilium-l2announce-network-envoy-external: no node answers ARP for 10.11.1.22",
    )
    assert_line(
        checks_gateway.check_certificate(exp, None, NOW),
        "Certificate wildcard-tls",
        Status.FAIL,
        "pulumi up --stack main (cert-manager)",
        "no Certificate network/wildcard-tls",
    )
    # a certificate for other names is not the stack's
    cert = copy.deepcopy(objects[CERT])
    cert["spec"]["dnsNames"] = ["example.com"]
    assert_line(
        checks_gateway.check_certificate(exp, cert, NOW),
        "Certificate wildcard-tls",
        Status.FAIL,
        "pulumi up --stack main",
        "names ['example.com'], the stack asks ['example.com', '*.example.com']",
    )
    assert checks_dns.issuer_of(
        {"issuer": ((("organizationName", "Google Trust Services"),), (("commonName", "WE1"),))}
    ) == ("Google Trust Services (WE1)")


def test_redaction_hides_tokens_but_leaves_words_whole() -> None:
    """A token of one character is no token: hiding it would print `conte[secret]t`."""
    check = Check("Access", "cluster main", Status.FAIL, "context main: proxy refused x-token-abcdefgh", "fix it")
    (shown,) = redact([check], ["x", "abcdefgh"])
    assert (shown.evidence, shown.fix) == ("context main: proxy refused x-token-[secret]", "fix it")
