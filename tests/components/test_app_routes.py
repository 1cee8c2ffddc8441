"""App routes: the seed's three exposure patterns, and the routes refused."""

from __future__ import annotations

from typing import Any

import pytest

from homelab.config.models import ConfigError
from homelab.plan.mockrun import Plan
from tests.conftest import RunProgram, stack_config

ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"


def app(**over: Any) -> dict[str, Any]:
    base = {
        "name": "whoami",
        "namespace": "default",
        "hostnames": ["whoami.example.com"],
        "service": "whoami",
        "port": 80,
        "exposure": "external",
    }
    return {**base, **over}


def with_apps(*apps: dict[str, Any]) -> dict[str, Any]:
    cfg = stack_config("main")
    cfg["homelab:apps"] = list(apps)
    return cfg


def parents(route: dict[str, Any]) -> list[str]:
    return [ref["name"] for ref in route["spec"]["parentRefs"]]


def test_seed_examples_on_main(plans: dict[str, Plan]) -> None:
    grafana = plans["main"].k8s_object("HTTPRoute", "grafana")
    assert grafana["metadata"]["namespace"] == "observability"
    assert grafana["spec"]["hostnames"] == ["grafana.example.com"]
    assert grafana["spec"]["parentRefs"] == [{"name": "envoy-internal", "namespace": "network", "sectionName": "https"}]
    assert grafana["spec"]["rules"] == [{"backendRefs": [{"name": "grafana-service", "port": 3000}]}]
    home = plans["main"].k8s_object("HTTPRoute", "home-assistant")
    assert home["spec"]["hostnames"] == ["home.example.com"]
    assert home["spec"]["rules"] == [{"backendRefs": [{"name": "home-assistant", "port": 8123}]}]
    assert parents(home) == ["envoy-internal"]


@pytest.mark.parametrize(
    ("exposure", "expected"),
    [
        ("external", ["envoy-external"]),
        ("internal", ["envoy-internal"]),
        ("dual", ["envoy-external", "envoy-internal"]),
    ],
)
def test_exposure_patterns(exposure: str, expected: list[str], run_program: RunProgram) -> None:
    plan = run_program("main", with_apps(app(exposure=exposure)))
    route = plan.k8s_object("HTTPRoute", "whoami")
    assert parents(route) == expected
    assert {ref["sectionName"] for ref in route["spec"]["parentRefs"]} == {"https"}
    # public DNS comes from external-dns watching envoy-external, never from the route itself
    assert "annotations" not in route["metadata"]


def test_routes_wait_for_the_chart(plans: dict[str, Plan]) -> None:
    plan = plans["main"]
    chart = plan.get("kubernetes:helm.sh/v3:Release", "envoy-gateway-release")
    routes = [r for r in plan.of_type(ROUTE) if r.k8s_object["metadata"]["name"] != "https-redirect"]
    assert len(routes) == 2
    for route in routes:
        assert chart.urn in route.dependencies


def test_staging_has_no_apps(plans: dict[str, Plan]) -> None:
    assert plans["staging"].of_type("homelab:app_route:AppRoute") == []


REFUSED = [
    (
        "hostname outside domain",
        [app(hostnames=["whoami.example.org"])],
        "homelab:apps[0].hostnames[0]",
        "'whoami.example.org' is not a name under the domain 'example.com'",
    ),
    (
        "bare domain is not under it",
        [app(hostnames=["example.com"])],
        "homelab:apps[0].hostnames[0]",
        "not a name under",
    ),
    ("unknown exposure", [app(exposure="public")], "homelab:apps[0].exposure", "'public'"),
    ("port zero", [app(port=0)], "homelab:apps[0].port", "greater than or equal to 1"),
    ("port too big", [app(port=65536)], "homelab:apps[0].port", "less than or equal to 65535"),
    (
        "hostname claimed twice",
        [app(), app(name="other", hostnames=["whoami.example.com"])],
        "homelab:apps[1].hostnames[0]",
        "already claimed by homelab:apps[0].hostnames[0]",
    ),
    ("no hostname", [app(hostnames=[])], "homelab:apps[0].hostnames", "at least 1"),
]


@pytest.mark.parametrize(("apps", "key", "reason"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_routes(apps: list[dict[str, Any]], key: str, reason: str, run_program: RunProgram) -> None:
    registered: list[Any] = []
    with pytest.raises(ConfigError) as err:
        run_program("main", with_apps(*apps), registered=registered)
    line = next((ln for ln in str(err.value).splitlines() if key in ln), "")
    assert reason in line, str(err.value)
    assert registered == []


MORE_REFUSED = [
    ("two labels deep", app(hostnames=["a.whoami.example.com"]), "not a name under the domain"),
    ("the tunnel's hostname", app(hostnames=["external.example.com"]), "is the tunnel's hostname"),
    ("envoy-internal's target", app(hostnames=["internal.example.com"]), "is envoy-internal's DNS target"),
]


@pytest.mark.parametrize(("bad", "reason"), [r[1:] for r in MORE_REFUSED], ids=[r[0] for r in MORE_REFUSED])
def test_hostnames_the_certificate_or_other_records_own_are_refused(
    bad: dict[str, Any], reason: str, run_program: RunProgram
) -> None:
    with pytest.raises(ConfigError) as err:
        run_program("main", with_apps(bad))
    line = next((ln for ln in str(err.value).splitlines() if "homelab:apps[0].hostnames[0]" in ln), "")
    assert reason in line, str(err.value)


def test_create_namespace(run_program: RunProgram) -> None:
    plan = run_program("main", with_apps(app(namespace="whoami", createNamespace=True)))
    namespace = plan.get("kubernetes:core/v1:Namespace", "whoami.namespace")
    assert namespace.k8s_object["metadata"]["name"] == "whoami"
    assert namespace.retain_on_delete is True
    assert namespace.urn in plan.get(ROUTE, "whoami.whoami-route").dependencies
    assert plan.by_urn(namespace.parent).name == "whoami.whoami"  # the app's component owns it


def app_namespaces(plan: Plan) -> list[str]:
    return sorted(r.name for r in plan.of_type("kubernetes:core/v1:Namespace") if "." in r.name)


def test_every_app_namespace_exists_before_its_route(run_program: RunProgram) -> None:
    """A route in a namespace nobody creates fails `pulumi up`: unless an app says the namespace
    is there already, the first app of a namespace creates it, retained, and the others wait."""
    plan = run_program(
        "main",
        with_apps(
            app(namespace="media", name="jellyfin", hostnames=["tv.example.com"]),
            app(namespace="media", name="sonarr", hostnames=["sonarr.example.com"]),
            app(namespace="default", name="whoami", hostnames=["whoami.example.com"]),
            app(namespace="network", name="echo", hostnames=["echo.example.com"]),
            app(namespace="flux-apps", name="blog", hostnames=["blog.example.com"], createNamespace=False),
        ),
    )
    assert app_namespaces(plan) == ["media.namespace"]
    media = plan.get("kubernetes:core/v1:Namespace", "media.namespace")
    assert media.retain_on_delete is True
    assert media.urn in plan.get(ROUTE, "media.jellyfin-route").dependencies
    assert media.urn in plan.get(ROUTE, "media.sonarr-route").dependencies
    assert plan.by_urn(media.parent).name == "media.jellyfin"
    assert plan.log == [
        "warning: homelab:cluster.domain: 'example.com' is a placeholder; set your own domain and zone",
        "warning: homelab:cluster.certificates.email: 'admin@example.com' is a placeholder; Let's Encrypt "
        "refuses addresses at reserved domains, so no certificate would be issued",
        "warning: homelab:apps[4].createNamespace: false: namespace 'flux-apps' must exist before `pulumi up` "
        "(nothing in this program creates it; `make preflight` checks it)",
        "warning: homelab:cluster.cloudflare.accountId: is the placeholder; set your Cloudflare account id",
    ]


def test_apps_that_disagree_on_their_namespace_are_refused(run_program: RunProgram) -> None:
    with pytest.raises(ConfigError) as err:
        run_program(
            "main",
            with_apps(
                app(namespace="media", name="jellyfin", hostnames=["tv.example.com"], createNamespace=True),
                app(namespace="media", name="sonarr", hostnames=["sonarr.example.com"], createNamespace=False),
            ),
        )
    assert str(err.value).splitlines()[1:] == [
        "  - homelab:apps[0].createNamespace: apps in namespace 'media' disagree on who creates it (true and "
        "false); say it once, on one app",
        "  - homelab:apps[1].createNamespace: apps in namespace 'media' disagree on who creates it (true and "
        "false); say it once, on one app",
    ]


def test_resource_names_cannot_collide(run_program: RunProgram) -> None:
    """`a-b/c` and `a/b-c` must not become the same Pulumi resource name."""
    plan = run_program(
        "main",
        with_apps(
            app(namespace="a-b", name="c", hostnames=["one.example.com"]),
            app(namespace="a", name="b-c", hostnames=["two.example.com"]),
        ),
    )
    assert {r.name for r in plan.of_type("homelab:app_route:AppRoute")} == {"a-b.c", "a.b-c"}


def test_an_app_namespace_keeps_its_resource_when_its_first_app_goes(run_program: RunProgram) -> None:
    """The Namespace is retained on delete: a new resource name would be a create of a namespace
    that is still there (AlreadyExists). Whichever app creates it, its URN stays the same."""
    jellyfin = app(namespace="media", name="jellyfin", hostnames=["tv.example.com"])
    sonarr = app(namespace="media", name="sonarr", hostnames=["sonarr.example.com"])
    both = run_program("main", with_apps(jellyfin, sonarr)).get("kubernetes:core/v1:Namespace", "media.namespace")
    alone = run_program("main", with_apps(sonarr)).get("kubernetes:core/v1:Namespace", "media.namespace")
    assert (
        both.urn
        == alone.urn
        == ("urn:pulumi:main::homelab::homelab:app_route:AppRoute$kubernetes:core/v1:Namespace::media.namespace")
    )
    assert alone.parent.endswith("::media.sonarr")
