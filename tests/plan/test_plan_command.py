"""The offline plan: the first command a newcomer runs."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from components import cilium
from homelab.config import rules as checks
from homelab.plan import command as plan_cmd
from homelab.plan import mockrun
from homelab.plan.charts import pinned_charts
from homelab.plan.mockrun import Plan
from tests.conftest import SCHEMAS, STACKS, PlanRun, Project, stack_config


@pytest.mark.parametrize("stack", STACKS)
def test_plan_prints_tree_and_writes_objects(stack: str, planned: dict[str, PlanRun]) -> None:
    run = planned[stack]
    assert run.code == 0, run.err
    assert f"stack {stack}:" in run.out
    assert "homelab:cilium:Cilium  cilium" in run.out
    assert "    kubernetes:helm.sh/v3:Release  cilium-release" in run.out  # indented under its parent
    assert "per component:" in run.out
    pool = run.load(f"cilium/CiliumLoadBalancerIPPool-{stack}-pool.yaml")
    assert pool["kind"] == "CiliumLoadBalancerIPPool"
    assert pool["metadata"]["name"] == f"{stack}-pool"
    values = run.load("cilium/helm-cilium.values.yaml")
    assert values["routingMode"] == "native"
    header = (run.folder / "cilium" / "helm-cilium.values.yaml").read_text().splitlines()[:5]
    assert "# Helm release: cilium" in header
    assert any(line.startswith("# version: 1.20.0") for line in header)
    assert run.load("outputs.yaml")["cluster"] == stack


def test_plan_refuses_bad_config_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = stack_config("main")
    cfg["homelab:cluster"]["gateways"]["external"] = "10.11.1.21"
    stack_file = tmp_path / "Pulumi.main.yaml"
    stack_file.write_text(yaml.safe_dump({"config": cfg}))
    out = tmp_path / "rendered"
    code = plan_cmd.main(["--stack", "main", "--stack-file", str(stack_file), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    expected = "homelab:cluster.gateways.external: '10.11.1.21' is already the IP of homelab:cluster.gateways.internal"
    assert expected in err
    assert not out.exists()


def test_plan_validates_by_default_and_fails_on_a_schema_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not SCHEMAS.is_dir():
        pytest.skip(f"upstream schemas not found at {SCHEMAS}")

    def misspelled(cluster: object) -> dict[str, object]:
        return {"allowFirstLastIPs": "Yes", "blocks": [{"cidrs": "10.12.0.15/32"}]}

    monkeypatch.setattr(cilium, "pool_spec", misspelled)
    code = plan_cmd.main(["--stack", "staging", "--out", str(tmp_path), "--no-render"])
    err = capsys.readouterr().err
    assert code == 1
    assert "schema validation: 1 problem(s)" in err
    assert "CiliumLoadBalancerIPPool/staging-pool  spec.blocks[0]" in err
    assert "'cidrs' was unexpected" in err


def test_plan_of_main_stops_at_the_staging_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = stack_config("main")
    cfg["homelab:release"]["charts"]["cilium"] = "1.20.1"  # staging's stack file runs 1.20.0
    stack_file = tmp_path / "Pulumi.main.yaml"
    stack_file.write_text(yaml.safe_dump({"config": cfg}))
    out = tmp_path / "rendered"
    code = plan_cmd.main(["--stack", "main", "--stack-file", str(stack_file), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "homelab:release.charts.cilium: main asks for 1.20.1, staging runs 1.20.0" in err
    assert not out.exists()


def test_plan_output_is_the_same_twice(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """Registration order varies from run to run; the printed plan and the files must not."""
    first = project.plan("main", capsys=capsys)
    files = {p.relative_to(project.rendered): p.read_bytes() for p in project.rendered.rglob("*") if p.is_file()}
    second = project.plan("main", capsys=capsys)
    again = {p.relative_to(project.rendered): p.read_bytes() for p in project.rendered.rglob("*") if p.is_file()}
    assert first.code == second.code == 0
    assert first.out == second.out
    assert files == again
    tree = first.out.splitlines()
    # siblings by name: the components under the stack, then each one's children
    assert tree[1] == "  homelab:cert_manager:CertManager  cert-manager  (6 resources)"
    assert tree[2] == "    kubernetes:core/v1:Secret  cert-manager-cloudflare-token"


def test_mock_answers_are_marked_in_rendered_files(plans: dict[str, Plan], tmp_path: Path) -> None:
    """Provider-computed values (ids, the tunnel token) are the mocks' and say so."""
    plan = plans["staging"]
    files = plan_cmd.rendered_files(plan)
    outputs = yaml.safe_load(files["outputs.yaml"])
    assert outputs["tunnelId"].startswith("mock-tunnel-")
    assert outputs["tunnelCname"].startswith("mock-tunnel-") and outputs["tunnelCname"].endswith(".cfargotunnel.com")
    record = yaml.safe_load(files["cloudflare-tunnel/DnsRecord-cloudflare-tunnel-dns.yaml"])
    assert record["inputs"]["zoneId"].startswith("mock-")
    values = yaml.safe_load(files["external-dns/helm-external-dns-cloudflare.values.yaml"])
    (zone_filter,) = [a for a in values["extraArgs"] if a.startswith("--zone-id-filter=")]
    assert zone_filter.startswith("--zone-id-filter=mock-")


def test_plan_with_schema_problems_marks_its_rendering(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not SCHEMAS.is_dir():
        pytest.skip(f"upstream schemas not found at {SCHEMAS}")
    monkeypatch.setattr(cilium, "pool_spec", lambda cluster: {"blocks": [{"cidrs": "10.12.0.15/32"}]})
    capsys.readouterr()
    code = plan_cmd.main(["--stack", "staging", "--root", str(project.root), "--no-render"])
    err = capsys.readouterr().err
    assert code == 1
    mark = project.rendered / "staging" / "SCHEMA-PROBLEMS.txt"
    assert mark.read_text().startswith("These objects fail the upstream schemas; do not apply them.\n")
    assert "CiliumLoadBalancerIPPool/staging-pool  spec.blocks[0]" in mark.read_text()
    assert f"marked {project.rendered / 'staging'} as invalid (SCHEMA-PROBLEMS.txt)" in err


def test_two_resources_writing_one_object_are_refused(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan's own net under the config's rules: with the rule for the redirect route's name
    switched off, an app route of that name is caught as a second writer of the object."""
    monkeypatch.setattr(checks, "PROGRAM_ROUTES", {})
    route = {
        "name": "https-redirect",
        "namespace": "network",
        "hostnames": ["whoami.example.com"],
        "service": "whoami",
        "port": 80,
        "exposure": "external",
    }
    project.change("main", lambda cfg: cfg.update({"homelab:apps": [route]}))
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 2
    assert (
        "HTTPRoute network/https-redirect (gateway.networking.k8s.io) is written by 2 resources: "
        "envoy-gateway-https-redirect (kubernetes:gateway.networking.k8s.io/v1:HTTPRoute) and "
        "network.https-redirect-route (kubernetes:gateway.networking.k8s.io/v1:HTTPRoute)"
    ) in outcome.err
    assert not (project.rendered / "main").exists()


def test_checked_in_plans_write_no_object_twice(plans: dict[str, Plan]) -> None:
    for stack in STACKS:
        assert plan_cmd.duplicate_objects(plans[stack]) == []


def test_warm_setup_costs_under_a_second() -> None:
    """`make plan` runs tools/setup.sh first; once .venv is in sync it must cost next to nothing."""
    warm = subprocess.run(["bash", "tools/setup.sh", "--check"], cwd=mockrun.ROOT, capture_output=True, check=False)
    if warm.returncode != 0:  # never install anything from a test: `make test` runs setup first
        pytest.skip("tools/setup.sh is not warm here (run `make setup`): nothing to time")
    start = time.monotonic()
    done = subprocess.run(["bash", "tools/setup.sh"], cwd=mockrun.ROOT, check=True, capture_output=True, text=True)
    assert time.monotonic() - start < 1.0
    assert "installing uv" not in done.stderr


def test_make_charts_pulls_every_chart_the_program_uses() -> None:
    """`make charts` pulls what the releases and the client-side chart (the CRDs) render from."""
    assert [(c.chart, c.version, c.repo) for c in pinned_charts()] == [
        ("cert-manager", "v1.21.1", "https://charts.jetstack.io"),
        ("cilium", "1.20.0", "https://helm.cilium.io/"),
        ("coredns", "1.46.2", "https://coredns.github.io/helm"),
        ("external-dns", "1.21.1", "https://kubernetes-sigs.github.io/external-dns/"),
        ("oci://docker.io/envoyproxy/gateway-crds-helm", "v1.9.0", ""),
        ("oci://docker.io/envoyproxy/gateway-helm", "v1.9.0", ""),
    ]


def test_the_plan_shows_which_resource_owns_each_crd(planned: dict[str, PlanRun]) -> None:
    """Envoy Gateway's CRDs come from a helm.v4.Chart: each is a resource of its own, named
    `<chart>:<name>`, and both the output and the written file say which."""
    run = planned["staging"]
    assert (
        "applied by helm.v4.Chart envoy-gateway-crds, each object its own resource (no Helm release):\n"
        "  kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition  "
        "envoy-gateway-crds:backendtlspolicies.gateway.networking.k8s.io\n"
    ) in run.out
    assert (
        "  kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition  "
        "envoy-gateway-crds:gateways.gateway.networking.k8s.io\n" in run.out
    )
    header = (
        run.folder / "envoy-gateway/chart/CustomResourceDefinition-gateways.gateway.networking.k8s.io.yaml"
    ).read_text()
    assert header.splitlines()[0] == (
        "# rendered by helm from gateway-crds-helm-v1.9.0.tgz "
        "(helm.v4.Chart envoy-gateway-crds: resource envoy-gateway-crds:gateways.gateway.networking.k8s.io)"
    )
