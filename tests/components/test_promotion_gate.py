"""The staging gate: main refuses versions staging has not run, before any resource changes."""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.promotion import PromotionGateError, unrun_versions
from homelab.config.models import ConfigError
from homelab.plan.mockrun import Plan, Registration
from tests.conftest import RunProgram, stack_config

STAGING_REF = "organization/homelab/staging"
REF = "pulumi:pulumi:StackReference"


def staging_release(plans: dict[str, Plan]) -> dict[str, Any]:
    return copy.deepcopy(plans["staging"].outputs["release"])


def test_staging_exports_its_release(plans: dict[str, Plan]) -> None:
    release = plans["staging"].outputs["release"]
    assert release["charts"] == stack_config("staging")["homelab:release"]["charts"]
    assert release["images"] == {"cloudflared": "2026.8.2"}


def test_gate_passes_when_staging_runs_the_same_versions(plans: dict[str, Plan], run_program: RunProgram) -> None:
    plan = run_program("main", stack_outputs={STAGING_REF: {"release": staging_release(plans)}})
    (ref,) = plan.of_type(REF)
    assert ref.plain_inputs["name"] == STAGING_REF
    assert plan.of_type("kubernetes:helm.sh/v3:Release")


def test_gate_fails_naming_each_version_and_creates_nothing(plans: dict[str, Plan], run_program: RunProgram) -> None:
    staging = staging_release(plans)
    staging["charts"]["cilium"] = "1.19.4"
    staging["images"]["cloudflared"] = "2026.7.0"
    registered: list[Registration] = []
    with pytest.raises(PromotionGateError) as err:
        run_program("main", stack_outputs={STAGING_REF: {"release": staging}}, registered=registered)
    assert str(err.value) == (
        "promotion gate: staging has not run what main asks for:\n"
        "  - homelab:release.charts.cilium: main asks for 1.20.0, staging runs 1.19.4\n"
        "  - homelab:release.images.cloudflared: main asks for 2026.8.2, staging runs 2026.7.0\n"
        "promote what staging runs (make promote FROM=staging TO=main) or `pulumi up --stack staging` first"
    )
    touched = [r for r in registered if r.type.startswith(("kubernetes:", "cloudflare:", "pulumi:providers:"))]
    assert touched == [], [(r.type, r.name) for r in touched]


def test_gate_fails_when_staging_never_exported(run_program: RunProgram) -> None:
    """Under the CLI a StackReference without the output gives None: one line, no traceback."""
    with pytest.raises(PromotionGateError) as err:
        run_program("main", stack_outputs={STAGING_REF: {}})
    assert str(err.value) == (
        "promotion gate: staging exports no `release`: run `pulumi up --stack staging` with this program first, "
        "or set homelab:promotion.requireStaging: false on main"
    )
    assert isinstance(err.value, pulumi.RunError)


def test_providers_wait_on_the_gate() -> None:
    """Both providers take an input from the gate (components/promotion.py StagingGate.then)."""
    tree = ast.parse((Path(__file__).parents[2] / "__main__.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func).endswith("Provider")]
    assert len(calls) == 2
    for call in calls:
        assert "gate.then(" in ast.unparse(call), ast.unparse(call)


def test_gate_off_reads_no_stack_reference(run_program: RunProgram) -> None:
    cfg = stack_config("main")
    cfg["homelab:promotion"]["requireStaging"] = False
    plan = run_program("main", cfg, stack_outputs={})
    assert plan.of_type(REF) == []
    assert plan.of_type("kubernetes:helm.sh/v3:Release")


def test_staging_reads_no_stack_reference(plans: dict[str, Plan], run_program: RunProgram) -> None:
    assert plans["staging"].of_type(REF) == []
    cfg = stack_config("staging")
    cfg["homelab:promotion"]["requireStaging"] = True  # a gate on itself would always pass: refused
    with pytest.raises(ConfigError) as err:
        run_program("staging", cfg, stack_outputs={})
    assert err.value.problems == [
        "homelab:promotion.stagingStack: 'organization/homelab/staging' in Pulumi.staging.yaml is this stack "
        "itself: the gate would compare the stack with itself and always pass; name the stack that runs releases "
        "first, or set requireStaging: false"
    ]


def test_feature_values_are_not_gated() -> None:
    wanted = {"charts": {"cilium": "1.20.0"}, "images": {}, "envoy": {"replicas": 3}}
    staging = {"charts": {"cilium": "1.20.0"}, "images": {}, "envoy": {"replicas": 2}}
    assert unrun_versions(wanted, staging, "main", "staging") == []


def test_a_version_the_other_stack_does_not_export_reads_as_nothing() -> None:
    wanted = {"charts": {"cilium": "1.20.0"}, "images": {"cloudflared": "2026.11.0"}}
    assert unrun_versions(wanted, {"charts": {}, "images": {"cloudflared": "2026.10.0"}}, "main", "lab") == [
        "homelab:release.charts.cilium: main asks for 1.20.0, lab runs nothing",
        "homelab:release.images.cloudflared: main asks for 2026.11.0, lab runs 2026.10.0",
    ]


def test_gate_is_on_by_default_on_main(run_program: RunProgram, plans: dict[str, Plan]) -> None:
    cfg = stack_config("main")
    del cfg["homelab:promotion"]
    plan = run_program("main", cfg, stack_outputs={STAGING_REF: {"release": staging_release(plans)}})
    assert [r.plain_inputs["name"] for r in plan.of_type(REF)] == [STAGING_REF]


def test_nothing_generated_while_the_gate_holds(plans: dict[str, Plan], run_program: RunProgram) -> None:
    staging = staging_release(plans)
    staging["charts"]["coredns"] = "1.45.0"
    registered: list[Registration] = []
    with pytest.raises(PromotionGateError):
        run_program("main", stack_outputs={STAGING_REF: {"release": staging}}, registered=registered)
    assert not [r for r in registered if r.type.startswith("random:")]


def test_mock_run_answers_the_default_gate_with_stagings_file(run_program: RunProgram) -> None:
    """Without `homelab:promotion` the gate is on (the model's default): the offline run of main
    must still feed it what staging's stack file exports."""
    cfg = stack_config("main")
    del cfg["homelab:promotion"]
    plan = run_program("main", cfg)
    assert [r.plain_inputs["name"] for r in plan.of_type(REF)] == [STAGING_REF]
