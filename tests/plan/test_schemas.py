"""Every custom resource and Helm release of each stack against the upstream schemas (issue 6),
and a self-test of the validator: known-bad input must be rejected at the faulty path and
known-good input accepted, so the check can neither pass silently nor over-reject."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.output import Unknown

from homelab.plan import mockrun, values_scan
from homelab.plan import schema_check as sc
from homelab.plan.mockrun import Plan, Registration
from tests.conftest import STACKS, RunProgram, stack_config

GATEWAY_API = "gateway.networking.k8s.io/v1"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_matches_upstream_schemas(plans: dict[str, Plan], schemas: Path, stack: str) -> None:
    problems = sc.plan_problems(plans[stack], schemas)
    listing = "\n".join(f"  {p}" for p in problems)
    assert problems == [], f"{len(problems)} schema problem(s) in stack {stack}:\n{listing}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_and_release_is_checked(plans: dict[str, Plan], schemas: Path, stack: str) -> None:
    """A fault planted in the real registrations is found: the plan's objects are really read."""
    plan = plans[stack]
    bad = copy.deepcopy(plan.resources)
    planted = 0
    for r in bad:
        if r.type == RELEASE:
            values = r.inputs["values"]
            (values["value"] if mockrun.is_secret(values) else values)["notAChartKey"] = True
            planted += 1
        elif r.custom and r.type.startswith("kubernetes:") and sc.resource_problems(r, schemas) == []:
            group = r.type.split(":")[1].rpartition("/")[0]
            if group not in sc.BUILTIN_GROUPS:
                r.inputs["spec"] = {**(r.inputs.get("spec") or {}), "notASpecField": 1}
                planted += 1
    problems = sc.plan_problems(Plan(stack, bad, {}, []), schemas)
    assert planted >= 3  # the Cilium and CoreDNS releases, the pool and the L2 policy at least
    assert len([p for p in problems if "notAChartKey" in p or "notASpecField" in p]) == planted, problems


# ---------------------------------------------------------------------------------------------
# custom resources


def pool(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool", "metadata": {"name": "p"}, "spec": spec}


def route(backend: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": {"name": "app", "namespace": "default"},
        "spec": {
            "parentRefs": [{"name": "envoy-internal", "namespace": "network", "sectionName": "https"}],
            "hostnames": ["app.example.com"],
            "rules": [{"backendRefs": [backend]}],
        },
    }


def gateway(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": {"name": "envoy-internal", "namespace": "network"},
        "spec": {
            "gatewayClassName": "envoy",
            "listeners": [
                {"name": "http", "protocol": "HTTP", "port": 80},
                {
                    "name": "https",
                    "protocol": "HTTPS",
                    "port": 443,
                    "hostname": "*.example.com",
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "wildcard-tls"}]},
                },
            ],
            **spec,
        },
    }


GOOD_OBJECTS = {
    "pool": pool(
        {
            "allowFirstLastIPs": "Yes",
            "blocks": [{"cidr": "10.11.0.15/32"}, {"start": "10.11.1.2", "stop": "10.11.1.127"}],
        }
    ),
    "l2-policy": {
        "apiVersion": "cilium.io/v2alpha1",
        "kind": "CiliumL2AnnouncementPolicy",
        "metadata": {"name": "l2-policy"},
        "spec": {"loadBalancerIPs": True, "interfaces": ["^eth[0-9]+"]},
    },
    "route": route({"name": "app", "port": 8080}),
    "gateway": gateway(infrastructure={"annotations": {"lbipam.cilium.io/ips": "10.11.1.21"}}),
    "certificate": {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "wildcard-tls", "namespace": "network"},
        "spec": {
            "secretName": "wildcard-tls",
            "dnsNames": ["example.com", "*.example.com"],
            "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt-prod"},
        },
    },
}

# name -> (object, path of the fault, words of the message)
BAD_OBJECTS = {
    "misspelled field": (
        pool({"blocks": [{"cidrs": "10.11.0.0/24"}]}),
        "spec.blocks[0].cidrs",
        "'cidrs' was unexpected",
    ),
    "wrong type": (
        route({"name": "app", "port": "8080"}),
        "spec.rules[0].backendRefs[0].port",
        "not of type 'integer'",
    ),
    "bad enum": (pool({"allowFirstLastIPs": True, "blocks": []}), "spec.allowFirstLastIPs", "is not one of"),
    "misspelled spec": (
        {"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool", "metadata": {"name": "p"}, "sepc": {}},
        "sepc",
        "'sepc' was unexpected",
    ),
    "bad format": (
        gateway(addresses=[{"type": "IPAddress", "value": "10.11.1.300"}]),
        "spec.addresses[0].value",
        "not valid under any",
    ),
    "address without type": (  # the API server would default it; JSON Schema cannot (schemas README)
        gateway(addresses=[{"value": "10.11.1.21"}]),
        "spec.addresses[0]",
        "valid under each of",
    ),
    "kind without a schema": (
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}},
        "kind",
        "no schema for Widget example.com/v1",
    ),
    "version without a schema": (
        {"apiVersion": "cilium.io/v3", "kind": "CiliumLoadBalancerIPPool", "metadata": {"name": "p"}, "spec": {}},
        "kind",
        "cilium.io/ciliumloadbalancerippool_v3.json",
    ),
    "experimental-only field": (
        gateway(defaultScope="All"),
        "spec.defaultScope",
        "exists only in the experimental channel",
    ),
    "experimental-only version": (
        {"apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "TLSRoute", "metadata": {"name": "t"}, "spec": {}},
        "apiVersion",
        "only in the experimental channel",
    ),
}


@pytest.mark.parametrize("name", GOOD_OBJECTS)
def test_valid_object_passes(schemas: Path, name: str) -> None:
    assert sc.validate_upstream(GOOD_OBJECTS[name], schemas) == []


@pytest.mark.parametrize("name", BAD_OBJECTS)
def test_invalid_object_is_rejected_at_the_fault(schemas: Path, name: str) -> None:
    obj, path, words = BAD_OBJECTS[name]
    problems = sc.validate_upstream(obj, schemas)
    assert [p for p in problems if p.path == path and words in p.message], problems


def test_standard_field_not_marked_experimental(schemas: Path) -> None:
    (problem,) = sc.validate_upstream(route({"name": "app", "port": "8080"}), schemas)
    assert "experimental" not in problem.message


def test_builtin_object_needs_no_schema(schemas: Path) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "network"}}
    assert sc.validate_upstream(secret, schemas) == []


def test_value_unknown_until_apply_is_not_a_problem(schemas: Path) -> None:
    obj = route({"name": Unknown(), "port": 8080})
    assert sc.validate_upstream(obj, schemas) == []


# ---------------------------------------------------------------------------------------------
# Helm values

GOOD_VALUES: dict[str, dict[str, Any]] = {
    "cilium": {
        "kubeProxyReplacement": True,
        "k8sServiceHost": "10.11.0.10",
        "k8sServicePort": 6443,
        "loadBalancer": {"mode": "dsr", "algorithm": "maglev"},  # both only commented out upstream
        "l2announcements": {
            "enabled": True,
            "leaseDuration": "15s",
            "leaseRenewDeadline": "5s",
            "leaseRetryPeriod": "2s",
        },
        "operator": {"rollOutPods": True, "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]},
        "affinity": {"nodeAffinity": {}},  # a Kubernetes Affinity: not the chart's to document
        "logOptions": {"format": "json", "level": "info"},  # a commented-out example mapping
    },
    "coredns": {
        "fullnameOverride": "coredns",
        "service": {"clusterIP": "10.200.0.10", "name": "kube-dns"},  # clusterIP: commented out upstream
        "k8sAppLabelOverride": "kube-dns",  # commented out upstream
        "servers": [
            {
                "zones": [{"zone": ".", "scheme": "dns://", "use_tcp": True}],
                "port": 53,
                "plugins": [{"name": "errors"}, {"name": "health", "configBlock": "lameduck 5s"}],
            }
        ],
        "podDisruptionBudget": {"maxUnavailable": 1},
        "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}],
        "securityContext": {"runAsUser": 65534},
    },
    "gateway-helm": {
        "config": {
            "envoyGateway": {"provider": {"type": "Kubernetes", "kubernetes": {"deploy": {"type": "GatewayNamespace"}}}}
        },
        "deployment": {"replicas": 2, "envoyGateway": {"resources": {"limits": {"cpu": "1"}}}},
        "podDisruptionBudget": {"maxUnavailable": 1},  # commented out upstream
    },
    "external-dns": {
        "provider": {"name": "cloudflare"},
        "sources": ["gateway-httproute"],
        "policy": "sync",
        "txtOwnerId": "homelab",
        "txtPrefix": "k8s.",
        "domainFilters": ["example.com"],
        "extraArgs": ["--cloudflare-proxied", "--gateway-name=envoy-external"],
        "env": [{"name": "CF_API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "cf", "key": "token"}}}],
    },
    "cert-manager": {
        "crds": {"enabled": True},
        "dns01RecursiveNameserversOnly": True,
        "dns01RecursiveNameservers": "https://1.1.1.1:443/dns-query,https://1.0.0.1:443/dns-query",
    },
}

# name -> (chart, values, path of the fault, words of the message)
BAD_VALUES = {
    "cilium unknown key": (
        "cilium",
        {"l2anouncements": {"enabled": True}},
        "values.l2anouncements",
        "did you mean 'l2announcements'",
    ),
    "cilium unknown nested key": (
        "cilium",
        {"loadBalancer": {"modes": "dsr"}},
        "values.loadBalancer.modes",
        "unknown key",
    ),
    "cilium wrong type": (
        "cilium",
        {"l2announcements": {"enabled": "yes"}},
        "values.l2announcements.enabled",
        "boolean",
    ),
    "coredns unknown key": (
        "coredns",
        {"service": {"clusterIp": "10.200.0.10"}},
        "values.service.clusterIp",
        "unknown key",
    ),
    "coredns unknown key in a list item": (
        "coredns",
        {"servers": [{"zones": [{"zone": ".", "schema": "dns://"}], "port": 53}]},
        "values.servers[0].zones[0].schema",
        "unknown key",
    ),
    "gateway-helm unknown key": (
        "gateway-helm",
        {"deployment": {"replica": 2}},
        "values.deployment.replica",
        "did you mean 'replicas'",
    ),
    "gateway-helm mapping for a scalar": (
        "gateway-helm",
        {"kubernetesClusterDomain": {"name": "cluster.local"}},
        "values.kubernetesClusterDomain",
        "default is a scalar",
    ),
    "external-dns unknown key": ("external-dns", {"txtOwnerID": "homelab"}, "values.txtOwnerID", "unknown key"),
    "external-dns bad enum": ("external-dns", {"policy": "delete"}, "values.policy", "is not one of"),
    "cert-manager wrong type": ("cert-manager", {"crds": {"enabled": "true"}}, "values.crds.enabled", "boolean"),
    "cert-manager unknown key": ("cert-manager", {"installCRD": True}, "values", "'installCRD' was unexpected"),
    "chart without schema or values": ("no-such-chart", {}, "chart", "no schema for chart 'no-such-chart'"),
}


@pytest.mark.parametrize("chart", GOOD_VALUES)
def test_valid_values_pass(schemas: Path, chart: str) -> None:
    assert sc.validate_helm_values(chart, GOOD_VALUES[chart], schemas) == []


@pytest.mark.parametrize("name", BAD_VALUES)
def test_invalid_values_are_rejected_at_the_fault(schemas: Path, name: str) -> None:
    chart, values, path, words = BAD_VALUES[name]
    problems = sc.validate_helm_values(chart, values, schemas)
    assert [p for p in problems if p.path.startswith(path) and words in p.message], problems


def test_helm_null_deletes_a_default(schemas: Path) -> None:
    """Helm drops keys set to null before it validates: not a type error."""
    assert sc.validate_helm_values("cilium", {"k8sServiceHost": None}, schemas) == []


@pytest.mark.parametrize(
    ("chart", "expected"),
    [
        ("oci://docker.io/envoyproxy/gateway-helm", "gateway-helm"),
        ("cilium", "cilium"),
        ("jetstack/cert-manager", "cert-manager"),
        ("https://example.com/charts/external-dns/", "external-dns"),
    ],
)
def test_chart_name(chart: str, expected: str) -> None:
    assert sc.chart_name(chart) == expected


def values_files(schemas: Path) -> list[Path]:
    return sorted((schemas / "helm-values").glob("*.values.yaml"))


def test_values_walk_finds_exactly_the_real_keys(schemas: Path) -> None:
    """The line walk that places commented-out keys tracks indentation like the YAML parser."""
    assert values_files(schemas)
    for path in values_files(schemas):
        text = path.read_text()
        assert values_scan.scan(text).real == set(values_scan.key_paths(yaml.safe_load(text) or {})), path.name


def test_commented_keys_are_real_keys(schemas: Path) -> None:
    """cert-manager's strict schema lists every value the chart reads: each key its values.yaml
    documents only in comments must be one of them (examples and prose must not leak in)."""
    schema = json.loads((schemas / "helm-values" / "cert-manager.schema.json").read_text())

    def resolve(node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    commented = values_scan.scan((schemas / "helm-values" / "cert-manager.values.yaml").read_text()).commented
    assert len(commented) > 50
    unknown = []
    for path in commented:
        node = resolve(schema)
        for part in path:
            if part == "[]":
                node = resolve(node.get("items") or {})
                continue
            props = node.get("properties")
            if props is None:  # free-form below here
                break
            if part not in props:
                unknown.append(".".join(path))
                break
            node = resolve(props[part])
    assert unknown == []


# ---------------------------------------------------------------------------------------------
# the plan


def registration(type_: str, inputs: dict[str, Any], name: str = "r", custom: bool = True) -> Registration:
    return Registration(type_, name, f"urn:{name}", "", custom, "", False, [], inputs)


def test_plan_problem_lines(schemas: Path) -> None:
    secret = {mockrun.SECRET_SIG_KEY: mockrun.SECRET_SIG, "value": "hunter2-token"}
    resources = [
        registration("kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool", pool({"blocks": [{"cidrs": "x"}]})),
        registration("kubernetes:example.com/v1:Widget", {"apiVersion": "example.com/v1", "kind": "Widget"}, "w"),
        registration("kubernetes:core/v1:Secret", {"apiVersion": "v1", "kind": "Secret", "bogus": 1}),
        registration("homelab:cilium:Cilium", {"anything": 1}, custom=False),
        registration("cloudflare:index/dnsRecord:DnsRecord", {"anything": 1}),
        registration(
            RELEASE,
            {
                "chart": "jetstack/cert-manager",
                "name": "cert-manager",
                "namespace": "cert-manager",
                "values": {"crds": {"enabled": secret}},
            },
        ),
    ]
    problems = sc.plan_problems(Plan("main", resources, {}, []), schemas)
    assert problems == [
        "CiliumLoadBalancerIPPool/p  spec.blocks[0].cidrs  "
        "Additional properties are not allowed ('cidrs' was unexpected)",
        "Widget/w (pulumi name)  kind  no schema for Widget example.com/v1: example.com/widget_v1.json is not in "
        f"{schemas}",
        "helm/cert-manager/cert-manager  values.crds.enabled  '[secret]' is not of type 'boolean'",
    ]


def test_plan_without_schemas_is_one_problem(tmp_path: Path) -> None:
    (problem,) = sc.plan_problems(Plan("main", [], {}, []), tmp_path / "absent")
    assert "upstream schemas not found" in problem


def test_version_note_when_a_chart_moves_past_the_schemas(run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    cfg["homelab:release"]["charts"]["cilium"] = "1.20.1"
    notes = sc.version_notes(run_program("staging", cfg))
    assert notes == [
        "note: chart cilium 1.20.1 is checked against the schemas of 1.20.0 (../shared/schemas): "
        "new keys of the newer chart show up as problems, removed ones do not"
    ]


def test_no_version_note_for_the_pinned_charts(plans: dict[str, Plan]) -> None:
    assert sc.version_notes(plans["main"]) == []
