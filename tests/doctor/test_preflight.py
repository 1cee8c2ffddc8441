"""preflight against the loopback fakes (tests/support/fakes.py, the lab in tests/support/preflight_support.py): a
bare cluster and account, what up would create, and the command (the table, JSON, exit codes).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from components.promotion import PromotionGateError
from homelab.doctor import preflight
from homelab.doctor.checks_preflight import GROUPS
from homelab.doctor.kube import METADATA_LIST
from homelab.doctor.preflight_plan import HelmTarget, Wanted, chart_objects, plural
from homelab.plan.mockrun import Plan
from tests.support import preflight_support
from tests.support.fakes import TOKEN, closed_port, write_kubeconfig
from tests.support.preflight_support import (
    ACCOUNT,
    CHART,
    FLUX_HELM,
    NET,
    OBJ,
    TUNNELS,
    ZONE_ID,
    Lab,
    Line,
    crd,
    daemon_set,
    daemon_sets,
    gateway_class_and_issuer,
    render,
)

# the shared fixtures (tests/support/preflight_support.py): pytest finds them under these names
loopback_only = preflight_support.loopback_only
server = preflight_support.server
exp = preflight_support.exp
want = preflight_support.want
lab = preflight_support.lab


def bare_lines(url: str) -> list[Line]:
    return [
        ("Access", "cluster main", "PASS", f"{url}, Kubernetes v1.35.0", ""),
        ("Access", "Cloudflare API", "PASS", "token from $CLOUDFLARE_API_TOKEN, accepted", ""),
        (NET, "kube-proxy", "PASS", "no kube-proxy DaemonSet (the stack sets kube-proxy-replacement=true)", ""),
        (NET, "other CNI", "PASS", "no DaemonSet of another CNI", ""),
        (NET, "Service kube-system/kube-dns", "PASS", "not there yet, and no Service has 10.200.0.10", ""),
        (NET, "Deployment kube-system/coredns", "PASS", "not there yet", ""),
        *[
            (
                "Helm releases",
                f"Helm release {ns}/{name}",
                "PASS",
                f"no release of that name (no Secret sh.helm.release.v1.{name}.v*)",
                "",
            )
            for ns, name in (
                ("cert-manager", "cert-manager"),
                ("kube-system", "cilium"),
                ("kube-system", "coredns"),
                ("network", "envoy-gateway"),
                ("network", "external-dns-cloudflare"),
            )
        ],
        (OBJ, "objects of the program", "PASS", "21 objects, none there yet", ""),
        (OBJ, "objects of Chart network/envoy-gateway-crds", "PASS", "2 objects, none there yet", ""),
        (
            "Namespaces",
            "namespace home-automation",
            "PASS",
            "not there yet: up creates it (resource home-automation.namespace)",
            "",
        ),
        (
            "Namespaces",
            "namespace observability",
            "PASS",
            "not there yet: up creates it (resource observability.namespace)",
            "",
        ),
        (
            "Cloudflare token",
            "Account / Cloudflare Tunnel / Edit",
            "PASS",
            f"GET {TUNNELS} answered: the token reaches the account's tunnels "
            "(up creates tunnel homelab-main; Edit itself is not provable by reading)",
            "",
        ),
        ("Cloudflare token", "Zone / Zone / Read", "PASS", f"zone example.com is {ZONE_ID} (up's getZone)", ""),
        (
            "Cloudflare token",
            "Zone / DNS / Edit",
            "PASS",
            f"GET /zones/{ZONE_ID}/dns_records answered: the token reaches the zone's records "
            "(up creates CNAME external.example.com; Edit itself is not provable by reading)",
            "",
        ),
        ("Cloudflare objects", "tunnel homelab-main", "PASS", f"no tunnel of that name in account {ACCOUNT}", ""),
        ("Cloudflare objects", "record external.example.com", "PASS", "no CNAME of that name in zone example.com", ""),
    ]


# ---------------------------------------------------------------------------------------------
# a bare cluster and account: everything PASSes, nothing is written, no Secret's data is asked for


def test_a_bare_cluster_passes_every_check(lab: Lab) -> None:
    assert lab.lines() == bare_lines(lab.api.url)
    assert {method for method, _ in lab.api.requests} == {"GET"}
    asked = [path for _, path in lab.api.requests]
    # a namespace that is not there: nothing in it is read
    assert not any(p.startswith("/apis/gateway.networking.k8s.io/v1/namespaces/network/") for p in asked)
    secrets = {p: a for p, a in lab.api.accepts.items() if "/secrets" in p}
    assert secrets == {
        "/api/v1/namespaces/kube-system/secrets?labelSelector=owner%3Dhelm%2Cname%3Dcilium": METADATA_LIST,
        "/api/v1/namespaces/kube-system/secrets?labelSelector=owner%3Dhelm%2Cname%3Dcoredns": METADATA_LIST,
    }


def test_what_up_would_create_comes_from_the_plan(want: Wanted) -> None:
    assert [r.label for r in want.releases] == [
        "Helm release cert-manager/cert-manager",
        "Helm release kube-system/cilium",
        "Helm release kube-system/coredns",
        "Helm release network/envoy-gateway",
        "Chart network/envoy-gateway-crds",
        "Helm release network/external-dns-cloudflare",
    ]
    labels = [o.label for o in want.objects]
    assert len(labels) == 23
    assert {
        "GatewayClass envoy",
        "ClusterIssuer letsencrypt-prod",
        "Namespace network",
        "Namespace observability",
    } <= set(labels)
    gateway_class = next(o for o in want.objects if o.kind == "GatewayClass")
    assert (gateway_class.path, gateway_class.resource) == (
        "/apis/gateway.networking.k8s.io/v1/gatewayclasses/envoy",
        "envoy-gateway-class",
    )
    assert [(t.kind, t.name, t.scope, t.resource) for t in want.tunnels] == [
        ("tunnel", "homelab-main", ACCOUNT, "cloudflare-tunnel-tunnel")
    ]
    assert [(t.kind, t.name, t.resource) for t in want.records] == [
        ("CNAME", "external.example.com", "cloudflare-tunnel-dns")
    ]
    assert want.zone_lookups == (("example.com", ACCOUNT),)
    assert dict(want.namespaces) == {
        "cert-manager": "Secret cert-manager/cloudflare-api-token",
        "home-automation": "HTTPRoute home-automation/home-assistant",
        "kube-system": "Helm release kube-system/cilium",
        "network": "Deployment network/cloudflared",
        "observability": "HTTPRoute observability/grafana",
    }


def test_plural_and_chart_objects() -> None:
    assert {
        k: plural(k) for k in ("GatewayClass", "Gateway", "EnvoyProxy", "ClientTrafficPolicy", "Ingress", "Namespace")
    } == {
        "GatewayClass": "gatewayclasses",
        "Gateway": "gateways",
        "EnvoyProxy": "envoyproxies",
        "ClientTrafficPolicy": "clienttrafficpolicies",
        "Ingress": "ingresses",
        "Namespace": "namespaces",
    }
    chart = HelmTarget("envoy-gateway-crds", "network", "envoy-gateway-crds", False, {})
    policy = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "crd-notes"}}
    objects = chart_objects(chart, [*copy.deepcopy(CHART), policy, crd("envoyproxies.gateway.envoyproxy.io")])
    assert [(o.label, o.resource, o.source, o.path) for o in objects] == [
        (
            "CustomResourceDefinition gatewayclasses.gateway.networking.k8s.io",
            "envoy-gateway-crds:gatewayclasses.gateway.networking.k8s.io",
            "Chart network/envoy-gateway-crds",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gatewayclasses.gateway.networking.k8s.io",
        ),
        (
            "CustomResourceDefinition envoyproxies.gateway.envoyproxy.io",
            "envoy-gateway-crds:envoyproxies.gateway.envoyproxy.io",
            "Chart network/envoy-gateway-crds",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/envoyproxies.gateway.envoyproxy.io",
        ),
        (
            "ConfigMap network/crd-notes",
            "envoy-gateway-crds:network/crd-notes",
            "Chart network/envoy-gateway-crds",
            "/api/v1/namespaces/network/configmaps/crd-notes",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# the command: an unreachable cluster, the table, JSON, exit codes


@pytest.fixture
def cli(
    lab: Lab, plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """``homelab preflight`` in-process: the session's plan, the stand-in renderer."""
    monkeypatch.setattr(preflight, "plan_of", lambda stack, root: plans[stack])
    monkeypatch.setattr(preflight, "chart_renderer", lambda plan: render)
    monkeypatch.setenv("KUBECONFIG", str(lab.kubeconfig))
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("HOMELAB_CLOUDFLARE_API", f"{lab.api.url}/client/v4")
    monkeypatch.delenv("PULUMI_K8S_UPSERT_EXISTING_OBJECTS", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = preflight.main(list(args))
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err and TOKEN not in out.out + out.err
        return code, out.out, out.err

    return run


def test_an_unreachable_cluster_fails_fast_naming_the_context(
    lab: Lab, cli: Callable[..., tuple[int, str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "config", {"main": host})))
    start = time.monotonic()
    code, out, err = cli("--stack", "main")
    assert time.monotonic() - start < 5
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[:6] == [
        "homelab preflight: stack main (context main, domain example.com, zone example.com)",
        "",
        "Access",
        f"  FAIL  cluster main                        {host}: no answer from the API server: Failed to establish a new "
        "connection: [Errno 111] Connection refused; cluster checks skipped",
        f"                                            fix: is the cluster up, {host} reachable from here and the "
        "context's credentials valid? kubectl --context main get --raw /version",
        "  PASS  Cloudflare API                      token from $CLOUDFLARE_API_TOKEN, accepted",
    ]
    assert lines[-1] == "7 checks: 6 PASS, 0 WARN, 1 FAIL"


def test_the_table_and_exit_codes(lab: Lab, cli: Callable[..., tuple[int, str, str]]) -> None:
    code, out, _ = cli("--stack", "main")
    assert code == 0
    lines = out.splitlines()
    assert [ln for ln in lines if ln and not ln.startswith(" ")][1:] == [*GROUPS, "20 checks: 20 PASS, 0 WARN, 0 FAIL"]
    daemon_sets(lab).append(daemon_set("kube-proxy", "kube-system"))
    code, out, _ = cli("--stack", "main")
    assert code == 1 and out.splitlines()[-1] == "20 checks: 19 PASS, 0 WARN, 1 FAIL"
    lab.api.requests.clear()
    for args, says in (
        (["--stack", "prod"], "no stack file Pulumi.prod.yaml"),
        (["--stack", "../main"], "is not a stack name"),
    ):
        code, out, err = cli(*args)
        assert (code, out) == (2, "") and err.startswith("error: ") and says in err, err
    assert lab.api.requests == []  # bad input reaches nothing


def test_json_output_for_scripts(lab: Lab, cli: Callable[..., tuple[int, str, str]]) -> None:
    gateway_class_and_issuer(lab, FLUX_HELM)
    code, out, _ = cli("--stack", "main", "--json")
    rows = json.loads(out)
    assert code == 1
    assert all(list(row) == ["group", "check", "status", "evidence", "fix"] for row in rows)
    assert rows[0] == {
        "group": "Access",
        "check": "cluster main",
        "status": "PASS",
        "evidence": f"{lab.api.url}, Kubernetes v1.35.0",
        "fix": None,
    }
    assert [(r["check"], r["status"]) for r in rows if r["status"] != "PASS"] == [
        ("ClusterIssuer letsencrypt-prod", "FAIL"),
        ("GatewayClass envoy", "FAIL"),
    ]
    assert {r["fix"] for r in rows if r["status"] == "PASS"} == {None}


def test_a_plan_the_program_refuses_exits_2_before_any_request(
    lab: Lab, cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(stack: str, root: Path) -> Plan:
        raise PromotionGateError("main asks for cilium 1.21.0, which staging does not run")

    def broken(stack: str, root: Path) -> Plan:
        raise RuntimeError("boom")

    lab.api.requests.clear()
    for plan_of, says in (
        (refused, "error: main asks for cilium 1.21.0, which staging does not run\n"),
        (broken, "error: the plan failed: RuntimeError: boom (re-run with --debug)\n"),
    ):
        monkeypatch.setattr(preflight, "plan_of", plan_of)
        assert cli("--stack", "main") == (2, "", says)
    assert lab.api.requests == []
