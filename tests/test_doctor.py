"""doctor against a fake homelab: the real clients, a real HTTP server, a real DNS responder.

Nothing here leaves the loopback. One threaded HTTP server on 127.0.0.1 answers the Kubernetes
API paths doctor reads (through the official ``kubernetes`` client and a kubeconfig pointing at
it, contexts ``main`` and ``staging``) and the Cloudflare API paths (through the official SDK,
its base URL overridden); a UDP responder on 127.0.0.1 answers public DNS. The objects are what a
healthy cluster and account answer for each stack's config (``cilium-config`` is the ConfigMap
the pinned chart renders for it, recorded in ``doctor_fixtures/``); each failure mode changes one
object and must FAIL exactly its check, with its fix. Lists answer only what the query's filters
select (``labelSelector``/``fieldSelector``; Cloudflare's ``name``, ``status``, ``account.id``,
``is_deleted``, ``name.exact``, ``type``), and the healthy objects sit beside decoys that only those
filters keep out (another Service's EndpointSlices, a deleted tunnel of the same name, zones of the
same name elsewhere, another name's records): a filter doctor stops sending fails a test.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from homelab.config import policy
from homelab.config.cross_stack import homelab_values
from homelab.config.reader import read_stack_file
from homelab.doctor import checks_dns, credentials, kube
from homelab.doctor import command as cli
from homelab.doctor.expected import Expected
from homelab.doctor.report import Check, Status
from homelab.doctor.runner import Options, run
from tests import fakes
from tests.conftest import Project
from tests.fakes import (
    RECORD_FILTERS,
    TOKEN,
    TUNNEL_FILTERS,
    ZONE_FILTERS,
    CloudflareState,
    DnsStub,
    FakeApi,
    closed_port,
    filtered,
    selected,
    write_kubeconfig,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "doctor_fixtures"
#: The homelab's "now": set when a fake homelab is loaded, so its timestamps (lease renewals,
#: certificate dates) are fresh for in-process runs (which read it) and CLI runs (the real clock).
NOW = datetime.now(UTC).replace(microsecond=0)
NET = {"main": "10.11", "staging": "10.12"}
ZONE_ID = {"main": "023e105f4ecef8ad9ca31a8372d0c353", "staging": "9a7806061c88ada191ed06f989cc3dac"}
TUNNEL_ID = {"main": "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415", "staging": "5b1e3d2c-7c43-4e5a-9b0e-0d6a1c2f3e4d"}
OTHER_ACCOUNT = "fedcba9876543210fedcba9876543210"
OTHER_TUNNEL_ID = "0d9c8b7a-6f5e-4d3c-8b2a-192837465564"
DELETED_TUNNEL_ID = "3c4d5e6f-7a8b-4c9d-8e0f-a1b2c3d4e5f6"
EDGE = ["104.21.48.1", "172.67.140.1", "2606:4700:3030::6815:3001"]  # Cloudflare's ranges
NOT_EDGE = "203.0.113.10"
NODES = ("node-1", "node-2", "node-3")
PUBLIC_APPS = {
    "main": [
        {
            "name": "blog",
            "namespace": "blog",
            "hostnames": ["blog.example.com"],
            "service": "blog",
            "port": 8080,
            "exposure": "external",
        },
        {
            "name": "status",
            "namespace": "status",
            "hostnames": ["status.example.com"],
            "service": "gatus",
            "port": 8080,
            "exposure": "dual",
        },
    ],
    "staging": [
        {
            "name": "blog",
            "namespace": "blog",
            "hostnames": ["blog.example.net"],
            "service": "blog",
            "port": 8080,
            "exposure": "external",
        },
    ],
}


def stack_values(stack: str, public: bool) -> tuple[dict[str, Any], list[str]]:
    """The repo's stack file as the program reads it, plus public apps (and, for staging, a zone id)."""
    raw, secret = homelab_values(read_stack_file(ROOT / f"Pulumi.{stack}.yaml"))
    raw = copy.deepcopy(raw)
    if public:
        raw["apps"] = [*raw.get("apps", []), *PUBLIC_APPS[stack]]
        if stack == "staging":
            raw["cluster"]["cloudflare"]["zoneId"] = ZONE_ID[stack]
    return raw, secret


@functools.cache
def expected(variant: str) -> Expected:
    stack, _, public = variant.partition("+")
    raw, secret = stack_values(stack, bool(public))
    return Expected(stack, policy.parse(raw, secret, stack=stack, require_secrets=False))


VARIANTS = ("main", "main+public", "staging+public")


# ---------------------------------------------------------------------------------------------
# what a healthy homelab answers, written out from the seed (not from doctor's own helpers)


def at(delta: timedelta = timedelta()) -> str:
    return (NOW + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def cond(kind: str, status: str = "True", reason: str = "", message: str = "") -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": reason or kind,
        "message": message,
        "lastTransitionTime": at(-timedelta(days=3)),
    }


def meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    out = {"name": name, "uid": f"uid-{name}", "resourceVersion": "1", "creationTimestamp": at(-timedelta(days=30))}
    return out if namespace is None else {**out, "namespace": namespace}


def deployment(name: str, namespace: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, namespace),
        "spec": {"replicas": replicas},
        "status": {
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "updatedReplicas": replicas,
            "conditions": [cond("Available")],
        },
    }


def endpoint_slice(service: str, name: str, endpoints: list[tuple[str, bool]]) -> dict[str, Any]:
    """One EndpointSlice of a Service in kube-system, labelled as the EndpointSlice controller does."""
    labels = {
        "kubernetes.io/service-name": service,
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    return {
        "addressType": "IPv4",
        "metadata": {**meta(name, "kube-system"), "labels": labels},
        "endpoints": [
            {
                "addresses": [address],
                "conditions": {"ready": ready, "serving": ready, "terminating": False},
                "nodeName": NODES[i % len(NODES)],
            }
            for i, (address, ready) in enumerate(endpoints)
        ],
    }


GW = "/apis/gateway.networking.k8s.io/v1/namespaces"
EG = "/apis/gateway.envoyproxy.io/v1alpha1/namespaces/network"
CERT = "/apis/cert-manager.io/v1/namespaces/network/certificates/wildcard-tls"
APPS = "/apis/apps/v1/namespaces"


def cluster_objects(exp: Expected) -> dict[str, Any]:
    """Path -> object, as ``kubectl get -o json`` prints them, for a healthy cluster of ``exp``."""
    stack, c = exp.stack, exp.config.cluster
    ips = {"envoy-external": f"{NET[stack]}.1.22", "envoy-internal": f"{NET[stack]}.1.21"}
    parent = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "network"}
    out: dict[str, Any] = {
        "/version": {"major": "1", "minor": "35", "gitVersion": "v1.35.0", "platform": "linux/amd64"},
        f"{APPS}/kube-system/daemonsets/cilium": {
            "kind": "DaemonSet",
            "metadata": meta("cilium", "kube-system"),
            "status": {
                "desiredNumberScheduled": 3,
                "currentNumberScheduled": 3,
                "numberReady": 3,
                "numberAvailable": 3,
                "updatedNumberScheduled": 3,
                "numberMisscheduled": 0,
            },
        },
        f"{APPS}/kube-system/deployments/cilium-operator": deployment("cilium-operator", "kube-system", 2),
        f"{APPS}/network/deployments/external-dns-cloudflare": deployment("external-dns-cloudflare", "network", 1),
        f"{APPS}/network/deployments/cloudflared": deployment("cloudflared", "network", 2),
        "/api/v1/namespaces/kube-system/configmaps/cilium-config": json.loads(
            (FIXTURES / f"cilium-config.{stack}.json").read_text()
        ),
        f"/apis/cilium.io/v2/ciliumloadbalancerippools/{stack}-pool": {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumLoadBalancerIPPool",
            "metadata": meta(f"{stack}-pool"),
            "spec": {
                "allowFirstLastIPs": "Yes",
                "blocks": [
                    {"cidr": f"{NET[stack]}.0.15/32"},
                    {"start": f"{NET[stack]}.1.2", "stop": f"{NET[stack]}.1.127"},
                ],
            },
            "status": {
                "conditions": [
                    cond("cilium.io/IPsTotal", "Unknown", "noreason", "127"),
                    cond("cilium.io/IPsAvailable", "Unknown", "noreason", "125"),
                    cond("cilium.io/IPsUsed", "Unknown", "noreason", "2"),
                    cond("cilium.io/PoolConflict", "False", "resolved"),
                ]
            },
        },
        "/api/v1/namespaces/kube-system/services/kube-dns": {
            "kind": "Service",
            "metadata": meta("kube-dns", "kube-system"),
            "spec": {"type": "ClusterIP", "clusterIP": "10.200.0.10", "clusterIPs": ["10.200.0.10"]},
        },
        "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices": {
            "kind": "EndpointSliceList",
            "apiVersion": "discovery.k8s.io/v1",
            "metadata": {"resourceVersion": "1"},
            # decoys first: the slices of kube-system's other Services, which only the label
            # selector keeps out (hubble-peer's are ready, so kube-dns with none ready would PASS)
            "items": [
                endpoint_slice(
                    "hubble-peer", "hubble-peer-5q8wz", [(f"{NET[stack]}.0.{i + 11}", True) for i in range(3)]
                ),
                endpoint_slice("kube-dns-upstream", "kube-dns-upstream-m2d9c", [("10.201.9.9", False)]),
                endpoint_slice(
                    "kube-dns",
                    "kube-dns-x7k2p",
                    [(f"10.20{1 if stack == 'main' else 2}.{i}.5", True) for i in range(2)],
                ),
            ],
        },
        CERT: {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": meta("wildcard-tls", "network"),
            "spec": {
                "secretName": "wildcard-tls",
                "dnsNames": [c.domain, f"*.{c.domain}"],
                "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "letsencrypt-prod"},
            },
            "status": {
                "conditions": [cond("Ready", reason="Ready", message="Certificate is up to date and has not expired")],
                "notBefore": at(-timedelta(days=30)),
                "notAfter": at(timedelta(days=60)),
                "renewalTime": at(timedelta(days=30)),
                "revision": 3,
            },
        },
    }
    for gw, ip in ips.items():
        out[f"/api/v1/namespaces/network/services/{gw}"] = {
            "kind": "Service",
            "metadata": {**meta(gw, "network"), "annotations": {"lbipam.cilium.io/ips": ip}},
            "spec": {"type": "LoadBalancer", "clusterIP": "10.200.14.2"},
            "status": {
                "loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]},
                "conditions": [cond("cilium.io/IPAMRequestSatisfied", reason="satisfied")],
            },
        }
        out[f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/cilium-l2announce-network-{gw}"] = {
            "kind": "Lease",
            "metadata": meta(f"cilium-l2announce-network-{gw}", "kube-system"),
            "spec": {
                "holderIdentity": NODES[0],
                "leaseDurationSeconds": 15,
                "acquireTime": at(-timedelta(days=2)),
                "renewTime": at(-timedelta(seconds=3)),
            },
        }
        listeners = [
            {
                "name": n,
                "attachedRoutes": 1,
                "supportedKinds": [{"kind": "HTTPRoute"}],
                "conditions": [cond("Accepted"), cond("ResolvedRefs"), cond("Programmed")],
            }
            for n in ("http", "https")
        ]
        out[f"{GW}/network/gateways/{gw}"] = {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": meta(gw, "network"),
            "status": {
                "addresses": [{"type": "IPAddress", "value": ip}],
                "listeners": listeners,
                "conditions": [cond("Accepted"), cond("Programmed")],
            },
        }
    for kind in ("clienttrafficpolicies", "backendtrafficpolicies"):
        ancestors = [
            {
                "ancestorRef": {**parent, "name": gw},
                "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
                "conditions": [cond("Accepted", message="Policy has been accepted.")],
            }
            for gw in ips
        ]
        out[f"{EG}/{kind}/envoy"] = {"metadata": meta("envoy", "network"), "status": {"ancestors": ancestors}}
    for app in exp.config.apps:
        gateways = {"external": ["envoy-external"], "internal": ["envoy-internal"]}.get(
            app.exposure.value, ["envoy-external", "envoy-internal"]
        )
        out[f"{GW}/{app.namespace}/httproutes/{app.name}"] = {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": meta(app.name, app.namespace),
            "spec": {
                "hostnames": list(app.hostnames),
                "parentRefs": [{"name": g, "namespace": "network", "sectionName": "https"} for g in gateways],
            },
            "status": {
                "parents": [
                    {
                        "parentRef": {**parent, "name": g, "sectionName": "https"},
                        "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
                        "conditions": [cond("Accepted"), cond("ResolvedRefs")],
                    }
                    for g in gateways
                ]
            },
        }
    return out


def record(kind: str, name: str, content: str, proxied: bool = False) -> dict[str, Any]:
    return {
        "id": f"rec-{kind}-{name}",
        "type": kind,
        "name": name,
        "content": content,
        "proxied": proxied,
        "proxiable": kind != "TXT",
        "ttl": 1,
        "created_on": at(-timedelta(days=9)),
        "modified_on": at(-timedelta(days=9)),
    }


def cloudflare_state(exp: Expected) -> CloudflareState:
    stack, c = exp.stack, exp.config.cluster
    tid = TUNNEL_ID[stack]
    account = c.cloudflare.account_id
    conns = [
        {
            "colo_name": colo,
            "id": f"{tid[:8]}-{i}-{colo}",
            "is_pending_reconnect": False,
            "opened_at": at(-timedelta(hours=5)),
            "origin_ip": "198.51.100.7",
            "uuid": f"{tid[:8]}-{i}-{colo}",
        }
        for i in range(2)
        for colo in ("fra08", "ams01", "fra15", "ams04")
    ]
    owner = c.external_dns.owner_id
    # decoys first: what only name.exact keeps out (another tunnel's CNAME, another owner's TXT)
    records = [
        record("CNAME", f"www.{c.domain}", f"{OTHER_TUNNEL_ID}.cfargotunnel.com", proxied=True),
        record("TXT", f"k8s.cname-www.{c.domain}", '"heritage=external-dns,external-dns/owner=someone-else"'),
        record("CNAME", f"external.{c.domain}", f"{tid}.cfargotunnel.com", proxied=True),
    ]
    for app in exp.config.apps:
        if app.exposure.value == "internal":
            continue
        for host in app.hostnames:
            first, rest = host.split(".", 1)
            records.append(record("CNAME", host, f"external.{c.domain}", proxied=True))
            resource = f"httproute/{app.namespace}/{app.name}"
            labels = f"heritage=external-dns,external-dns/owner={owner},external-dns/resource={resource}"
            records.append(record("TXT", f"k8s.cname-{first}.{rest}", f'"{labels}"'))
    zone = c.cloudflare.zone

    def zone_of(zone_id: str, name: str, status: str, account_id: str) -> dict[str, Any]:
        return {"id": zone_id, "name": name, "status": status, "account": {"id": account_id}}

    def tunnel(tunnel_id: str, name: str, status: str, deleted: bool = False) -> dict[str, Any]:
        return {
            "id": tunnel_id,
            "name": name,
            "status": status,
            "tun_type": "cfd_tunnel",
            "account_tag": account,
            "remote_config": True,
            "created_at": at(-timedelta(days=90)),
            "deleted_at": at(-timedelta(days=20)) if deleted else None,
        }

    return CloudflareState(
        # decoys first, each kept out by one filter doctor sends: another zone of the account
        # (name), the same name in another account (account.id), a moved-away one (status)
        zones=[
            zone_of("0f3c0ae1d2b34c5d6e7f8091a2b3c4d5", f"other-{zone}", "active", account),
            zone_of("1e2d3c4b5a6978877665544332211000", zone, "active", OTHER_ACCOUNT),
            zone_of("2b7d5f4e3c2a1908f7e6d5c4b3a29180", zone, "moved", account),
            zone_of(ZONE_ID[stack], zone, "active", account),
        ],
        # decoys first: another tunnel of the account (name), the deleted tunnel this stack's
        # replaced, of the same name and down (is_deleted)
        tunnels=[
            tunnel(OTHER_TUNNEL_ID, f"other-{stack}", "healthy"),
            tunnel(DELETED_TUNNEL_ID, f"homelab-{stack}", "down", deleted=True),
            tunnel(tid, f"homelab-{stack}", "healthy"),
        ],
        connections={
            tid: [
                {
                    "id": f"connector-{i}",
                    "arch": "linux_amd64",
                    "version": "2026.8.2",
                    "run_at": at(-timedelta(hours=5)),
                    "conns": [x for x in conns if x["id"].split("-")[1] == str(i)],
                }
                for i in range(2)
            ]
        },
        records={ZONE_ID[stack]: records},
    )


def dns_answers(exp: Expected) -> dict[str, list[str]]:
    c = exp.config.cluster
    names = [f"external.{c.domain}"] + [
        h for a in exp.config.apps if a.exposure.value != "internal" for h in a.hostnames
    ]
    return {name: list(EDGE) for name in names}


@dataclass
class Homelab:
    api: FakeApi
    dns: DnsStub
    kubeconfig: Path

    def load(self, exp: Expected) -> None:
        """A healthy homelab for ``exp``: every answer reset, every timestamp relative to now."""
        global NOW
        NOW = datetime.now(UTC).replace(microsecond=0)
        self.api.kube = cluster_objects(exp)
        self.api.cloudflare = cloudflare_state(exp)
        self.api.requests.clear()
        self.dns.answers = dns_answers(exp)

    def options(self, **changes: Any) -> Options:
        opts = Options(
            root=ROOT,
            kubeconfig=str(self.kubeconfig),
            env={credentials.TOKEN_ENV: TOKEN},
            nameservers=[("127.0.0.1", self.dns.port)],
            cloudflare_api=f"{self.api.url}/client/v4",
            which=lambda _: None,
            now=lambda: NOW,
        )
        return replace(opts, **changes)

    def run(self, exp: Expected, **changes: Any) -> list[Check]:
        return run(exp, self.options(**changes))


@pytest.fixture(scope="module", autouse=True)
def loopback_only() -> Iterator[list[str]]:
    """Every socket of this module may connect or send to the loopback only (tests/fakes.py)."""
    with fakes.loopback_only() as outside:
        yield outside


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeApi, DnsStub, Path]]:
    api, stub = FakeApi(), DnsStub()
    thread = threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    path = write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", {"main": api.url, "staging": api.url})
    yield api, stub, path
    api.shutdown()
    api.server_close()
    stub.close()


@pytest.fixture
def homelab(servers: tuple[FakeApi, DnsStub, Path], monkeypatch: pytest.MonkeyPatch) -> Homelab:
    fakes.direct_clients(monkeypatch)
    return Homelab(*servers)


def statuses(checks: list[Check]) -> dict[str, Status]:
    return {c.name: c.status for c in checks}


def not_passed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status is not Status.PASS]


# ---------------------------------------------------------------------------------------------
# healthy homelabs: every check PASSes, nothing is written


HEALTHY_NAMES = {
    "main": [
        "cluster main",
        "Cloudflare API",
        "zone example.com",
        "agents",
        "operator",
        "cilium-config",
        "pool main-pool",
        "envoy-external IP",
        "envoy-internal IP",
        "envoy-external L2 lease",
        "envoy-internal L2 lease",
        "kube-dns Service",
        "kube-dns endpoints",
        "Gateway envoy-external",
        "Gateway envoy-internal",
        "HTTPRoute observability/grafana",
        "HTTPRoute home-automation/home-assistant",
        "ClientTrafficPolicy envoy",
        "BackendTrafficPolicy envoy",
        "Certificate wildcard-tls",
        "external-dns-cloudflare",
        "cloudflared",
        "tunnel homelab-main",
        "record external.example.com",
        "resolve external.example.com",
    ],
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_healthy_homelab_passes_every_check(homelab: Homelab, variant: str) -> None:
    exp = expected(variant)
    homelab.load(exp)
    checks = homelab.run(exp)
    assert not_passed(checks) == []
    names = [c.name for c in checks]
    assert len(names) == len(set(names))
    public = [h for a in exp.config.apps if a.exposure.value != "internal" for h in a.hostnames]
    for host in public:  # each public name: its record, its owner, its public answer
        assert {f"record {host}", f"owner {host}", f"resolve {host}"} <= set(names)
    assert len(checks) == 23 + len(exp.config.apps) + 3 * len(public)  # 23 checks + one per route and name
    assert {m for m, _ in homelab.api.requests} == {"GET"}  # read only
    # what the filtered lookups found: the stack's objects, none of the decoys beside them
    seen = {c.name: c.evidence for c in checks}
    net, domain, tid = "10.201" if exp.stack == "main" else "10.202", exp.config.cluster.domain, TUNNEL_ID[exp.stack]
    assert seen["kube-dns endpoints"] == f"2 ready ({net}.0.5, {net}.1.5)"
    assert seen[f"tunnel homelab-{exp.stack}"] == "healthy, 2 cloudflared connected (8 connections), 2 replicas"
    assert seen[f"record external.{domain}"] == f"CNAME to {tid}.cfargotunnel.com, proxied"
    how = "(looked up by name)" if exp.stack == "main" else "(homelab:cluster.cloudflare.zoneId)"
    assert seen[f"zone {domain}"] == f"{ZONE_ID[exp.stack]} {how}"


def test_the_checks_are_the_seed_s_troubleshooting_section_in_its_order(homelab: Homelab) -> None:
    exp = expected("main")
    homelab.load(exp)
    from homelab.doctor.report import GROUPS, ordered

    checks = ordered(homelab.run(exp))
    assert sorted(c.name for c in checks) == sorted(HEALTHY_NAMES["main"])
    groups = [c.group for c in checks]
    assert groups == sorted(groups, key=GROUPS.index)
    assert list(dict.fromkeys(groups)) == list(GROUPS)


def test_what_doctor_expects_comes_from_the_stack_config() -> None:
    """The names and values the program builds, pinned to the seed's, for both stacks."""
    from homelab.doctor.expected import (
        CLOUDFLARED,
        CLOUDFLARED_TOKEN_SECRET,
        TUNNEL_CNAME_SUFFIX,
        lease_name,
        txt_names,
    )

    main, staging = expected("main+public"), expected("staging")
    assert [(g.name, g.address) for g in main.gateways] == [
        ("envoy-external", "10.11.1.22"),
        ("envoy-internal", "10.11.1.21"),
    ]
    assert [(g.name, g.address) for g in staging.gateways] == [
        ("envoy-external", "10.12.1.22"),
        ("envoy-internal", "10.12.1.21"),
    ]
    assert (main.pool, staging.pool, main.coredns_ip) == ("main-pool", "staging-pool", "10.200.0.10")
    assert (main.owner_id, staging.owner_id, main.tunnel_name, main.tunnel_hostname) == (
        "homelab",
        "homelab-staging",
        "homelab-main",
        "external.example.com",
    )
    assert main.public_hostnames == ["blog.example.com", "status.example.com"]
    assert [main.parents(a) for a in main.apps] == [
        ("envoy-internal",),
        ("envoy-internal",),
        ("envoy-external",),
        ("envoy-external", "envoy-internal"),
    ]
    assert lease_name("envoy-external") == "cilium-l2announce-network-envoy-external"
    assert txt_names("blog.example.com") == ("k8s.cname-blog.example.com", "k8s.blog.example.com")
    # the two strings doctor keeps so as not to import pulumi_cloudflare (seconds, and a heap every
    # later garbage collection walks): read from the component's source instead of importing it
    tree = ast.parse((ROOT / "components" / "cloudflare_tunnel.py").read_text())
    consts = {ast.unparse(n.targets[0]): ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)}
    cname = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "cname_target")
    assert (consts["APP"], consts["TOKEN_SECRET"]) == (CLOUDFLARED, CLOUDFLARED_TOKEN_SECRET)
    assert ast.unparse(cname.body[-1]) == f"return f'{{tunnel_id}}{TUNNEL_CNAME_SUFFIX}'"
    # cilium-config as the pinned chart renders it for each stack's values
    for exp in (main, staging):
        rendered = json.loads((FIXTURES / f"cilium-config.{exp.stack}.json").read_text())["data"]
        assert {k: rendered.get(k) for k in exp.cilium_config} == exp.cilium_config
    assert main.cilium_config["datapath-mode"] == "netkit" and staging.cilium_config["cluster-id"] == "2"


# ---------------------------------------------------------------------------------------------
# each failure mode FAILs exactly its check, with its fix


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


#: the fixes doctor prints, written out here (not taken from doctor's helpers)
K = "kubectl --context main"
EXTERNAL_DNS_LOGS = f"{K} -n network logs -l app.kubernetes.io/name=external-dns-cloudflare"
CLOUDFLARED_LOGS = f"{K} -n network logs -l app.kubernetes.io/name=cloudflared"
CERT_FIX = (
    f"{K} -n network describe certificate wildcard-tls; {K} get certificaterequests,orders,challenges -A; "
    f"{K} -n cert-manager logs deploy/cert-manager; the DNS-01 token: Secret cert-manager/cloudflare-api-token"
)
PERMISSIONS_FIX = (
    "the token needs Account / Cloudflare Tunnel / Read, Zone / Zone / Read and Zone / DNS / Read "
    "(the stack's homelab:cloudflareApiToken has them)"
)
GATEWAY_FIX = f"{K} -n network describe gateway {{gw}}; {K} -n network logs deploy/envoy-gateway; {{then}}"
ROUTE_FIX = (
    f"{K} -n {{ns}} describe httproute {{name}}; ResolvedRefs=False: Service {{svc}} must exist "
    f"({K} -n {{ns}} get service {{svc_name}}); Accepted=False: the hostnames must be one label below example.com"
)


def assert_line(check: Check, name: str, status: Status, fix: str, evidence: str = "") -> None:
    """One report line: exactly this check, this status and this fix, its evidence saying ``evidence``."""
    assert (check.name, check.status, check.fix) == (name, status, fix), check
    assert evidence in check.evidence, check


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
        PERMISSIONS_FIX,
        evidence="cannot read it: HTTP 403 (10000: Authentication error)",
        also=tuple(
            Line(name, PERMISSIONS_FIX, "cannot read it: HTTP 403 (10000: Authentication error)")
            for name in (
                "record blog.example.com",
                "owner blog.example.com",
                "record status.example.com",
                "owner status.example.com",
            )
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
    lines = [Line(failure.check, failure.fix, failure.evidence, failure.status), *failure.also]
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


# ---------------------------------------------------------------------------------------------
# what cannot be reached: one clear line each, quickly, never a traceback


def unreachable_cluster_fix(host: str) -> str:
    return (
        f"is the cluster up, {host} reachable from here and the context's credentials valid? "
        "kubectl --context main get --raw /version"
    )


def test_an_unreachable_cluster_is_one_fail_line(homelab: Homelab, tmp_path: Path) -> None:
    exp = expected("main")
    homelab.load(exp)
    host = f"http://127.0.0.1:{closed_port()}"
    config = write_kubeconfig(tmp_path / "config", {"main": host})
    start = time.monotonic()
    checks = homelab.run(exp, kubeconfig=str(config))
    assert time.monotonic() - start < 10
    cluster = [c for c in checks if c.group not in ("Access", "Public DNS", "external-dns", "Cloudflare Tunnel")]
    assert cluster == []  # every cluster check skipped
    [line] = not_passed(checks)
    assert_line(line, "cluster main", Status.FAIL, unreachable_cluster_fix(host), "Connection refused")
    assert line.evidence.endswith("; cluster checks skipped")


def test_a_cluster_that_never_answers_is_bounded(
    homelab: Homelab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts and never answers: the read timeout ends it (3 + 5 s at most for real)."""
    assert sum(kube.TIMEOUT) < 10
    monkeypatch.setattr(kube, "TIMEOUT", (0.2, 0.2))
    exp = expected("main")
    homelab.load(exp)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        config = write_kubeconfig(tmp_path / "config", {"main": host})
        start = time.monotonic()
        checks = homelab.run(exp, kubeconfig=str(config))
        assert time.monotonic() - start < 3
    [line] = not_passed(checks)
    assert_line(line, "cluster main", Status.FAIL, unreachable_cluster_fix(host), "timed out")


def test_a_missing_context_or_kubeconfig_is_one_fail_line(homelab: Homelab, tmp_path: Path) -> None:
    exp = expected("staging")
    homelab.load(exp)
    only_main = write_kubeconfig(tmp_path / "config", {"main": homelab.api.url})
    for path, says in ((only_main, "no context 'staging'"), (tmp_path / "absent", "no kubeconfig at")):
        checks = homelab.run(exp, kubeconfig=str(path))
        [line] = not_passed(checks)
        fix = (
            "homelab:cluster.kubeContext is 'staging': add that context to the kubeconfig, "
            "or point KUBECONFIG at the file that has it"
        )
        assert_line(line, "cluster staging", Status.FAIL, fix, says)
    assert "contexts there: main" in homelab.run(exp, kubeconfig=str(only_main))[0].evidence


TUNNELS = "/accounts/0123456789abcdef0123456789abcdef/cfd_tunnel"
TOKEN_FIX = (
    "export CLOUDFLARE_API_TOKEN=<the stack's homelab:cloudflareApiToken> (doctor only reads), or install the "
    "Pulumi CLI, log in and export PULUMI_CONFIG_PASSPHRASE: doctor runs "
    "`pulumi config get --stack main homelab:cloudflareApiToken`"
)


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("wrong token", "rejected by Cloudflare: HTTP 401 (1000: Invalid API Token)"),
        ("malformed token", "rejected by Cloudflare: HTTP 400 (6003: Invalid request headers)"),
        ("no access to the account", "refused on account 0123456789abcdef0123456789abcdef: HTTP 403"),
    ],
)
def test_a_rejected_token_is_one_fail_line_and_never_shown(homelab: Homelab, how: str, says: str) -> None:
    exp = expected("main+public")
    homelab.load(exp)
    if how == "wrong token":
        homelab.api.cloudflare.token = "another-token-altogether-0123456789abcdef"
    elif how == "malformed token":
        homelab.api.cloudflare.errors[TUNNELS] = (400, "Invalid request headers", 6003)
    else:
        homelab.api.cloudflare.errors[TUNNELS] = (403, "Authentication error")
    checks = homelab.run(exp)
    cloudflare = [c for c in checks if c.group in ("Cloudflare Tunnel", "external-dns") and c.name != "cloudflared"]
    assert [c.name for c in cloudflare] == ["external-dns-cloudflare"]  # the cluster's own checks stay
    [line] = not_passed(checks)
    fix = (
        "the token is wrong, expired or revoked, or lacks Account / Cloudflare Tunnel / Read on the account: "
        f'create one (README "Secrets") and give it again; {TOKEN_FIX}'
    )
    assert_line(line, "Cloudflare API", Status.FAIL, fix, f"token from $CLOUDFLARE_API_TOKEN {says}")
    assert line.evidence.endswith("; Cloudflare checks skipped")
    assert TOKEN not in json.dumps([c.__dict__ for c in checks], default=str)


def test_an_error_that_echoes_the_token_is_masked(homelab: Homelab) -> None:
    exp = expected("main+public")
    homelab.load(exp)
    homelab.api.cloudflare.errors[f"/zones/{ZONE_ID['main']}/dns_records"] = (500, f"bad header Bearer {TOKEN}")
    checks = homelab.run(exp)
    text = json.dumps([c.__dict__ for c in checks], default=str)
    assert TOKEN not in text and "Bearer [secret]" in text
    line = next(c for c in checks if c.name == "record external.example.com")
    evidence = "cannot read it: HTTP 500 (10000: bad header Bearer [secret])"
    assert_line(line, "record external.example.com", Status.FAIL, "retry; https://www.cloudflarestatus.com", evidence)


@pytest.mark.parametrize(("status", "message"), [(500, "Internal Server Error"), (503, "Service Unavailable")])
def test_a_cloudflare_api_answering_5xx_is_one_fail_line(homelab: Homelab, status: int, message: str) -> None:
    """A server error to the first call says nothing of the token: never "accepted", nothing else asked."""
    exp = expected("main+public")
    homelab.load(exp)
    homelab.api.cloudflare.errors[TUNNELS] = (status, message)
    checks = homelab.run(exp)
    [line] = not_passed(checks)
    fix = "a fault at Cloudflare: retry later; https://www.cloudflarestatus.com"
    assert_line(line, "Cloudflare API", Status.FAIL, fix)
    assert line.evidence == (
        f"Cloudflare API answered HTTP {status} (10000: {message}); token from $CLOUDFLARE_API_TOKEN not checked; "
        "Cloudflare checks skipped"
    )
    cloudflare = [
        c.name for c in checks if c.group in ("Cloudflare Tunnel", "external-dns") or c.name.startswith("zone")
    ]
    assert cloudflare == ["external-dns-cloudflare", "cloudflared"]  # the cluster's own checks stay
    asked = [urlsplit(path).path for _, path in homelab.api.requests if path.startswith("/client/v4/")]
    assert asked == [f"/client/v4{TUNNELS}"]  # the first call only


def test_an_unreachable_cloudflare_api_is_one_fail_line(homelab: Homelab) -> None:
    exp = expected("main+public")
    homelab.load(exp)
    url = f"http://127.0.0.1:{closed_port()}/client/v4"
    checks = homelab.run(exp, cloudflare_api=url)
    [line] = not_passed(checks)
    fix = "is api.cloudflare.com reachable from here (HTTPS proxy?); $HOMELAB_CLOUDFLARE_API overrides the URL"
    assert_line(line, "Cloudflare API", Status.FAIL, fix, f"no answer from {url}")
    assert line.evidence.endswith("; Cloudflare checks skipped")


def test_without_a_token_cloudflare_is_skipped_with_a_warning(homelab: Homelab) -> None:
    exp = expected("main")
    homelab.load(exp)
    checks = homelab.run(exp, env={})
    [line] = not_passed(checks)
    evidence = "no $CLOUDFLARE_API_TOKEN, and no pulumi CLI on PATH to read homelab:cloudflareApiToken"
    assert_line(line, "Cloudflare API", Status.WARN, TOKEN_FIX, f"{evidence}: Cloudflare checks skipped")
    assert not any(c.group == "Cloudflare Tunnel" and c.name != "cloudflared" for c in checks)


def test_the_token_comes_from_the_environment_or_the_pulumi_cli(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def pulumi(answer: str, code: int = 0, err: str = "") -> Callable[..., subprocess.CompletedProcess[str]]:
        def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
            calls.append(args)
            assert kwargs["cwd"] == tmp_path and kwargs["timeout"] <= 5
            return subprocess.CompletedProcess(args, code, answer, err)

        return run

    def which(_: str) -> str:
        return "/usr/bin/pulumi"

    env = credentials.find_token("main", tmp_path, {"CLOUDFLARE_API_TOKEN": f" {TOKEN}\n"}, which, pulumi("x"))
    assert (env.value, env.source, calls) == (TOKEN, "$CLOUDFLARE_API_TOKEN", [])
    got = credentials.find_token("main", tmp_path, {}, which, pulumi(f"{TOKEN}\n"))
    assert (got.value, got.source) == (TOKEN, "pulumi config of stack main")
    assert calls == [["/usr/bin/pulumi", "config", "get", "--stack", "main", "homelab:cloudflareApiToken"]]
    locked = credentials.find_token("main", tmp_path, {}, which, pulumi("", 255, "error: passphrase must be set"))
    assert locked.value is None and "passphrase must be set" in locked.source
    assert credentials.find_token("main", tmp_path, {}, lambda _: None).value is None


def test_an_unexpected_answer_is_one_fail_line_not_a_traceback(
    homelab: Homelab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homelab.doctor import runner

    exp = expected("main")
    homelab.load(exp)
    _path("/gateways/envoy-internal")(homelab)["status"]["addresses"] = ["10.11.1.21"]  # not objects
    checks = homelab.run(exp)
    [line] = not_passed(checks)
    fix = (
        "a version of the object doctor does not know: compare it with `kubectl get -o yaml`; "
        "re-run with --debug for the traceback"
    )
    assert_line(line, "Gateway envoy-internal", Status.FAIL, fix, "doctor cannot read the object: ")

    def broken(*_: Any) -> list[Check]:
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "public_part", broken)
    checks = homelab.run(exp)
    assert [c.name for c in not_passed(checks)] == ["Gateway envoy-internal", "public DNS"]
    line = not_passed(checks)[1]
    fix = "a bug in doctor or an answer it does not understand: re-run with --debug for the traceback"
    assert_line(line, "public DNS", Status.FAIL, fix, "doctor stopped: RuntimeError: boom")
    with pytest.raises(RuntimeError):
        homelab.run(exp, debug=True)


# ---------------------------------------------------------------------------------------------
# the command: table, JSON, exit codes, bad input


@pytest.fixture
def cli_env(homelab: Homelab, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str, str]]:
    monkeypatch.setenv("KUBECONFIG", str(homelab.kubeconfig))
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("HOMELAB_CLOUDFLARE_API", f"{homelab.api.url}/client/v4")

    def doctor(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main([*args, "--nameserver", f"127.0.0.1:{homelab.dns.port}"])
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err and TOKEN not in out.out + out.err
        return code, out.out, out.err

    return doctor


def test_the_command_prints_the_table_and_exits_0_when_nothing_fails(
    homelab: Homelab, cli_env: Callable[..., tuple[int, str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    homelab.load(expected("main"))
    code, out, _ = cli_env("--stack", "main", capsys=capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "homelab doctor: stack main (context main, domain example.com, zone example.com)"
    for group in (
        "Access",
        "Cilium",
        "LB-IPAM and L2",
        "Cluster DNS",
        "Gateways and routes",
        "Traffic policies",
        "Certificates",
        "external-dns",
        "Cloudflare Tunnel",
        "Public DNS",
    ):
        assert group in lines
    assert any(ln.split()[:3] == ["PASS", "Gateway", "envoy-external"] for ln in lines)
    assert lines[-1] == "25 checks: 25 PASS, 0 WARN, 0 FAIL"

    _gateway_not_programmed(homelab)
    code, out, _ = cli_env("--stack", "main", capsys=capsys)
    assert code == 1
    lines = out.splitlines()
    [fail] = [i for i, ln in enumerate(lines) if ln.strip().startswith("FAIL")]
    assert lines[fail].split()[:3] == ["FAIL", "Gateway", "envoy-external"]
    fix = GATEWAY_FIX.format(gw="envoy-external", then="its Service must have 10.11.1.22 (LB-IPAM above)")
    assert lines[fail + 1].strip() == f"fix: {fix}"
    assert lines[-1] == "25 checks: 24 PASS, 0 WARN, 1 FAIL"


def test_json_output_for_scripts(
    homelab: Homelab, cli_env: Callable[..., tuple[int, str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    homelab.load(expected("staging"))
    _certificate_expiring(homelab)
    code, out, _ = cli_env("--stack", "staging", "--json", capsys=capsys)
    rows = json.loads(out)
    assert code == 0  # a WARN does not fail
    assert all(list(row) == ["group", "check", "status", "evidence", "fix"] for row in rows)
    warn = [row for row in rows if row["status"] != "PASS"]
    assert [(r["group"], r["check"], r["status"]) for r in warn] == [
        ("Certificates", "Certificate wildcard-tls", "WARN")
    ]
    assert warn[0]["fix"] == f"renewal is failing: {CERT_FIX}".replace("--context main", "--context staging")
    assert {r["fix"] for r in rows if r["status"] == "PASS"} == {None}
    assert rows[0] == {
        "group": "Access",
        "check": "cluster staging",
        "status": "PASS",
        "evidence": f"{homelab.api.url}, Kubernetes v1.35.0",
        "fix": None,
    }


def test_bad_input_exits_2_with_the_program_s_message(
    homelab: Homelab,
    cli_env: Callable[..., tuple[int, str, str]],
    capsys: pytest.CaptureFixture[str],
    project: Project,
) -> None:
    homelab.api.requests.clear()
    project.change("staging", lambda cfg: cfg["homelab:cluster"]["gateways"].update(internal="10.12.300.1"))
    cases = [
        (["--stack", "prod"], "no stack file Pulumi.prod.yaml"),
        (["--stack", "../main"], "is not a stack name"),
        (["--stack", "staging", "--root", str(project.root)], "homelab:cluster.gateways.internal"),
        (["--stack", "main", "--root", str(project.root / "nowhere")], "no Pulumi.yaml"),
    ]
    for args, says in cases:
        code, out, err = cli_env(*args, capsys=capsys)
        assert (code, out) == (2, ""), err
        assert err.startswith("error: ") and says in err, err
    capsys.readouterr()
    assert cli.main(["--stack", "main", "--nameserver", "dns.google"]) == 2
    assert "--nameserver" in capsys.readouterr().err
    assert homelab.api.requests == []  # bad input reaches nothing


def test_a_changed_stack_file_is_what_doctor_checks(
    homelab: Homelab,
    cli_env: Callable[..., tuple[int, str, str]],
    capsys: pytest.CaptureFixture[str],
    project: Project,
) -> None:
    """doctor reads the stack file it is pointed at: here main with a public app added."""
    project.change("main", lambda cfg: cfg["homelab:apps"].extend(PUBLIC_APPS["main"]))
    homelab.load(expected("main+public"))
    code, out, _ = cli_env("--stack", "main", "--root", str(project.root), capsys=capsys)
    assert code == 0, out
    assert "PASS  owner blog.example.com" in out and out.splitlines()[-1] == "33 checks: 33 PASS, 0 WARN, 0 FAIL"


# ---------------------------------------------------------------------------------------------
# --probe: one HTTPS GET through each public name


@pytest.fixture(scope="module")
def tls_server() -> Iterator[int]:
    class Hello(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def version_string(self) -> str:
            return "cloudflare"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(FIXTURES / "probe-server.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_probe_reports_status_and_issuer(tls_server: int) -> None:
    trusted = ssl.create_default_context(cafile=str(FIXTURES / "probe-ca.pem"))
    exp = expected("main+public")

    def at_local(host: str, context: ssl.SSLContext = trusted) -> checks_dns.Probe:
        return checks_dns.probe(host, port=tls_server, connect_to="127.0.0.1", context=context, timeout=2)

    ok = at_local("app.doctor.test")
    assert ok == checks_dns.Probe(200, "Doctor Test CA (Doctor Test Root)", "cloudflare")
    assert checks_dns.check_probe(exp, "app.doctor.test", ok).status is Status.PASS
    untrusted = at_local("app.doctor.test", ssl.create_default_context())
    assert "certificate not trusted" in untrusted.error
    wrong_name = at_local("other.doctor.test")
    assert "certificate not trusted" in wrong_name.error and "other.doctor.test" in wrong_name.error
    refused = checks_dns.probe("app.doctor.test", port=closed_port(), connect_to="127.0.0.1", timeout=2)
    assert "ConnectionRefusedError" in refused.error
    assert_line(
        checks_dns.check_probe(exp, "app.doctor.test", refused),
        "probe app.doctor.test",
        Status.FAIL,
        "see the checks above for this name",
        "https://app.doctor.test/: ConnectionRefusedError",
    )
    assert_line(
        checks_dns.check_probe(exp, "x", checks_dns.Probe(530, "Google Trust Services (WE1)")),
        "probe x",
        Status.FAIL,
        "Cloudflare reached no origin: the tunnel (Cloudflare Tunnel above), or cloudflared cannot reach "
        "envoy-external or verify its certificate for external.example.com",
        "HTTP 530, certificate from Google Trust Services (WE1)",
    )
    assert_line(
        checks_dns.check_probe(exp, "x", checks_dns.Probe(404, "CA")),
        "probe x",
        Status.FAIL,
        "no route answers x: its HTTPRoute must be Accepted on envoy-external",
        "HTTP 404",
    )


def test_the_probe_option_probes_each_public_name(homelab: Homelab, tls_server: int) -> None:
    exp = expected("main+public")
    homelab.load(exp)
    trusted = ssl.create_default_context(cafile=str(FIXTURES / "probe-ca.pem"))
    seen: list[str] = []

    def prober(host: str) -> checks_dns.Probe:  # every public name, answered by the local server
        seen.append(host)
        return checks_dns.probe("app.doctor.test", port=tls_server, connect_to="127.0.0.1", context=trusted)

    checks = homelab.run(exp, probe=True, prober=prober)
    assert seen == ["blog.example.com", "status.example.com"]
    probes = [c for c in checks if c.name.startswith("probe ")]
    assert [(c.name, c.status) for c in probes] == [
        ("probe blog.example.com", Status.PASS),
        ("probe status.example.com", Status.PASS),
    ]
    assert probes[0].evidence == "HTTP 200, certificate from Doctor Test CA (Doctor Test Root), server cloudflare"
    assert [c.name for c in homelab.run(expected("main"), probe=True, prober=prober) if c.name.startswith("probe")] == [
        "probe"
    ]


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
    from homelab.doctor import checks_cloudflare, checks_cluster, checks_gateway

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
    extra = [*cf.connections[tid], {**cf.connections[tid][0], "id": "connector-9"}]
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
    from homelab.doctor.report import redact

    check = Check("Access", "cluster main", Status.FAIL, "context main: proxy refused x-token-abcdefgh", "fix it")
    (shown,) = redact([check], ["x", "abcdefgh"])
    assert (shown.evidence, shown.fix) == ("context main: proxy refused x-token-[secret]", "fix it")
