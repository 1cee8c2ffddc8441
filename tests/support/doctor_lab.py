"""doctor against a fake homelab: the real clients, a real HTTP server, a real DNS responder.

Nothing here leaves the loopback. One threaded HTTP server on 127.0.0.1 answers the Kubernetes
API paths doctor reads (through the official ``kubernetes`` client and a kubeconfig pointing at
it, contexts ``main`` and ``staging``) and the Cloudflare API paths (through the official SDK,
its base URL overridden); a UDP responder on 127.0.0.1 answers public DNS. The objects are what a
healthy cluster and account answer for each stack's config (``cilium-config`` is the ConfigMap
the pinned chart renders for it, recorded in ``tests/doctor_fixtures/``); each failure mode changes one
object and must FAIL exactly its check, with its fix. Lists answer only what the query's filters
select (``labelSelector``/``fieldSelector``; Cloudflare's ``name``, ``status``, ``account.id``,
``is_deleted``, ``name.exact``, ``type``), and the healthy objects sit beside decoys that only those
filters keep out (another Service's EndpointSlices, a deleted tunnel of the same name, zones of the
same name elsewhere, another name's records): a filter doctor stops sending fails a test.

The lab the ``tests/doctor/test_doctor_*.py`` modules share: the healthy objects, the servers, the
fixes doctor prints.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from homelab.config import policy
from homelab.config.cross_stack import homelab_values
from homelab.config.reader import read_stack_file
from homelab.doctor import credentials
from homelab.doctor.expected import Expected
from homelab.doctor.report import Check, Status
from homelab.doctor.runner import Options, run
from tests.support import fakes
from tests.support.fakes import (
    TOKEN,
    CloudflareState,
    DnsStub,
    FakeApi,
    write_kubeconfig,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parents[1] / "doctor_fixtures"
#: The homelab's "now": set when a fake homelab is loaded, so its timestamps (lease renewals,
#: certificate dates) are fresh for in-process runs (which read it) and CLI runs (the real clock).
NOW = datetime.now(UTC).replace(microsecond=0)
NET = {"main": "10.11", "staging": "10.12"}
ZONE_ID = {"main": "023e105f4ecef8ad9ca31a8372d0c353", "staging": "9a7806061c88ada191ed06f989cc3dac"}
TUNNEL_ID = {"main": "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415", "staging": "5b1e3d2c-7c43-4e5a-9b0e-0d6a1c2f3e4d"}
ACCOUNT = "0123456789abcdef0123456789abcdef"  # both stack files' cloudflare.accountId
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


def cond(
    kind: str, status: str = "True", reason: str = "", message: str = "", generation: int | None = 1
) -> dict[str, Any]:
    """A status condition: metav1.Condition's fields (type, status, observedGeneration,
    lastTransitionTime, reason, message: ../shared/schemas/gateway.networking.k8s.io/gateway_v1.json
    and the other CRDs' ``status.conditions``), set for ``generation`` of the object (every object
    here is at ``metadata.generation`` 1); ``generation=None`` for the kinds whose conditions have
    no such field (apps/v1 DeploymentCondition)."""
    out: dict[str, Any] = {"type": kind, "status": status}
    if generation is not None:
        out["observedGeneration"] = generation
    return {**out, "lastTransitionTime": at(-timedelta(days=3)), "reason": reason or kind, "message": message}


def meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    out = {
        "name": name,
        "uid": f"uid-{name}",
        "resourceVersion": "1",
        "generation": 1,
        "creationTimestamp": at(-timedelta(days=30)),
    }
    return out if namespace is None else {**out, "namespace": namespace}


def deployment(name: str, namespace: str, replicas: int) -> dict[str, Any]:
    available = {**cond("Available", reason="MinimumReplicasAvailable", generation=None), "lastUpdateTime": at()}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, namespace),
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "updatedReplicas": replicas,
            "conditions": [available],
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
                "observedGeneration": 1,
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
        "id": uuid.uuid5(uuid.NAMESPACE_DNS, f"{kind} {name}").hex,  # 32 hex digits, as the API's ids
        "type": kind,
        "name": name,
        "content": content,
        "proxied": proxied,
        "proxiable": kind != "TXT",
        "ttl": 1,
        "created_on": at(-timedelta(days=9)),
        "modified_on": at(-timedelta(days=9)),
    }


def uid(*parts: object) -> str:
    """A UUID, the same for the same parts (the API's ids of connectors and connections are UUIDs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def connector(tunnel_id: str, i: int) -> dict[str, Any]:
    """One cloudflared as ``GET .../cfd_tunnel/{id}/connections`` lists it: its four connections
    to two colos each (cloudflared's ``ha-connections`` flag defaults to 4: cloudflare/cloudflared
    ``cmd/cloudflared/tunnel/cmd.go``), the fields and types of
    cloudflare-python 5.9's ``Client`` and ``Conn`` (``types/zero_trust/tunnels/cloudflared/
    client.py``, generated from the API's OpenAPI schema): ids are UUIDs, times RFC 3339."""
    client_id = uid(tunnel_id, "connector", i)
    conns = [
        {
            "id": (conn_id := uid(tunnel_id, "connection", i, colo)),
            "client_id": client_id,
            "client_version": "2026.8.2",
            "colo_name": colo,
            "is_pending_reconnect": False,
            "opened_at": at(-timedelta(hours=5)),
            "origin_ip": f"198.51.100.{7 + i}",
            "uuid": conn_id,
        }
        for colo in ("fra08", "ams01", "fra15", "ams04")
    ]
    return {
        "id": client_id,
        "arch": "linux_amd64",
        "config_version": 3,
        # cloudflared's default feature set (cloudflare/cloudflared features/features.go, defaultFeatures)
        "features": [
            "allow_remote_config",
            "serialized_headers",
            "support_datagram_v2",
            "support_quic_eof",
            "management_logs",
        ],
        "run_at": at(-timedelta(hours=5)),
        "version": "2026.8.2",
        "conns": conns,
    }


def cloudflare_state(exp: Expected) -> CloudflareState:
    stack, c = exp.stack, exp.config.cluster
    tid = TUNNEL_ID[stack]
    account = c.cloudflare.account_id
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
        connections={tid: [connector(tid, i) for i in range(2)]},
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
    """Every socket of this module may connect or send to the loopback only (tests/support/fakes.py)."""
    with fakes.loopback_only() as outside:
        yield outside


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeApi, DnsStub, Path]]:
    with contextlib.closing(DnsStub()) as stub, fakes.serving(FakeApi()) as api:
        path = write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", {"main": api.url, "staging": api.url})
        yield api, stub, path


@pytest.fixture
def homelab(servers: tuple[FakeApi, DnsStub, Path], monkeypatch: pytest.MonkeyPatch) -> Homelab:
    fakes.direct_clients(monkeypatch)
    return Homelab(*servers)


def statuses(checks: list[Check]) -> dict[str, Status]:
    return {c.name: c.status for c in checks}


def not_passed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status is not Status.PASS]


#: the fixes doctor prints, written out here (not taken from doctor's helpers)
K = "kubectl --context main"
EXTERNAL_DNS_LOGS = f"{K} -n network logs -l app.kubernetes.io/name=external-dns-cloudflare"
CLOUDFLARED_LOGS = f"{K} -n network logs -l app.kubernetes.io/name=cloudflared"
CERT_FIX = (
    f"{K} -n network describe certificate wildcard-tls; {K} get certificaterequests,orders,challenges -A; "
    f"{K} -n cert-manager logs deploy/cert-manager; the DNS-01 token: Secret cert-manager/cloudflare-api-token"
)


def permission_fix(permission: str) -> str:
    """What doctor says of a call refused with 403: the one permission it needs."""
    return (
        f'the token needs {permission} (the stack\'s homelab:cloudflareApiToken, made as README "Secrets" says, has it)'
    )


DNS_READ_FIX = permission_fix("Zone / DNS / Read on zone example.com")
TUNNEL_READ_FIX = permission_fix(f"Account / Cloudflare Tunnel / Read on account {ACCOUNT}")
GATEWAY_FIX = f"{K} -n network describe gateway {{gw}}; {K} -n network logs deploy/envoy-gateway; {{then}}"
ROUTE_FIX = (
    f"{K} -n {{ns}} describe httproute {{name}}; ResolvedRefs=False: Service {{svc}} must exist "
    f"({K} -n {{ns}} get service {{svc_name}}); Accepted=False: the hostnames must be one label below example.com"
)


def assert_line(check: Check, name: str, status: Status, fix: str, evidence: str = "") -> None:
    """One report line: exactly this check, this status and this fix, its evidence saying ``evidence``."""
    assert (check.name, check.status, check.fix) == (name, status, fix), check
    assert evidence in check.evidence, check
