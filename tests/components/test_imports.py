"""The import plan applied by the program (components/imports.py): Pulumi's `import` option on
exactly the resources `<stack>.imports.yaml` lists, nothing else changed, the plan shows it, and
an entry the program has no resource for is refused."""

from __future__ import annotations

import pytest

from tests.conftest import Project

ACCOUNT = "0123456789abcdef0123456789abcdef"
TUNNEL_ID = "2f1c3c5e-8a1b-4c7d-9e2f-0a1b2c3d4e5f"
PLAN = f"""\
stack: main
imports:
  - resource: cilium-release
    type: kubernetes:helm.sh/v3:Release
    id: kube-system/cilium
  - resource: envoy-gateway-namespace
    type: kubernetes:core/v1:Namespace
    id: network
  - resource: cloudflare-tunnel-tunnel
    type: cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared
    id: {ACCOUNT}/{TUNNEL_ID}
"""


def test_exactly_the_listed_resources_are_imported_and_nothing_else_changes(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    without = project.plan("main", capsys=capsys)
    (project.root / "main.imports.yaml").write_text(PLAN)
    with_plan = project.plan("main", capsys=capsys)
    assert (without.code, with_plan.code) == (0, 0), with_plan.err
    assert {(r.type, r.name): r.import_id for r in with_plan.registered if r.import_id} == {
        ("kubernetes:helm.sh/v3:Release", "cilium-release"): "kube-system/cilium",
        ("kubernetes:core/v1:Namespace", "envoy-gateway-namespace"): "network",
        (
            "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
            "cloudflare-tunnel-tunnel",
        ): f"{ACCOUNT}/{TUNNEL_ID}",
    }
    same = sorted((r.type, r.name, repr(r.inputs), r.parent) for r in without.registered)
    assert sorted((r.type, r.name, repr(r.inputs), r.parent) for r in with_plan.registered) == same


def test_the_plan_shows_what_is_imported_and_says_the_file_goes_afterwards(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    (project.root / "main.imports.yaml").write_text(PLAN)
    outcome = project.plan("main", capsys=capsys)
    lines = outcome.out.splitlines()
    assert lines[0] == "stack main: 45 resources (3 imported, the rest created)"
    assert "    kubernetes:helm.sh/v3:Release  cilium-release  (import kube-system/cilium)" in lines
    assert "    kubernetes:core/v1:Namespace  envoy-gateway-namespace  (import network)" in lines
    assert (
        "info: main.imports.yaml: 3 resource(s) imported instead of created; once an update has imported them, "
        "delete the file (they are in the stack's state)"
    ) in lines


def test_an_entry_the_program_has_no_resource_for_is_refused(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    (project.root / "main.imports.yaml").write_text(
        PLAN + "  - resource: cilium-l2-policy\n    type: kubernetes:core/v1:Namespace\n    id: kube-system\n"
    )
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 2
    assert outcome.err == (
        "error: the import plan names resources the program does not create:\n"
        "  - main.imports.yaml:12: cilium-l2-policy (kubernetes:core/v1:Namespace) is no resource of this program\n"
        "remove those entries, or run `make adopt STACK=main` again\n"
        "nothing written\n"
    )


def test_another_stacks_import_plan_is_refused_before_anything_is_registered(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    (project.root / "staging.imports.yaml").write_text(PLAN)
    outcome = project.plan("staging", capsys=capsys)
    assert outcome.code == 2
    assert outcome.registered == []
    assert outcome.err == (
        "error: staging.imports.yaml:1: the import plan of stack 'main', not of 'staging'; each stack has its own "
        "(staging.imports.yaml); run `make adopt STACK=staging` again, or delete staging.imports.yaml\n"
        "nothing written\n"
    )


def test_an_id_that_names_another_object_is_refused(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """A stale or hand-edited plan: the import would read that object and the update replace it."""
    (project.root / "main.imports.yaml").write_text(
        PLAN.replace("id: kube-system/cilium", "id: default/not-cilium").replace(ACCOUNT, "f" * 32)
    )
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 2
    assert outcome.err == (
        "error: the import plan points resources at other objects:\n"
        "  - main.imports.yaml:3: cilium-release: id 'default/not-cilium' names another object than the program's "
        "'kube-system/cilium': the import would read that one and the update replace it\n"
        f"  - main.imports.yaml:9: cloudflare-tunnel-tunnel: id '{'f' * 32}/{TUNNEL_ID}' is not in the stack's "
        f"account {ACCOUNT}\n"
        "run `make adopt STACK=main` again, or fix those ids\n"
        "nothing written\n"
    )
