"""No object of the plan goes into a namespace that nothing creates (homelab/plan/namespaces.py)."""

from __future__ import annotations

import dataclasses

import pytest

from homelab.plan import namespaces
from homelab.plan.mockrun import Plan
from tests.conftest import Project, app


def without_app_namespaces(plan: Plan) -> Plan:
    kept = [r for r in plan.resources if not (r.type == "kubernetes:core/v1:Namespace" and "." in r.name)]
    return dataclasses.replace(plan, resources=kept)


def test_both_stacks_create_every_namespace_they_write_into(plans: dict[str, Plan]) -> None:
    assert namespaces.problems(plans["main"], []) == []
    assert namespaces.problems(plans["staging"], []) == []


def test_a_route_in_a_namespace_nobody_creates_is_named(plans: dict[str, Plan]) -> None:
    found = namespaces.problems(without_app_namespaces(plans["main"]), [])
    assert found == [
        "HTTPRoute/home-automation/home-assistant (home-automation.home-assistant-route) goes into namespace "
        "'home-automation', which nothing in this plan creates: `pulumi up` would fail with NotFound (an app's "
        "namespace: leave the app's createNamespace unset, and the program creates it)",
        "HTTPRoute/observability/grafana (observability.grafana-route) goes into namespace 'observability', which "
        "nothing in this plan creates: `pulumi up` would fail with NotFound (an app's namespace: leave the app's "
        "createNamespace unset, and the program creates it)",
    ]
    # an app saying its namespace is there already answers for it
    assert namespaces.problems(without_app_namespaces(plans["main"]), [], {"observability", "home-automation"}) == []


def test_namespaces_apps_declare_as_existing() -> None:
    config = {
        "homelab:apps": [
            app(namespace="flux-apps", createNamespace=False),
            app(namespace="media", name="tv"),
            app(namespace="photos", name="immich", createNamespace=True),
        ]
    }
    assert namespaces.declared(config) == {"flux-apps"}
    assert namespaces.declared({}) == set()


def test_the_plan_refuses_a_program_that_forgets_a_namespace(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the command: a program whose app routes create no namespace never plans."""
    program = project.root / "__main__.py"
    text = program.read_text()
    forgetful = text.replace(
        "apps = app_routes(settings.config.apps, after=[envoy.crds, envoy.release], opts=on_cluster)",
        "from components.app_route import AppRoute\n"
        "apps = [AppRoute(f'{a.namespace}.{a.name}', a, after=[envoy.crds], opts=on_cluster)"
        " for a in settings.config.apps]",
    )
    assert forgetful != text
    program.write_text(forgetful)
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 2
    assert outcome.err.splitlines()[:3] == [
        "error: objects in namespaces nobody creates:",
        "  - HTTPRoute/home-automation/home-assistant (home-automation.home-assistant-route) goes into namespace "
        "'home-automation', which nothing in this plan creates: `pulumi up` would fail with NotFound (an app's "
        "namespace: leave the app's createNamespace unset, and the program creates it)",
        "  - HTTPRoute/observability/grafana (observability.grafana-route) goes into namespace 'observability', "
        "which nothing in this plan creates: `pulumi up` would fail with NotFound (an app's namespace: leave the "
        "app's createNamespace unset, and the program creates it)",
    ]
    assert not (project.rendered / "main").exists()
