"""The CRDs' CEL rules (``x-kubernetes-validations``), evaluated as the API server does on create.

The CRDs are the ones main's charts render, as the plan renders them (once per process).
Each object of a real CRD below passes the plan's OpenAPI check (``check``) and is refused, if at
all, by a CEL rule alone; the messages are the rules' own.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from components import envoy_gateway
from homelab.plan import cel_check, charts, helm, render, render_check
from homelab.plan import command as plan_cmd
from homelab.plan.mockrun import Plan
from homelab.plan.schema_check import split_api_version
from tests.conftest import STACKS, Project, need_helm

GATEWAY_API = "gateway.networking.k8s.io/v1"
ENVOY_API = "gateway.envoyproxy.io/v1alpha1"


@pytest.fixture(scope="module")
def crds(plans: dict[str, Plan]) -> list[dict[str, Any]]:
    """Every CRD the main stack's charts render (Gateway API, Envoy Gateway, cert-manager...),
    rendered as the plan renders them (once per process: render.render_release)."""
    need_helm()
    rendered = render.render(plans["main"], helm.find(), "1.35")
    return [obj for r in rendered for obj in r.objects if obj.get("kind") == "CustomResourceDefinition"]


@pytest.fixture(scope="module")
def openapi(crds: list[dict[str, Any]]) -> dict[tuple[str, str, str], Any]:
    """The plan's OpenAPI validators of the same CRDs: the objects below must pass them."""
    spec = render.ReleaseSpec(
        component="envoy-gateway",
        release="crds",
        namespace="network",
        chart=charts.Chart("gateway-crds-helm", "v1.9.0"),
        values={},
        include_crds=True,
    )
    return render_check.crd_validators([render.Rendered(spec, crds)])


def check(crds: list[dict[str, Any]], openapi: dict[tuple[str, str, str], Any], obj: dict[str, Any]) -> list[str]:
    """The CEL problems of one object, after making sure its OpenAPI schema accepts it."""
    assert render_check.validate_rendered(obj, "1.35", openapi, "o") == []
    return cel_check.problems(crds, [("o", obj)])


def gateway(*listeners: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": {"name": "g", "namespace": "network"},
        "spec": {"gatewayClassName": "envoy", "listeners": list(listeners)},
    }


HTTPS = {"name": "https", "port": 443, "protocol": "HTTPS", "tls": {"certificateRefs": [{"name": "wildcard-tls"}]}}


def test_an_http_listener_with_tls_is_refused(crds: list[dict[str, Any]], openapi: dict[Any, Any]) -> None:
    http = {"name": "http", "port": 80, "protocol": "HTTP", "tls": {"certificateRefs": [{"name": "wildcard-tls"}]}}
    assert check(crds, openapi, gateway(http, HTTPS)) == [
        "o  spec.listeners  tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"
    ]
    without_tls = {k: v for k, v in http.items() if k != "tls"}
    assert check(crds, openapi, gateway(without_tls, HTTPS)) == []


def test_client_traffic_policy_with_hops_and_cidrs_is_refused(
    crds: list[dict[str, Any]], openapi: dict[Any, Any]
) -> None:
    policy = {
        "apiVersion": ENVOY_API,
        "kind": "ClientTrafficPolicy",
        "metadata": {"name": "envoy", "namespace": "network"},
        "spec": {
            "clientIPDetection": {"xForwardedFor": {"trustedCIDRs": ["10.201.0.0/16"], "numTrustedHops": 1}},
            "targetSelectors": [{"kind": "Gateway", "group": "gateway.networking.k8s.io"}],
        },
    }
    assert check(crds, openapi, policy) == [
        "o  spec.clientIPDetection.xForwardedFor  only one of numTrustedHops or trustedCIDRs must be set"
    ]


def test_envoy_proxy_load_balancer_ip_needs_a_load_balancer_service(
    crds: list[dict[str, Any]], openapi: dict[Any, Any]
) -> None:
    """The service ``type`` defaults to LoadBalancer: without the default the rule could not
    read ``self.type`` and would fail to evaluate."""

    def proxy(service: dict[str, Any]) -> dict[str, Any]:
        kubernetes = {"envoyService": service}
        return {
            "apiVersion": ENVOY_API,
            "kind": "EnvoyProxy",
            "metadata": {"name": "envoy", "namespace": "network"},
            "spec": {"provider": {"type": "Kubernetes", "kubernetes": kubernetes}},
        }

    assert check(crds, openapi, proxy({"type": "ClusterIP", "loadBalancerIP": "10.11.1.22"})) == [
        "o  spec.provider.kubernetes.envoyService  loadBalancerIP can only be set for LoadBalancer type"
    ]
    assert check(crds, openapi, proxy({"loadBalancerIP": "10.11.1.22"})) == []


def route(*parent_refs: dict[str, Any], backend: dict[str, Any] | None = None) -> dict[str, Any]:
    rules = {"rules": [{"backendRefs": [backend]}]} if backend is not None else {}
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": {"name": "r", "namespace": "apps"},
        "spec": {"parentRefs": list(parent_refs), **rules},
    }


def test_http_route_backend_without_port_fails_because_of_the_defaults(
    crds: list[dict[str, Any]], openapi: dict[Any, Any]
) -> None:
    """A backendRef's ``group`` defaults to "" and ``kind`` to Service: only then does the rule
    ask for a port (without the defaults it could not evaluate at all)."""
    parent = {"name": "envoy-internal", "namespace": "network", "sectionName": "https"}
    assert check(crds, openapi, route(parent, backend={"name": "whoami"})) == [
        "o  spec.rules[0].backendRefs[0]  Must have port for Service reference"
    ]
    other = {"name": "whoami", "group": "gateway.envoyproxy.io", "kind": "Backend"}
    assert check(crds, openapi, route(parent, backend=other)) == []


def test_escaped_namespace_property_tells_parents_apart(crds: list[dict[str, Any]], openapi: dict[Any, Any]) -> None:
    """The parentRefs rule reads ``p.__namespace__`` (``namespace`` is a CEL reserved word): refs
    to two namespaces are two parents; two refs to one parent need a sectionName each."""
    first = {"name": "envoy-internal", "namespace": "network", "sectionName": "https"}
    assert check(crds, openapi, route(first, {"name": "envoy-internal", "namespace": "other"})) == []
    assert check(crds, openapi, route(first, {"name": "envoy-internal", "namespace": "network"})) == [
        "o  spec.parentRefs  sectionName or port must be specified when parentRefs includes 2 or more references "
        "to the same parent"
    ]


def test_escape_follows_kubernetes() -> None:
    assert [cel_check.escape(n) for n in ("namespace", "a-b.c/d", "a__b", "plain", "1st", "a b", "")] == [
        "__namespace__",
        "a__dash__b__dot__c__slash__d",
        "a__underscores__b",
        "plain",
        None,
        None,
        None,
    ]


def crd(schema: dict[str, Any]) -> dict[str, Any]:
    """A one-version CRD of kind Widget (example.com/v1) whose spec has ``schema``."""
    root = {"type": "object", "properties": {"spec": schema}}
    version = {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": root}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": [version]},
    }


def widget(spec: Any) -> tuple[str, dict[str, Any]]:
    return "Widget/w", {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}


def test_dashed_and_dotted_property_names_are_escaped() -> None:
    schema = {
        "type": "object",
        "properties": {"max-items.v2": {"type": "integer"}, "min_items": {"type": "integer"}},
        "x-kubernetes-validations": [
            {"rule": "self.min_items <= self.max__dash__items__dot__v2", "message": "min>max"}
        ],
    }
    assert cel_check.problems([crd(schema)], [widget({"max-items.v2": 3, "min_items": 2})]) == []
    assert cel_check.problems([crd(schema)], [widget({"max-items.v2": 1, "min_items": 2})]) == [
        "Widget/w  spec  min>max"
    ]


def test_field_path_message_expression_and_default_message() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "object", "properties": {"b.c": {"type": "integer"}}}, "n": {"type": "integer"}},
        "x-kubernetes-validations": [
            {"rule": "self.n > 1", "messageExpression": "'n is ' + string(self.n)", "fieldPath": ".a['b.c']"},
            {"rule": "self.n > 2"},
            {"rule": "self.n > 3", "message": "  n too small  "},
        ],
    }
    assert cel_check.problems([crd(schema)], [widget({"n": 1})]) == [
        'Widget/w  spec.a["b.c"]  n is 1',
        "Widget/w  spec  failed rule: self.n > 2",
        "Widget/w  spec  n too small",
    ]


def test_an_evaluation_error_is_a_problem() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "x-kubernetes-validations": [{"rule": "self.n > 0", "message": "n must be positive"}],
    }
    assert cel_check.problems([crd(schema)], [widget({})]) == [
        'Widget/w  spec  NOT_FOUND: Key not found in map : "n" evaluating rule: n must be positive'
    ]


def test_transition_rules_are_skipped_on_create(crds: list[dict[str, Any]], openapi: dict[Any, Any]) -> None:
    """GatewayClass's ``controllerName`` is immutable (``self == oldSelf``): there is no old
    object on create. An ``optionalOldSelf`` rule would run on create: it is reported, not passed."""
    gateway_class = {
        "apiVersion": GATEWAY_API,
        "kind": "GatewayClass",
        "metadata": {"name": "envoy"},
        "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
    }
    assert cel_check.compiled("self == oldSelf")[1:] == (True, "")
    assert check(crds, openapi, gateway_class) == []
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "x-kubernetes-validations": [
            {"rule": "self.n == oldSelf.n", "message": "immutable"},
            {"rule": "oldSelf.hasValue()", "optionalOldSelf": True},
        ],
    }
    assert cel_check.problems([crd(schema)], [widget({"n": 1})]) == [
        "Widget/w  spec  CEL rule of widgets.example.com with optionalOldSelf is not evaluated here: oldSelf.hasValue()"
    ]


def test_a_rule_that_does_not_compile_is_a_problem_not_a_pass() -> None:
    """Kubernetes' ``quantity`` library is not declared here: a rule using it is reported."""
    schema = {
        "type": "string",
        "x-kubernetes-validations": [{"rule": "isQuantity(self)", "message": "must be a quantity"}],
    }
    assert cel_check.problems([crd(schema)], [widget("1Gi")]) == [
        "Widget/w  spec  CEL rule of widgets.example.com does not compile here (INVALID_ARGUMENT: ERROR: "
        "<input>:1:11: undeclared reference to 'isQuantity' (in container '')): isQuantity(self)"
    ]


def test_structural_defaults_follow_kubernetes() -> None:
    schema = {
        "type": "object",
        "properties": {
            "mode": {"type": "string", "default": "Terminate"},
            "kept": {"type": "string", "default": "d"},
            "nullable": {"type": "string", "nullable": True, "default": "d"},
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"k": {"type": "string", "default": "x"}}},
            },
            "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {"p": {"default": 1}}}},
        },
    }
    value = {"kept": "mine", "nullable": None, "items": [{}, {"k": "y"}], "map": {"a": {}}}
    assert cel_check.defaulted(value, schema) == {
        "mode": "Terminate",
        "kept": "mine",
        "nullable": None,
        "items": [{"k": "x"}, {"k": "y"}],
        "map": {"a": {"p": 1}},
    }


def kinds(plan: Plan) -> list[tuple[str, str, str]]:
    objects = render_check.program_objects(plan)
    return [(*split_api_version(str(o["apiVersion"])), str(o["kind"])) for _, o in objects]


def test_every_rule_of_our_kinds_compiles(crds: list[dict[str, Any]], plans: dict[str, Plan]) -> None:
    ours = sorted({k for stack in STACKS for k in kinds(plans[stack])} & set(cel_check.crd_schemas(crds)))
    assert [kind for _, _, kind in ours] == [
        "Certificate",
        "ClusterIssuer",
        "BackendTrafficPolicy",
        "ClientTrafficPolicy",
        "EnvoyProxy",
        "Gateway",
        "GatewayClass",
        "HTTPRoute",
    ]
    assert cel_check.uncompiled(crds, ours) == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_stacks_objects_pass_within_the_budget(
    crds: list[dict[str, Any]], plans: dict[str, Plan], stack: str
) -> None:
    """Both stacks' custom resources pass every rule; one stack's check, compiling included,
    takes well under a second."""
    objects = render_check.program_objects(plans[stack])
    assert len([o for _, o in objects if o["kind"] in ("Gateway", "HTTPRoute", "EnvoyProxy")]) >= 4
    cel_check.compiled.cache_clear()
    start = time.perf_counter()
    found = cel_check.problems(crds, objects)
    elapsed = time.perf_counter() - start
    assert found == []
    assert elapsed < 1.0, f"CEL check of {stack} took {elapsed:.2f} s"


def test_a_cel_failure_fails_the_plan(
    project: Project,
    crds: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through `homelab plan`: exit 1 with the object, the path and the rule's message.
    The charts' rendering is the session's (their CRDs), not done again."""
    real = envoy_gateway.gateway_spec

    def with_tls_on_http(gw: envoy_gateway.GatewaySpec) -> dict[str, Any]:
        spec = copy.deepcopy(real(gw))
        spec["listeners"][0]["tls"] = spec["listeners"][1]["tls"]
        return spec

    chart = charts.Chart("gateway-crds-helm", "v1.9.0")
    # a helm.v4.Chart, as the program applies the CRDs: no release Secret to size
    spec = render.ReleaseSpec("envoy-gateway", "envoy-gateway-crds", "network", chart, {}, True, stored=False)
    rendered = render.Rendered(spec, crds)
    monkeypatch.setattr(envoy_gateway, "gateway_spec", with_tls_on_http)
    monkeypatch.setattr(render, "render", lambda *args, **kwargs: [rendered])
    capsys.readouterr()
    code = plan_cmd.main(["--stack", "staging", "--root", str(project.root)])
    err = capsys.readouterr().err
    assert code == 1, err
    problems = sorted(line.strip() for line in err.splitlines() if line.startswith("  "))  # registration order varies
    assert problems == [
        f"Gateway/network/{name} (envoy-gateway-{side})  spec.listeners  "
        "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"
        for name, side in (("envoy-external", "external"), ("envoy-internal", "internal"))
    ]
    assert (project.rendered / "staging" / "SCHEMA-PROBLEMS.txt").is_file()


@pytest.mark.parametrize(
    ("rule", "valid", "invalid"),
    [
        ("isIP(self) && !isIP('::ffff:10.0.0.1') && !isIP('fe80::1%eth0')", "10.0.0.1", "10.0.0.01"),
        ("isCIDR(self) && isCIDR('10.0.0.1/8') && !isCIDR('10.0.0.0')", "fd00::/64", "10.0.0.0/33"),
        ("self.find('[0-9]+') == '42' && self.findAll('[a-z]', 1) == ['a']", "a42b", "a4b"),
        ("self.lowerAscii().split('-') == ['ab', 'c'] && self.indexOf('-') == 2", "AB-c", "ABC-c"),
        ("self.split(',').map(x, int(x)).all(x, x > 0) && self.split(',').exists_one(x, x == '2')", "1,2", "2,2"),
        ("duration(self) > duration('59m') && ['a', 'bb'].filter(x, x.size() > 1).size() == 1", "1h", "30m"),
    ],
)
def test_the_libraries_a_rule_can_use(rule: str, valid: str, invalid: str) -> None:
    """Standard functions and macros, the strings extension, Kubernetes' ip/cidr and regex ones."""
    schema = {"type": "string", "x-kubernetes-validations": [{"rule": rule}]}
    assert cel_check.problems([crd(schema)], [widget(valid)]) == []
    assert cel_check.problems([crd(schema)], [widget(invalid)]) == [f"Widget/w  spec  failed rule: {rule}"]
