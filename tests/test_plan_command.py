"""The offline plan: the first command a newcomer runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import STACKS, stack_config
from tools import plan as plan_cmd


@pytest.mark.parametrize("stack", STACKS)
def test_plan_prints_tree_and_writes_objects(stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = plan_cmd.main(["--stack", stack, "--out", str(tmp_path), "--no-validate"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"stack {stack}:" in out
    assert "homelab:cilium:Cilium  cilium" in out
    assert "    kubernetes:helm.sh/v3:Release  cilium-release" in out  # indented under its parent
    assert "per component:" in out
    root = tmp_path / stack
    pool = yaml.safe_load((root / "cilium" / f"CiliumLoadBalancerIPPool-{stack}-pool.yaml").read_text())
    assert pool["kind"] == "CiliumLoadBalancerIPPool"
    assert pool["metadata"]["name"] == f"{stack}-pool"
    values = yaml.safe_load((root / "cilium" / "helm-cilium.values.yaml").read_text())
    assert values["routingMode"] == "native"
    header = (root / "cilium" / "helm-cilium.values.yaml").read_text().splitlines()[:5]
    assert "# Helm release: cilium" in header
    assert any(line.startswith("# version: 1.20.0") for line in header)
    outputs = yaml.safe_load((root / "outputs.yaml").read_text())
    assert outputs["cluster"] == stack


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
    from tests.conftest import SCHEMAS

    if not SCHEMAS.is_dir():
        pytest.skip(f"upstream schemas not found at {SCHEMAS}")
    from components import cilium

    def misspelled(cluster: object) -> dict[str, object]:
        return {"allowFirstLastIPs": "Yes", "blocks": [{"cidrs": "10.12.0.15/32"}]}

    monkeypatch.setattr(cilium, "pool_spec", misspelled)
    code = plan_cmd.main(["--stack", "staging", "--out", str(tmp_path)])
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
