"""Each stack touches only its own cluster and account (issue 23).

The checked-in stacks name their kube contexts after their clusters and share the placeholder
account id, so a program that took the context from the cluster's name, or fell back to a name
anywhere, would pass every other test. The ``lab`` stack here is written so that every value
identifying its cluster and account differs from anything a default or a naming rule would
produce: context ``admin@lab`` (as Talos names it, not ``lab``), its own account id and zone id
(given, so the zone is never looked up), tunnel name (not ``homelab-lab``), tunnel hostname
(not ``external.<domain>``), external-dns owner id, domain and Cilium cluster id.

Every expectation is a literal: the mock's answers (tunnel ids, the tunnel token, the tunnel
secret) were worked out by hand with ``hashlib``/``uuid`` as homelab/plan/mockrun.py computes them.
The second half checks that every Secret the program writes, and every secret input of the
Cloudflare side, is marked secret in the inputs Pulumi registers, on every stack.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homelab.plan import mockrun
from homelab.plan.mockrun import Plan, Registration
from tests.conftest import Project, linking_tests_to_code

LAB = "lab"
STACKS = ("main", "staging", LAB)

LAB_CONTEXT = "admin@lab"
LAB_ACCOUNT = "fedcba9876543210fedcba9876543210"
LAB_ZONE_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
LAB_DOMAIN = "labnet.example"  # RFC 2606: owned by nobody (the plan warns it is a placeholder)
LAB_TUNNEL = "lab-edge-tunnel"
LAB_TUNNEL_HOST = "edge.labnet.example"
LAB_OWNER = "lab-records-owner"
LAB_CLUSTER_ID = 42
LAB_API_TOKEN = "lab-api-token-not-a-real-one"
LAB_DNS_TOKEN = "lab-dns-token-not-a-real-one"

#: The lab stack's file: its own networks (beside main's and staging's), and every identity
#: value unlike any default. Release settings: staging's, as its gate requires.
LAB_CONFIG: dict[str, Any] = {
    "homelab:cluster": {
        "name": LAB,
        "clusterId": LAB_CLUSTER_ID,
        "kubeContext": LAB_CONTEXT,
        "kubernetesVersion": "1.35",
        "domain": LAB_DOMAIN,
        "network": {
            "vlan": "10.13.0.0/16",
            "podCidr": "10.203.0.0/16",
            "serviceCidr": "10.200.0.0/16",
            "apiServer": {"host": "10.13.0.10", "port": 6443},
        },
        "loadBalancer": {"blocks": [{"cidr": "10.13.0.15/32"}, {"start": "10.13.1.2", "stop": "10.13.1.127"}]},
        "gateways": {"internal": "10.13.1.21", "external": "10.13.1.22"},
        "dns": {"corednsIp": "10.200.0.10"},
        "certificates": {"email": "ops@labnet.example", "issuer": "letsencrypt-prod"},
        "externalDns": {"ownerId": LAB_OWNER},
        "cloudflare": {
            "accountId": LAB_ACCOUNT,
            "zone": LAB_DOMAIN,
            "zoneId": LAB_ZONE_ID,
            "tunnelName": LAB_TUNNEL,
            "tunnelHostname": LAB_TUNNEL_HOST,
        },
    },
    "homelab:apps": [
        {
            "name": "whoami",
            "namespace": "apps",
            "hostnames": ["whoami.labnet.example"],
            "service": "whoami",
            "port": 80,
            "exposure": "external",
            "createNamespace": True,
        }
    ],
    # homelab:promotion left out: the gate is on by default and reads staging, as on main
}
STAGING_REFERENCE = "organization/homelab/staging"

# ---------------------------------------------------------------------------------------------
# what identifies each stack, written out

PLACEHOLDER_ACCOUNT = "0123456789abcdef0123456789abcdef"
CONTEXT = {"main": "main", "staging": "staging", LAB: LAB_CONTEXT}
ACCOUNT = {"main": PLACEHOLDER_ACCOUNT, "staging": PLACEHOLDER_ACCOUNT, LAB: LAB_ACCOUNT}
ZONE = {"main": "example.com", "staging": "example.net", LAB: LAB_DOMAIN}
DOMAIN = ZONE
#: main and staging look their zone up (the mock's id: sha256("zone/<name>")); lab gives its own
ZONE_ID = {"main": "mock-8c7a86a1b4bb7dda193a77d13e2", "staging": "mock-56a17e27dddfa4ce71a5c761d3b", LAB: LAB_ZONE_ID}
TUNNEL_NAME = {"main": "homelab-main", "staging": "homelab-staging", LAB: LAB_TUNNEL}
TUNNEL_HOST = {"main": "external.example.com", "staging": "external.example.net", LAB: LAB_TUNNEL_HOST}
OWNER = {"main": "homelab", "staging": "homelab-staging", LAB: LAB_OWNER}
CLUSTER_ID = {"main": 1, "staging": 2, LAB: LAB_CLUSTER_ID}
#: the mock's tunnel id: "mock-tunnel-" + uuid(sha256(<tunnel name>)[:32])
TUNNEL_ID = {
    "main": "mock-tunnel-d5ed6f71-66c6-3590-c870-10a571d2d7f1",
    "staging": "mock-tunnel-9d4b5016-6420-c5d4-26f0-1618f33fcc39",
    LAB: "mock-tunnel-eb0c1701-099b-d1a2-8733-0c55a120613d",
}
API_TOKEN = {
    "main": "PLACEHOLDER-SECRET-cloudflareApiToken",
    "staging": "PLACEHOLDER-SECRET-cloudflareApiToken",
    LAB: LAB_API_TOKEN,
}
DNS_TOKEN = {
    "main": "PLACEHOLDER-SECRET-cloudflareDnsApiToken",
    "staging": "PLACEHOLDER-SECRET-cloudflareDnsApiToken",
    LAB: LAB_DNS_TOKEN,
}
#: the mock's getZeroTrustTunnelCloudflaredToken answer: "mock-tunnel-token-<tunnel id>"
TUNNEL_TOKEN = {stack: f"mock-tunnel-token-{tunnel}" for stack, tunnel in TUNNEL_ID.items()}
#: base64 of sha256("mock-cloudflare-tunnel-secret"): the mock RandomBytes, the same on every stack
TUNNEL_SECRET = "0Xa90WFJG6eZTBGeHNyi0QyQS0TP3viHy+A4xQ0aLP8="

HELM_RELEASES = [
    "cert-manager-release",
    "cilium-release",
    "coredns-release",
    "envoy-gateway-crds",
    "envoy-gateway-release",
    "external-dns-release",
]
K8S_PROVIDER = "pulumi:providers:kubernetes"
CF_PROVIDER = "pulumi:providers:cloudflare"
GET_ZONE = "cloudflare:index/getZone:getZone"
GET_TOKEN = "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken"


# ---------------------------------------------------------------------------------------------
# the lab stack: one more run of the program, in a copy of the project holding its file


class _Stacks(dict):
    """``stacks[name]``: main and staging from the session's ``plans``, lab run once here."""

    def __init__(self, plans: dict[str, Plan], root: Path) -> None:
        super().__init__()
        self.plans = plans
        self.root = root

    def __missing__(self, stack: str) -> Plan:
        if stack != LAB:
            return self.plans[stack]
        project = Project(self.root, pytest.MonkeyPatch())  # its monkeypatch serves plan(), unused here
        release = project.config("staging")["homelab:release"]
        project.write(LAB, {**copy.deepcopy(LAB_CONFIG), "homelab:release": release})
        plan = mockrun.run(
            LAB,
            root=project.root,
            # lab's staging gate reads staging's outputs: the session's run of it, not one more
            stack_outputs={STAGING_REFERENCE: self.plans["staging"].outputs},
            secret_values={"homelab:cloudflareApiToken": LAB_API_TOKEN, "homelab:cloudflareDnsApiToken": LAB_DNS_TOKEN},
        )
        if not linking_tests_to_code():  # see conftest: while mutmut links tests to code, no cache
            self[stack] = plan
        return plan


@pytest.fixture(scope="module")
def stacks(plans: dict[str, Plan], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Plan]:
    return _Stacks(plans, tmp_path_factory.mktemp("identity") / "project")


# ---------------------------------------------------------------------------------------------
# helpers


def provider_of(plan: Plan, res: Registration) -> Registration | None:
    """The provider a resource's reference (``<provider urn>::<id>``) resolves to; None for the
    default provider."""
    return provider_by_ref(plan, res.provider)


def provider_by_ref(plan: Plan, ref: str) -> Registration | None:
    if not ref:
        return None
    return plan.by_urn(ref.rsplit("::", 1)[0])


def context_of(plan: Plan, res: Registration) -> str:
    provider = provider_of(plan, res)
    if provider is None:
        return "<default provider: the ambient kubeconfig's current context>"
    if provider.type != K8S_PROVIDER:
        return f"<not a Kubernetes provider: {provider.type}>"
    return str(provider.plain_inputs.get("context", "<no context: the kubeconfig's current one>"))


def cloudflare_provider_of(plan: Plan, ref: str) -> str:
    """The name of the Cloudflare provider a reference resolves to."""
    provider = provider_by_ref(plan, ref)
    if provider is None:
        return "<default provider: the ambient CLOUDFLARE_API_TOKEN>"
    if provider.type != CF_PROVIDER:
        return f"<not a Cloudflare provider: {provider.type}>"
    return provider.name


def every_string(value: Any) -> Iterator[str]:
    """Every string in ``value``, secrets revealed, keys included."""
    value = mockrun.reveal(value)
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from every_string(v)
    elif isinstance(value, list):
        for v in value:
            yield from every_string(v)


def secret_throughout(value: Any) -> bool:
    """The value is under a secret marker (itself, or every value of a non-empty map)."""
    if mockrun.is_secret(value):
        return True
    return isinstance(value, dict) and bool(value) and all(secret_throughout(v) for v in value.values())


def helm_values(plan: Plan, name: str) -> dict[str, Any]:
    return plan.get("kubernetes:helm.sh/v3:Release", name).plain_inputs["values"]


# ---------------------------------------------------------------------------------------------
# providers


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_has_one_kubernetes_and_one_cloudflare_provider_with_its_own_context_and_token(
    stacks: dict[str, Plan], stack: str
) -> None:
    plan = stacks[stack]
    providers = {
        (r.type, r.name): mockrun.reveal(r.inputs) for r in plan.resources if r.type.startswith("pulumi:providers:")
    }
    assert providers == {
        (K8S_PROVIDER, stack): {"context": CONTEXT[stack]},
        (CF_PROVIDER, f"cloudflare-{stack}"): {"apiToken": API_TOKEN[stack]},
    }, f"stack {stack}: the Kubernetes provider's context must be homelab:cluster.kubeContext ({CONTEXT[stack]!r})"


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_resource_and_helm_release_is_on_the_stack_s_context(
    stacks: dict[str, Plan], stack: str
) -> None:
    plan = stacks[stack]
    on_kubernetes = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    elsewhere = {r.name: context_of(plan, r) for r in on_kubernetes if context_of(plan, r) != CONTEXT[stack]}
    assert elsewhere == {}, f"stack {stack}: resources not on the context {CONTEXT[stack]!r}"
    releases = sorted(r.name for r in on_kubernetes if r.type.startswith("kubernetes:helm.sh/"))
    assert releases == HELM_RELEASES


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_random_secret_and_the_gate_s_reference_use_a_default_provider(
    stacks: dict[str, Plan], stack: str
) -> None:
    plan = stacks[stack]
    custom = [r for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    defaults = sorted((r.type, r.name) for r in custom if not r.provider)
    gate = [("pulumi:pulumi:StackReference", "promotion-gate-staging")] if stack != "staging" else []
    assert defaults == [*gate, ("random:index/randomBytes:RandomBytes", "cloudflare-tunnel-secret")]


@pytest.mark.parametrize("stack", STACKS)
def test_every_cloudflare_resource_is_on_the_stack_s_account_token_and_zone(
    stacks: dict[str, Plan], stack: str
) -> None:
    plan = stacks[stack]
    on_cloudflare = [r for r in plan.resources if r.type.startswith("cloudflare:")]
    providers = {r.name: cloudflare_provider_of(plan, r.provider) for r in on_cloudflare}
    assert providers == dict.fromkeys(
        ["cloudflare-tunnel-tunnel", "cloudflare-tunnel-config", "cloudflare-tunnel-dns"], f"cloudflare-{stack}"
    ), f"stack {stack}: Cloudflare resources not on the stack's own provider (its token: the test above)"
    identity = {"accountId", "zoneId", "name", "tunnelId"}
    assert {r.name: {k: v for k, v in r.plain_inputs.items() if k in identity} for r in on_cloudflare} == {
        "cloudflare-tunnel-tunnel": {"accountId": ACCOUNT[stack], "name": TUNNEL_NAME[stack]},
        "cloudflare-tunnel-config": {"accountId": ACCOUNT[stack], "tunnelId": TUNNEL_ID[stack]},
        "cloudflare-tunnel-dns": {"zoneId": ZONE_ID[stack], "name": TUNNEL_HOST[stack]},
    }


def _zone_lookup(stack: str) -> tuple[str, dict[str, Any], str]:
    account = {"id": ACCOUNT[stack]}
    zone_filter = {"account": account, "match": "all", "name": ZONE[stack], "status": "active"}
    return GET_ZONE, {"filter": zone_filter}, f"cloudflare-{stack}"


#: every provider function each stack calls: (token, arguments, the provider it goes through)
LOOKUPS: dict[str, list[tuple[str, dict[str, Any], str]]] = {
    **{
        stack: [
            _zone_lookup(stack),
            (GET_TOKEN, {"accountId": ACCOUNT[stack], "tunnelId": TUNNEL_ID[stack]}, f"cloudflare-{stack}"),
        ]
        for stack in ("main", "staging")
    },
    # the zone id is given: no lookup at all
    LAB: [(GET_TOKEN, {"accountId": LAB_ACCOUNT, "tunnelId": TUNNEL_ID[LAB]}, "cloudflare-lab")],
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_lookup_carries_the_stack_s_account_and_goes_through_its_provider(
    stacks: dict[str, Plan], stack: str
) -> None:
    plan = stacks[stack]
    called = [(c.token, c.args, cloudflare_provider_of(plan, c.provider)) for c in plan.calls]
    assert sorted(called, key=lambda call: call[0]) == sorted(LOOKUPS[stack], key=lambda call: call[0])


# ---------------------------------------------------------------------------------------------
# what the cluster gets: owner id, domain, zone id, Cilium's cluster name and id


@pytest.mark.parametrize("stack", STACKS)
def test_external_dns_owns_only_the_stack_s_records(stacks: dict[str, Plan], stack: str) -> None:
    values = helm_values(stacks[stack], "external-dns-release")
    assert {k: values[k] for k in ("txtOwnerId", "domainFilters", "excludeDomains", "extraArgs")} == {
        "txtOwnerId": OWNER[stack],
        "domainFilters": [DOMAIN[stack]],
        "excludeDomains": [],
        "extraArgs": ["--gateway-name=envoy-external", "--cloudflare-proxied", f"--zone-id-filter={ZONE_ID[stack]}"],
    }


@pytest.mark.parametrize("stack", STACKS)
def test_cilium_knows_the_cluster_by_its_name_and_id(stacks: dict[str, Plan], stack: str) -> None:
    plan = stacks[stack]
    assert helm_values(plan, "cilium-release")["cluster"] == {"name": stack, "id": CLUSTER_ID[stack]}
    assert plan.get("kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool").k8s_object["metadata"] == {
        "name": f"{stack}-pool"
    }


@pytest.mark.parametrize("stack", STACKS)
def test_names_served_certified_and_tunnelled_are_the_stack_s_domain(stacks: dict[str, Plan], stack: str) -> None:
    plan = stacks[stack]
    domain = DOMAIN[stack]
    for issuer in ("letsencrypt-prod", "letsencrypt-staging"):
        (solver,) = plan.k8s_object("ClusterIssuer", issuer)["spec"]["acme"]["solvers"]
        assert solver["selector"] == {"dnsZones": [domain]}
    assert plan.k8s_object("Certificate", "wildcard-tls")["spec"]["dnsNames"] == [domain, f"*.{domain}"]
    targets = {
        gw: plan.k8s_object("Gateway", gw)["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/target"]
        for gw in ("envoy-external", "envoy-internal")
    }
    assert targets == {"envoy-external": TUNNEL_HOST[stack], "envoy-internal": f"internal.{domain}"}
    config = plan.get("cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig")
    (rule, _) = config.plain_inputs["config"]["ingresses"]
    assert (rule["hostname"], rule["originRequest"]["originServerName"]) == (f"*.{domain}", TUNNEL_HOST[stack])


def test_the_lab_app_routes_under_the_lab_domain_on_the_lab_context(stacks: dict[str, Plan]) -> None:
    plan = stacks[LAB]
    route = plan.get("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "apps.whoami-route")
    assert route.k8s_object["spec"]["hostnames"] == ["whoami.labnet.example"]
    assert context_of(plan, route) == LAB_CONTEXT
    assert context_of(plan, plan.get("kubernetes:core/v1:Namespace", "apps.namespace")) == LAB_CONTEXT


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_outputs_name_its_own_cluster(stacks: dict[str, Plan], stack: str) -> None:
    outputs = stacks[stack].outputs
    assert {k: outputs[k] for k in ("cluster", "kubeContext", "tunnelHostname", "tunnelId")} == {
        "cluster": stack,
        "kubeContext": CONTEXT[stack],
        "tunnelHostname": TUNNEL_HOST[stack],
        "tunnelId": TUNNEL_ID[stack],
    }


#: What each stack must never register: other stacks' identities, and for lab what a default or
#: a naming rule would have made of its name (context `lab` is covered by the provider tests:
#: `lab` is rightly Cilium's cluster name).
FOREIGN_PARTS: dict[str, tuple[str, ...]] = {
    "main": ("example.net", "homelab-staging", "10.12.", LAB_DOMAIN, LAB_ACCOUNT, LAB_CONTEXT, LAB_OWNER, LAB_TUNNEL),
    # not `example.com` in part: staging's Let's Encrypt account is admin@example.com, as main's
    "staging": (".example.com", "homelab-main", "10.11.", LAB_DOMAIN, LAB_ACCOUNT, LAB_CONTEXT, LAB_OWNER, LAB_TUNNEL),
    LAB: (
        "example.com",
        "example.net",
        PLACEHOLDER_ACCOUNT,
        "homelab-main",
        "homelab-staging",
        "10.11.",
        "10.12.",
        "PLACEHOLDER-SECRET-",
        "homelab-lab",  # the tunnel name's default
        "external.labnet.example",  # the tunnel hostname's default
    ),
}
FOREIGN_WHOLE: dict[str, tuple[str, ...]] = {
    "main": ("staging", "lab"),
    "staging": ("main", "lab", "example.com"),
    LAB: ("main", "staging", "homelab"),  # `homelab`: main's owner id
}


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_of_another_stack_is_registered(stacks: dict[str, Plan], stack: str) -> None:
    """Every string the stack registers, calls with or exports, secrets revealed. The one thing
    of another stack a stack reads is the staging gate's reference (staging's release)."""
    plan = stacks[stack]
    references = [(r.name, r.plain_inputs) for r in plan.of_type("pulumi:pulumi:StackReference")]
    assert references == ([] if stack == "staging" else [("promotion-gate-staging", {"name": STAGING_REFERENCE})])
    found: dict[str, str] = {}
    sources = [(r.name, r.inputs) for r in plan.resources if r.type != "pulumi:pulumi:StackReference"]
    sources += [(c.token, c.args) for c in plan.calls] + [("stack outputs", plan.outputs)]
    for where, value in sources:
        for text in every_string(value):
            if text in FOREIGN_WHOLE[stack] or any(part in text for part in FOREIGN_PARTS[stack]):
                found.setdefault(where, text)
    assert found == {}, f"stack {stack} registers what belongs to another stack or to a default"


# ---------------------------------------------------------------------------------------------
# secrets: every Secret the program writes, and the Cloudflare side's secret inputs

#: Every Kubernetes Secret the program writes (Helm charts' own are rendered in the cluster):
#: (resource, namespace, name) -> what its data holds, per stack
SECRETS = {
    ("cert-manager-cloudflare-token", "cert-manager", "cloudflare-api-token"): {"api-token": DNS_TOKEN},
    ("cloudflare-tunnel-token", "network", "cloudflared-tunnel"): {"token": TUNNEL_TOKEN},
    ("external-dns-cloudflare-token", "network", "external-dns-cloudflare"): {"api-token": DNS_TOKEN},
}


def marked(value: Any) -> dict[str, Any]:
    return {mockrun.SECRET_SIG_KEY: mockrun.SECRET_SIG, "value": value}


def kubernetes_objects(res: Registration) -> Iterator[dict[str, Any]]:
    """The objects a registration writes to the cluster, as registered (secret markers kept): a
    typed resource's inputs, or each of the ``objs`` of a ConfigGroup (a secret list: every field
    of each object under the list's marker)."""
    if not res.type.startswith("kubernetes:"):
        return
    if "kind" in res.inputs:
        yield res.inputs
    objs: Any = res.inputs.get("objs")
    if mockrun.is_secret(objs):
        objs = [{k: marked(v) for k, v in obj.items()} for obj in objs["value"]]
    for obj in objs if isinstance(objs, list) else []:
        yield {k: marked(v) for k, v in obj["value"].items()} if mockrun.is_secret(obj) else obj


def written_secrets(plan: Plan) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every Kubernetes object of kind Secret the program registers, however it is made (typed
    Secret, untyped object, ConfigGroup): (resource, namespace, name) -> its registered fields."""
    out = {}
    for res in plan.resources:
        for obj in kubernetes_objects(res):
            if mockrun.reveal(obj.get("kind")) == "Secret":
                meta = mockrun.reveal(obj.get("metadata")) or {}
                out[(res.name, meta.get("namespace"), meta.get("name"))] = obj
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_writes_exactly_these_secrets(stacks: dict[str, Plan], stack: str) -> None:
    """A new Secret fails here until it is added to SECRETS, and so gets the test below."""
    assert sorted(written_secrets(stacks[stack])) == sorted(SECRETS)


@pytest.mark.parametrize("secret", sorted(SECRETS), ids=lambda s: s[0])
@pytest.mark.parametrize("stack", STACKS)
def test_each_secret_s_data_is_secret_in_the_registered_inputs(
    stacks: dict[str, Plan], stack: str, secret: tuple[str, str, str]
) -> None:
    found = written_secrets(stacks[stack]).get(secret)
    assert found is not None, f"stack {stack}: no Secret {secret[1]}/{secret[2]} written by {secret[0]}"
    inputs = {k: v for k, v in found.items() if k not in ("__meta", "apiVersion", "kind", "metadata", "type")}
    assert sorted(inputs) == ["stringData"], f"stack {stack}: Secret {secret[1]}/{secret[2]} holds {sorted(inputs)}"
    assert secret_throughout(inputs["stringData"]), (
        f"stack {stack}: Secret {secret[1]}/{secret[2]}: its data is not marked secret in the registered inputs "
        f"(keys {sorted(mockrun.reveal(inputs['stringData']))} would be stored in plain text in the state)"
    )
    assert mockrun.reveal(inputs["stringData"]) == {key: value[stack] for key, value in SECRETS[secret].items()}


@pytest.mark.parametrize("stack", STACKS)
def test_the_cloudflare_side_s_secret_inputs_are_marked_secret(stacks: dict[str, Plan], stack: str) -> None:
    plan = stacks[stack]
    cloudflare = [r for r in plan.resources if r.type.startswith("cloudflare:") or r.type == CF_PROVIDER]
    marked = {r.name: sorted(k for k, v in r.inputs.items() if mockrun.is_secret(v)) for r in cloudflare}
    assert marked == {
        f"cloudflare-{stack}": ["apiToken"],
        "cloudflare-tunnel-tunnel": ["tunnelSecret"],
        "cloudflare-tunnel-config": [],
        "cloudflare-tunnel-dns": [],
    }, f"stack {stack}: secret inputs of the Cloudflare side not marked secret"
    assert mockrun.reveal(plan.get(CF_PROVIDER).inputs["apiToken"]) == API_TOKEN[stack]
    tunnel = plan.get("cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared")
    assert mockrun.reveal(tunnel.inputs["tunnelSecret"]) == TUNNEL_SECRET


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_appears_unmarked_anywhere(stacks: dict[str, Plan], stack: str) -> None:
    """Not in any input of any resource, argument of a lookup or stack output; and the token
    Pulumi uses never enters the cluster, not even marked secret."""
    plan = stacks[stack]
    secrets = (API_TOKEN[stack], DNS_TOKEN[stack], TUNNEL_TOKEN[stack], TUNNEL_SECRET)
    sources = [(r.name, r.inputs) for r in plan.resources] + [(c.token, c.args) for c in plan.calls]
    sources.append(("stack outputs", plan.outputs))
    plain = {
        where: [s for s in secrets if any(s in text for text in mockrun.plain_strings(value))]
        for where, value in sources
    }
    assert {where: found for where, found in plain.items() if found} == {}, f"stack {stack}: secrets in plain text"
    in_cluster = {
        r.name
        for r in plan.resources
        if r.type.startswith("kubernetes:") and any(API_TOKEN[stack] in text for text in every_string(r.inputs))
    }
    assert in_cluster == set(), f"stack {stack}: the Cloudflare API token reaches the cluster"
