"""``homelab adopt`` against the loopback fakes: Flux's homelab as users have it (a release under
another name, half of it running), bad input (the wrong account, two records for one name, a
read refused), and the judgements themselves (Helm's storage read back, a locally managed tunnel,
what the first up changes), each line stated in full.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from homelab.adopt.changes import AT_UP, Known, field_changes, value_changes
from homelab.adopt.cloudflare import judge_config, judge_tunnel
from homelab.adopt.findings import State, importable
from homelab.adopt.releases import ReleaseError, Revision, Stored, decode_release, judge
from homelab.config.imports import Entry
from homelab.doctor.checks_preflight import OBJECTS
from homelab.doctor.expected import Expected, load
from homelab.doctor.preflight_plan import CloudflareTarget, HelmTarget
from tests.support import adopt_support, preflight_support
from tests.support.adopt_support import (
    DNS_TOKEN,
    Adopt,
    Run,
    helm_release,
    install,
    record,
    release_secret,
    tunnel,
)
from tests.support.preflight_support import ACCOUNT, ROOT, TUNNEL_ID, TUNNELS, ZONE_ID

# the shared fixtures: pytest finds them under these names (module-scoped: one server per module)
loopback_only = preflight_support.loopback_only
server = adopt_support.server
adopt = adopt_support.adopt

ADOPTING = 'DESIGN.md "Adopting a running homelab"'
KUSTOMIZATION = "Flux Kustomization flux-system/cluster-apps"
Row = tuple[str, str, str, str | None]


def rows(out: str) -> tuple[list[Row], dict[str, Any]]:
    found = json.loads(out)
    return [(r["check"], r["status"], r["evidence"], r["fix"]) for r in found["checks"]], found["import_plan"]


def failing(out: str) -> list[Row]:
    return [row for row in rows(out)[0] if row[1] == "FAIL"]


def releases(lab: Adopt) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    kube = lab.api.kube
    return kube["/api/v1/secrets"]["items"], kube["/apis/helm.toolkit.fluxcd.io/v2/helmreleases"]["items"]


# ---------------------------------------------------------------------------------------------
# Flux's homelab as users have it


def test_external_dns_under_flux_s_name_is_not_adoptable_and_the_rest_is(adopt: tuple[Adopt, Run]) -> None:
    lab, run = adopt
    secrets, flux = releases(lab)
    values = {"provider": {"name": "cloudflare"}, "policy": "sync", "txtOwnerId": "default"}
    moved = [s for s in secrets if s["metadata"]["labels"]["name"] == "external-dns-cloudflare"]
    for s in moved:
        del lab.api.kube[f"/api/v1/namespaces/network/secrets/{s['metadata']['name']}"]
    install(
        lab.api.kube,
        [s for s in secrets if s not in moved]
        + [release_secret("cloudflare-dns", "network", "external-dns", "1.15.2", values, 3, "deployed")],
        [r for r in flux if r["metadata"]["name"] != "external-dns-cloudflare"]
        + [helm_release("cloudflare-dns", "network", "external-dns")],
    )
    code, out, _ = run("--stack", "main", "--json")
    assert code == 1
    assert failing(out) == [
        (
            "Helm release network/external-dns-cloudflare",
            "FAIL",
            "not adoptable as is: chart external-dns 1.15.2 runs as Helm release network/cloudflare-dns "
            "(Flux HelmRelease network/cloudflare-dns); the program installs it as network/external-dns-cloudflare, "
            "and Helm cannot rename a release",
            f"an import under another name or namespace is a replace: uninstall + install ({ADOPTING}). Uninstall "
            "it before `pulumi up`, knowing that what it runs stops until up has installed external-dns-cloudflare: "
            "flux --context main suspend helmrelease cloudflare-dns -n network; "
            "helm --kube-context main -n network uninstall cloudflare-dns; then run adopt again "
            "(up installs network/external-dns-cloudflare)",
        )
    ]
    _, plan = rows(out)
    assert (plan["written"], len(plan["imports"])) == (True, 28)
    assert "external-dns-release" not in {e["resource"] for e in plan["imports"]}
    assert plan["message"][-1] == (
        "  5. 1 resource is not adoptable as is (FAIL above): do what each says before `pulumi up`, then run "
        "adopt again"
    )


def test_a_chart_that_runs_as_two_releases_gets_no_uninstall_command(adopt: tuple[Adopt, Run]) -> None:
    """Found by review: which of them the program replaces is the user's call."""
    lab, run = adopt
    secrets, flux = releases(lab)
    values = {"provider": {"name": "cloudflare"}}
    moved = [s for s in secrets if s["metadata"]["labels"]["name"] == "external-dns-cloudflare"]
    for s in moved:
        del lab.api.kube[f"/api/v1/namespaces/network/secrets/{s['metadata']['name']}"]
    install(
        lab.api.kube,
        [s for s in secrets if s not in moved]
        + [
            release_secret("cloudflare-dns", "network", "external-dns", "1.15.2", values, 3, "deployed"),
            release_secret("pihole-dns", "network", "external-dns", "1.15.2", values, 1, "deployed"),
        ],
        [r for r in flux if r["metadata"]["name"] != "external-dns-cloudflare"],
    )
    code, out, _ = run("--stack", "main", "--json")
    assert code == 1
    assert failing(out) == [
        (
            "Helm release network/external-dns-cloudflare",
            "FAIL",
            "not adoptable as is: chart external-dns runs as 2 Helm releases (network/cloudflare-dns, "
            "network/pihole-dns); the program installs it as network/external-dns-cloudflare, and Helm cannot rename "
            "a release",
            f"an import under another name or namespace is a replace: uninstall + install ({ADOPTING}). Decide which "
            "of them external-dns-cloudflare replaces, uninstall that one before `pulumi up` (what it runs stops "
            "until up has installed external-dns-cloudflare), then run adopt again",
        )
    ]


HALF_EMPTY_PLAN = """\
# Written by `homelab adopt --stack main`: the resources the next `pulumi up` imports instead of
# creating (README "Adopting a running homelab"). Review it, commit it, check it with
# `make plan STACK=main` and `pulumi preview --stack main`, then `pulumi up`. Once that update has
# run, delete this file: the imported resources are in the stack's state.
stack: main
imports:
  - resource: cilium-release
    type: kubernetes:helm.sh/v3:Release
    id: kube-system/cilium
  - resource: coredns-release
    type: kubernetes:helm.sh/v3:Release
    id: kube-system/coredns
  - resource: cilium-l2-policy
    type: kubernetes:cilium.io/v2alpha1:CiliumL2AnnouncementPolicy
    id: l2-policy
  - resource: cilium-pool
    type: kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool
    id: main-pool
"""


def test_a_half_empty_homelab_imports_what_runs(adopt: tuple[Adopt, Run]) -> None:
    """Cilium and CoreDNS run (Flux), nothing else; no tunnel nor record at Cloudflare."""
    lab, run = adopt
    secrets, flux = releases(lab)
    for prefix in ("/api/v1/namespaces/", "/apis/gateway", "/apis/cert-manager.io", "/apis/apiextensions", "/apis/app"):
        lab.drop(prefix)
    lab.drop("/apis/policy")
    install(
        lab.api.kube,
        [s for s in secrets if s["metadata"]["namespace"] == "kube-system"],
        [r for r in flux if r["metadata"]["namespace"] == "kube-system"],
    )
    lab.api.kube["/api/v1/namespaces/kube-system/configmaps/cilium-config"] = {
        "kind": "ConfigMap",
        "metadata": {"name": "cilium-config", "namespace": "kube-system"},
        "data": {"cluster-name": "main", "cluster-id": "1"},
    }
    lab.api.cloudflare.tunnels, lab.api.cloudflare.records = [], {}
    code, out, _ = run("--stack", "main", "--json")
    found, plan = rows(out)
    assert code == 0
    adopted = {(c, s, e) for c, s, e, _ in found if not e.startswith("absent: ") and c.startswith(("Helm", "Cilium"))}
    assert adopted == {
        (
            "Helm release kube-system/cilium",
            "WARN",
            "importable as kube-system/cilium: revision 2 deployed, chart cilium 1.19.1, Flux HelmRelease "
            "kube-system/cilium; the first up changes 3 fields (below)",
        ),
        (
            "Helm release kube-system/coredns",
            "PASS",
            "importable as kube-system/coredns: revision 2 deployed, chart coredns 1.46.2, Flux HelmRelease "
            "kube-system/coredns",
        ),
        (
            "CiliumL2AnnouncementPolicy l2-policy",
            "PASS",
            "importable as l2-policy: Flux Kustomization flux-system/cluster-apps",
        ),
        (
            "CiliumLoadBalancerIPPool main-pool",
            "PASS",
            "importable as main-pool: Flux Kustomization flux-system/cluster-apps",
        ),
    }
    absent = {c: e for c, _, e, _ in found if e.startswith("absent: ")}
    assert len(absent) == 28 and {s for _, s, e, _ in found if e.startswith("absent: ")} == {"PASS"}
    assert {c: absent[c] for c in list(absent)[:2] + list(absent)[-3:]} == {
        "Helm release cert-manager/cert-manager": "absent: up installs it "
        "(no Secret sh.helm.release.v1.cert-manager.v*, no release of its chart)",
        "Helm release network/envoy-gateway": "absent: up installs it "
        "(no Secret sh.helm.release.v1.envoy-gateway.v*, no release of its chart)",
        "tunnel homelab-main": f"absent: up creates it, remotely managed, in account {ACCOUNT}",
        "tunnel configuration homelab-main": "absent: up creates it with the tunnel",
        "record external.example.com": "absent: up creates CNAME external.example.com",
    }
    assert absent["Gateway network/envoy-external"] == "absent: up creates it (namespace network is not there)"
    assert absent["objects of Chart network/envoy-gateway-crds"] == "absent: 2 objects, none there: up creates them"
    assert (plan["written"], lab.imports.read_text()) == (True, HALF_EMPTY_PLAN)


# ---------------------------------------------------------------------------------------------
# bad input: the wrong account, two records for one name, a read refused


def test_the_wrong_account_is_refused_and_nothing_written(adopt: tuple[Adopt, Run]) -> None:
    lab, run = adopt
    lab.api.cloudflare.zones[0]["account"] = {"id": "fedcba9876543210fedcba9876543210", "name": "Other"}
    lab.api.cloudflare.errors[TUNNELS] = (403, "Authentication error", 10000)
    code, out, _ = run("--stack", "main", "--json")
    assert code == 1
    assert failing(out) == [
        (
            "account",
            "FAIL",
            f"the token sees no account {ACCOUNT} with zone example.com: its tunnels answered HTTP 403 (10000: "
            "Authentication error), and no active zone example.com in it; nothing written",
            "homelab:cluster.cloudflare.accountId must be the account of zone example.com (the zone's Overview page, "
            'API section), and the token that account\'s (README "Secrets"); Zone / Zone / Read on the zone',
        )
    ]
    assert rows(out)[1]["message"] == [
        "Import plan: nothing written: not everything could be judged (account): do what the FAIL lines above "
        "say, then run adopt again"
    ]
    assert not lab.imports.exists()


def test_two_records_for_the_tunnel_s_name_are_not_adoptable(adopt: tuple[Adopt, Run]) -> None:
    lab, run = adopt
    lab.api.cloudflare.records[ZONE_ID] = [
        record("A", "external.example.com", "203.0.113.7"),
        record("AAAA", "external.example.com", "2001:db8::7", "b" * 32),
    ]
    code, out, _ = run("--stack", "main", "--json")
    assert code == 1
    assert failing(out) == [
        (
            "record external.example.com",
            "FAIL",
            "not adoptable as is: 2 records match (A to 203.0.113.7, proxied; AAAA to 2001:db8::7, proxied): one "
            "import takes one record, and a CNAME shares its name with no A, AAAA or CNAME",
            "keep at most one CNAME: delete the others in the dashboard (DNS > Records of example.com), then run "
            "adopt again",
        )
    ]
    plan = rows(out)[1]
    assert (plan["written"], len(plan["imports"])) == (True, 28)


def test_a_read_refused_writes_nothing(adopt: tuple[Adopt, Run]) -> None:
    lab, run = adopt
    gateway = lab.target("Gateway", "envoy-external")
    lab.api.kube[gateway.path] = (403, 'gateways.gateway.networking.k8s.io "envoy-external" is forbidden')
    code, out, _ = run("--stack", "main", "--json")
    assert (code, lab.imports.exists()) == (1, False)
    assert failing(out) == [
        (
            "Gateway network/envoy-external",
            "FAIL",
            'cannot read it: HTTP 403 Forbidden: gateways.gateway.networking.k8s.io "envoy-external" is forbidden',
            "kubectl --context main auth can-i --list shows what the kubeconfig user may read",
        )
    ]
    assert rows(out)[1]["message"][0].startswith(
        "Import plan: nothing written: not everything could be judged (Gateway network/envoy-external)"
    )


# ---------------------------------------------------------------------------------------------
# the judgements


@pytest.fixture(scope="module")
def exp() -> Expected:
    return load("main", ROOT)


def test_helm_s_storage_is_read_back_as_helm_wrote_it() -> None:
    secret = release_secret("cilium", "kube-system", "cilium", "1.19.1", {"cluster": {"name": "main"}}, 2, "deployed")
    release = decode_release(secret["data"]["release"])
    assert (release["name"], release["version"], release["namespace"], release["info"]["status"]) == (
        "cilium",
        2,
        "kube-system",
        "deployed",
    )
    assert (release["chart"]["metadata"], release["config"]) == (
        {"name": "cilium", "version": "1.19.1", "apiVersion": "v2"},
        {"cluster": {"name": "main"}},
    )
    for bad in ("not base64!", base64.b64encode(b"not base64 either!").decode()):
        with pytest.raises(ReleaseError, match="not a release as Helm stores it"):
            decode_release(bad)


CILIUM = HelmTarget("cilium", "kube-system", "cilium-release", True, {"cluster": {"name": "main"}})


def stored(status: str = "deployed", chart: str = "cilium") -> tuple[list[Revision], Stored]:
    rev = Revision("kube-system", "cilium", 4, status, "sh.helm.release.v1.cilium.v4")
    return [rev], Stored(rev, chart, "1.19.1", "kube-system", {"cluster": {"name": "main"}})


def test_a_release_helm_could_not_upgrade_or_of_another_chart_is_not_adoptable(exp: Expected) -> None:
    history, found = stored("pending-upgrade")
    line = judge(exp, CILIUM, ("cilium", "1.19.1"), history, found, None).check
    assert (line.status.value, line.evidence, line.fix) == (
        "FAIL",
        "not adoptable as is: revision 4 is pending-upgrade: Helm refuses an upgrade while an operation is in progress",
        "wait for it to end (helm --kube-context main -n kube-system history cilium), or roll it back "
        "(helm --kube-context main -n kube-system rollback cilium); then run adopt again",
    )
    history, _ = stored("failed")
    line = judge(exp, CILIUM, ("cilium", "1.19.1"), history, None, None).check
    assert line.evidence == (
        "not adoptable as is: no deployed revision (the latest, 4, is failed): Helm upgrades no such release"
    )
    history, found = stored(chart="cilium-enterprise")
    line = judge(exp, CILIUM, ("cilium", "1.19.1"), history, found, None).check
    assert (line.evidence, line.fix) == (
        "not adoptable as is: runs chart cilium-enterprise 1.19.1; the program installs chart cilium",
        "an import would upgrade it to another chart: uninstall it first (helm --kube-context main -n kube-system "
        "uninstall cilium), knowing that what it runs stops until up has installed it again; then run adopt again",
    )
    history, found = stored()
    line = judge(exp, CILIUM, ("cilium", "1.19.1"), history, found, None).check
    assert (line.status.value, line.evidence) == (
        "PASS",
        "importable as kube-system/cilium: revision 4 deployed, chart cilium 1.19.1",
    )


SAFE_PATH = (
    "the safe path is a new tunnel beside it: set homelab:cluster.cloudflare.tunnelName to a new name "
    "(pulumi config set --path --stack main homelab:cluster.cloudflare.tunnelName homelab-main-2) and run "
    "adopt again; keep the import of record external.example.com: up creates the new tunnel, points the program's "
    "cloudflared at it and moves the CNAME to it in place (whether requests fail while the pods roll is "
    "unconfirmed); then `cloudflared tunnel delete homelab-main`"
)


@pytest.mark.parametrize(
    ("config_src", "why"),
    [
        (
            "local",
            f"tunnel {TUNNEL_ID} is locally managed (config_src local; healthy, created 2025-06-01), the program's is "
            "remotely managed (config_src cloudflare): that forces a new tunnel, and adopting it without one is "
            "unconfirmed",
        ),
        (
            "cloudflare",
            f"tunnel {TUNNEL_ID} is remotely managed (healthy, created 2025-06-01), but an import leaves config_src "
            "unset and the program sets it to cloudflare, which forces a new tunnel: importing it would replace it "
            "(a new id, its connections cut)",
        ),
    ],
)
def test_a_tunnel_of_the_program_s_name_is_not_adoptable_and_its_configuration_goes_with_it(
    exp: Expected, config_src: str, why: str
) -> None:
    """DESIGN.md: config_src forces a new tunnel when set, and an import leaves it unset."""
    target = CloudflareTarget("tunnel", "homelab-main", ACCOUNT, "cloudflare-tunnel-tunnel")
    found = judge_tunnel(exp, target, [tunnel(config_src, remote_config=config_src == "cloudflare")])
    assert (found.check.status.value, found.check.evidence, found.check.fix) == (
        "FAIL",
        f"not adoptable as is: {why} ({ADOPTING})",
        SAFE_PATH,
    )
    assert found.entry is None
    config = judge_config(target, "cloudflare-tunnel-config", found).check
    assert (config.name, config.status.value, config.evidence) == (
        "tunnel configuration homelab-main",
        "FAIL",
        "not adoptable as is: it goes with the tunnel (above)",
    )


def test_what_the_first_up_changes_never_shows_a_secret() -> None:
    known = Known()
    known.provide({"mock-8c7a86a1b4bb7dda193a77d13e2": ZONE_ID})
    old = {
        "env": [{"name": "CF_API_TOKEN", "value": DNS_TOKEN}],
        "auth": {"password": "hunter2", "user": "admin"},
        "extraArgs": [f"--zone-id-filter={ZONE_ID}"],
        "old": {"nested": {"apiKey": "abc"}},
    }
    new = {
        "env": [{"name": "CF_API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "t", "key": "api-token"}}}],
        "auth": {"password": "[secret]", "user": "root"},
        "extraArgs": ["--zone-id-filter=mock-8c7a86a1b4bb7dda193a77d13e2"],
        "podAnnotations": {"checksum/cloudflare-token": "928aad456cf30326"},
        "tunnel": "mock-tunnel-d5ed6f71",
    }
    assert value_changes(old, new, known) == [
        'auth.user: "admin" -> "root"',
        "env[0].value: [secret] -> (unset)",
        'env[0].valueFrom.secretKeyRef.key: (unset) -> "api-token"',
        'env[0].valueFrom.secretKeyRef.name: (unset) -> "t"',
        "old.nested.apiKey: [secret] -> (unset)",
        f"podAnnotations.checksum/cloudflare-token: (unset) -> {AT_UP}",
        f"tunnel: (unset) -> {AT_UP}",
    ]
    # an object: only the fields the program sets; a list of another length shown whole, masked
    live = {"spec": {"replicas": 1, "env": [{"name": "A", "value": DNS_TOKEN}], "paused": False}}
    want = {"spec": {"replicas": True, "env": [{"name": "A"}, {"name": "B", "value": "x"}]}}
    assert field_changes(live, want) == [
        'spec.env: [{"name": "A", "value": "[secret]"}] -> [{"name": "A"}, {"name": "B", "value": "x"}]',
        "spec.replicas: 1 -> true",
    ]


def test_an_id_the_import_plan_s_reader_would_refuse_is_never_written() -> None:
    found = importable(OBJECTS, "Widget w", Entry("widget", "kubernetes:example.io/v1:Widget", "w"), "no owner label")
    assert (found.state, found.entry, found.check.status.value, found.check.evidence) == (
        State.UNKNOWN,
        None,
        "FAIL",
        "present, but its import id 'w' is not <namespace>/<name>, which homelab/config/imports.py asks of a "
        "kubernetes:example.io/v1:Widget: nothing written",
    )
