"""doctor against a fake homelab (tests/support/doctor_lab.py): healthy homelabs, every check PASSes,
nothing is written.
"""

from __future__ import annotations

import ast
import json

import pytest

from homelab.doctor.expected import TUNNEL_CNAME_SUFFIX, lease_name, txt_names
from homelab.doctor.report import GROUPS, ordered
from tests.support import doctor_lab
from tests.support.doctor_lab import (
    FIXTURES,
    ROOT,
    TUNNEL_ID,
    VARIANTS,
    ZONE_ID,
    Homelab,
    expected,
    not_passed,
)

# the shared fixtures (tests/support/doctor_lab.py): pytest finds them under these names
loopback_only = doctor_lab.loopback_only
servers = doctor_lab.servers
homelab = doctor_lab.homelab


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
    checks = ordered(homelab.run(exp))
    assert sorted(c.name for c in checks) == sorted(HEALTHY_NAMES["main"])
    groups = [c.group for c in checks]
    assert groups == sorted(groups, key=GROUPS.index)
    assert list(dict.fromkeys(groups)) == list(GROUPS)


def test_what_doctor_expects_comes_from_the_stack_config() -> None:
    """The names and values the program builds, pinned to the seed's, for both stacks."""
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
    # the string doctor keeps so as not to import pulumi_cloudflare (seconds, and a heap every
    # later garbage collection walks): read from the component's source instead of importing it
    tree = ast.parse((ROOT / "components" / "cloudflare_tunnel.py").read_text())
    cname = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "cname_target")
    assert ast.unparse(cname.body[-1]) == f"return f'{{tunnel_id}}{TUNNEL_CNAME_SUFFIX}'"
    # cilium-config as the pinned chart renders it for each stack's values
    for exp in (main, staging):
        rendered = json.loads((FIXTURES / f"cilium-config.{exp.stack}.json").read_text())["data"]
        assert {k: rendered.get(k) for k in exp.cilium_config} == exp.cilium_config
    assert main.cilium_config["datapath-mode"] == "netkit" and staging.cilium_config["cluster-id"] == "2"
