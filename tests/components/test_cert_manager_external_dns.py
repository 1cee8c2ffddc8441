"""cert-manager (issuers, wildcard certificate) and external-dns (public records from routes)."""

from __future__ import annotations

from typing import Any

import pytest

from homelab.config.models import ConfigError
from homelab.plan import command as plan_cmd
from homelab.plan import mockrun
from homelab.plan.mockrun import Plan
from tests.conftest import STACKS, RunProgram, stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
DOMAIN = {"main": "example.com", "staging": "example.net"}
ZONE = {"main": "example.com", "staging": "example.net"}
TOKEN = "cf-api-token-SENTINEL-7f3a9c"
DNS = "cf-dns-only-token-SENTINEL-55"


def values(plan: Plan, release: str) -> dict[str, Any]:
    return plan.get(RELEASE, release).plain_inputs["values"]


# --- cert-manager -------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_cert_manager_chart(plans: dict[str, Plan], stack: str) -> None:
    inputs = plans[stack].get(RELEASE, "cert-manager-release").plain_inputs
    assert (inputs["chart"], inputs["version"], inputs["namespace"]) == ("cert-manager", "v1.21.1", "cert-manager")
    assert inputs["repositoryOpts"] == {"repo": "https://charts.jetstack.io"}
    v = inputs["values"]
    assert v["crds"]["enabled"] is True
    assert v["dns01RecursiveNameservers"] == "https://1.1.1.1:443/dns-query,https://1.0.0.1:443/dns-query"
    assert v["dns01RecursiveNameserversOnly"] is True


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize(
    ("issuer", "server"),
    [
        ("letsencrypt-prod", "https://acme-v02.api.letsencrypt.org/directory"),
        ("letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory"),
    ],
)
def test_cluster_issuers(plans: dict[str, Plan], stack: str, issuer: str, server: str) -> None:
    acme = plans[stack].k8s_object("ClusterIssuer", issuer)["spec"]["acme"]
    assert acme["server"] == server
    assert acme["email"] == "admin@example.com"
    (solver,) = acme["solvers"]
    assert solver["selector"] == {"dnsZones": [DOMAIN[stack]]}  # the stack's own names, not the whole zone
    assert solver["dns01"] == {
        "cloudflare": {"apiTokenSecretRef": {"name": "cloudflare-api-token", "key": "api-token"}}
    }


@pytest.mark.parametrize("stack", STACKS)
def test_token_secret_for_the_issuers(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    secret = plan.get("kubernetes:core/v1:Secret", "cert-manager-cloudflare-token")
    assert secret.k8s_object["metadata"] == {"name": "cloudflare-api-token", "namespace": "cert-manager"}
    assert mockrun.is_secret(secret.inputs["stringData"])


@pytest.mark.parametrize("stack", STACKS)
def test_wildcard_certificate(plans: dict[str, Plan], stack: str) -> None:
    cert = plans[stack].k8s_object("Certificate", "wildcard-tls")
    assert cert["metadata"]["namespace"] == "network"
    spec = cert["spec"]
    assert spec["secretName"] == "wildcard-tls"
    assert spec["dnsNames"] == [DOMAIN[stack], f"*.{DOMAIN[stack]}"]
    assert spec["privateKey"]["algorithm"] == "ECDSA"
    assert spec["issuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "letsencrypt-prod"}


@pytest.mark.parametrize("stack", STACKS)
def test_gateways_use_the_certificates_secret(plans: dict[str, Plan], stack: str) -> None:
    secret = plans[stack].k8s_object("Certificate", "wildcard-tls")["spec"]["secretName"]
    for name in ("envoy-external", "envoy-internal"):
        listeners = plans[stack].k8s_object("Gateway", name)["spec"]["listeners"]
        https = next(listener for listener in listeners if listener["name"] == "https")
        assert https["tls"]["certificateRefs"] == [{"kind": "Secret", "name": secret}]


def test_issuer_chosen_in_config(run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    cfg["homelab:cluster"]["certificates"]["issuer"] = "letsencrypt-staging"
    cert = run_program("staging", cfg).k8s_object("Certificate", "wildcard-tls")
    assert cert["spec"]["issuerRef"]["name"] == "letsencrypt-staging"


def test_stacks_never_ask_prod_for_the_same_names(plans: dict[str, Plan]) -> None:
    """Let's Encrypt allows 5 certificates per identical set of names a week."""
    prod = [
        frozenset(cert["spec"]["dnsNames"])
        for stack in STACKS
        if (cert := plans[stack].k8s_object("Certificate", "wildcard-tls"))["spec"]["issuerRef"]["name"]
        == "letsencrypt-prod"
    ]
    assert len(prod) == len(set(prod))


@pytest.mark.parametrize("stack", STACKS)
def test_cert_manager_ordering(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    chart = plan.get(RELEASE, "cert-manager-release")
    assert plan.get(RELEASE, "cilium-release").urn in chart.dependencies
    custom = [r for r in plan.resources if r.type.startswith("kubernetes:cert-manager.io/")]
    assert len(custom) == 3
    for res in custom:
        assert chart.urn in res.dependencies, res.name
    cert = plan.get("kubernetes:cert-manager.io/v1:Certificate")
    assert plan.get("kubernetes:core/v1:Namespace", "envoy-gateway-namespace").urn in cert.dependencies


# --- external-dns -------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_external_dns_values(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    inputs = plan.get(RELEASE, "external-dns-release").plain_inputs
    assert (inputs["chart"], inputs["version"], inputs["namespace"]) == ("external-dns", "1.21.1", "network")
    v = inputs["values"]
    assert v["provider"] == {"name": "cloudflare"}
    assert v["sources"] == ["gateway-httproute"]
    assert v["policy"] == "sync"
    assert v["txtPrefix"] == "k8s."
    assert v["domainFilters"] == [DOMAIN[stack]]
    assert v["annotationPrefix"] == "external-dns.alpha.kubernetes.io/"
    assert "--gateway-name=envoy-external" in v["extraArgs"]
    assert "--cloudflare-proxied" in v["extraArgs"]
    zone_filters = [a for a in v["extraArgs"] if a.startswith("--zone-id-filter=")]
    assert zone_filters == [
        f"--zone-id-filter={plan.get('cloudflare:index/dnsRecord:DnsRecord').plain_inputs['zoneId']}"
    ]
    assert v["env"] == [
        {"name": "CF_API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "external-dns-cloudflare", "key": "api-token"}}}
    ]
    secret = plan.get("kubernetes:core/v1:Secret", "external-dns-cloudflare-token")
    assert secret.k8s_object["metadata"] == {"name": "external-dns-cloudflare", "namespace": "network"}
    assert mockrun.is_secret(secret.inputs["stringData"])


@pytest.mark.parametrize(("stack", "owner"), [("main", "homelab"), ("staging", "homelab-staging")])
def test_owner_id_reaches_the_chart(plans: dict[str, Plan], stack: str, owner: str) -> None:
    """main keeps the seed's `homelab` exactly (the live records carry it); staging has its own."""
    assert values(plans[stack], "external-dns-release")["txtOwnerId"] == owner


def test_zone_id_from_config_skips_the_lookup(run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    cfg["homelab:cluster"]["cloudflare"]["zoneId"] = "f" * 32
    plan = run_program("staging", cfg)
    assert f"--zone-id-filter={'f' * 32}" in values(plan, "external-dns-release")["extraArgs"]


@pytest.mark.parametrize("stack", STACKS)
def test_external_dns_waits_for_the_gateway_chart(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    assert plan.get(RELEASE, "envoy-gateway-release").urn in plan.get(RELEASE, "external-dns-release").dependencies


# --- the API token ------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_api_token_never_in_plain_text(stack: str, run_program: RunProgram, tmp_path: Any) -> None:
    plan = run_program(stack, secret_values={"homelab:cloudflareApiToken": TOKEN, "homelab:cloudflareDnsApiToken": DNS})
    holders = []
    for res in plan.resources:
        for text in (*mockrun.plain_strings(res.inputs), *mockrun.plain_strings(res.outputs)):
            assert TOKEN not in text, f"{res.type} {res.name} holds the token in plain text"
            assert DNS not in text, f"{res.type} {res.name} holds the DNS token in plain text"
        if TOKEN in str(mockrun.reveal(res.inputs)) or TOKEN in str(mockrun.reveal(res.outputs)):
            holders.append(res.type)
    for text in mockrun.plain_strings(plan.outputs):
        assert TOKEN not in text and DNS not in text
    assert not any(TOKEN in line or DNS in line for line in plan.log)
    # the account token (it can read every tunnel's token) is the provider's alone: never in the cluster
    assert holders == ["pulumi:providers:cloudflare"]
    for content in plan_cmd.rendered_files(plan).values():
        assert TOKEN not in content and DNS not in content


BAD = [
    ("invalid email", "homelab:cluster.certificates.email", "admin@", "homelab:cluster.certificates.email"),
    ("domain not a dns name", "homelab:cluster.domain", "example_com", "homelab:cluster.domain"),
    ("domain outside zone", "homelab:cluster.domain", "example.org", "homelab:cluster.domain"),
    ("zone not a dns name", "homelab:cluster.cloudflare.zone", "example..com", "homelab:cluster.cloudflare.zone"),
]


@pytest.mark.parametrize(("path", "value", "key"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_refused(path: str, value: str, key: str, run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    top, *rest = path.split(".")
    node = cfg[top]
    for part in rest[:-1]:
        node = node[part]
    node[rest[-1]] = value
    with pytest.raises(ConfigError) as err:
        run_program("staging", cfg)
    line = next((ln for ln in str(err.value).splitlines() if key + ":" in ln), "")
    assert value in line, str(err.value)


@pytest.mark.parametrize(
    ("key", "scopes"),
    [
        (
            "homelab:cloudflareApiToken",
            "Account / Cloudflare Tunnel / Edit, Zone / DNS / Edit and Zone / Zone / Read",
        ),
        ("homelab:cloudflareDnsApiToken", "Zone / DNS / Edit and Zone / Zone / Read, on the stack's zone only"),
    ],
)
def test_missing_token_refused_with_the_token_to_create(key: str, scopes: str, run_program: RunProgram) -> None:
    """No fallback: without the DNS-only token the program stops, it never hands the API token over."""
    with pytest.raises(ConfigError) as err:
        run_program("staging", secret_values={key: ""})
    assert (
        f"{key}: required secret is missing; create a Cloudflare API token with {scopes} "
        f"and set it with `pulumi config set --secret {key} <value>`"
    ) in str(err.value)


def test_the_same_token_twice_is_refused(run_program: RunProgram) -> None:
    with pytest.raises(ConfigError) as err:
        run_program(
            "staging", secret_values={"homelab:cloudflareApiToken": TOKEN, "homelab:cloudflareDnsApiToken": TOKEN}
        )
    assert "homelab:cloudflareDnsApiToken: is the same token as homelab:cloudflareApiToken" in str(err.value)
    assert TOKEN not in str(err.value)


def test_plain_token_refused_without_echoing_it(run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    cfg["homelab:cloudflareApiToken"] = TOKEN  # plain, not `secure:`
    with pytest.raises(ConfigError) as err:
        mockrun.run("staging", cfg)
    assert "homelab:cloudflareApiToken: is set in plain text" in str(err.value)
    assert "--secret" in str(err.value)
    assert TOKEN not in str(err.value)


def test_the_cluster_gets_the_dns_token(run_program: RunProgram) -> None:
    """cert-manager's and external-dns's Secrets hold the DNS-only token; the provider the API token."""
    plan = run_program(
        "staging", secret_values={"homelab:cloudflareApiToken": TOKEN, "homelab:cloudflareDnsApiToken": DNS}
    )
    for name in ("cert-manager-cloudflare-token", "external-dns-cloudflare-token"):
        secret = plan.get("kubernetes:core/v1:Secret", name)
        assert mockrun.is_secret(secret.inputs["stringData"])
        assert mockrun.reveal(secret.inputs["stringData"]) == {"api-token": DNS}
    (provider,) = plan.of_type("pulumi:providers:cloudflare")
    assert mockrun.reveal(provider.inputs["apiToken"]) == TOKEN


def test_plain_dns_token_refused(run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    cfg["homelab:cloudflareDnsApiToken"] = "plain-dns-token-XYZ"
    with pytest.raises(ConfigError) as err:
        mockrun.run("staging", cfg)
    assert "homelab:cloudflareDnsApiToken: is set in plain text" in str(err.value)
    assert "plain-dns-token-XYZ" not in str(err.value)


def test_dns01_solver_covers_the_stacks_domain_not_its_whole_zone(run_program: RunProgram) -> None:
    """A domain below a zone (edge certificates on): the token solves only the stack's own names."""
    cfg = stack_config("staging")
    cluster = cfg["homelab:cluster"]
    cluster["domain"] = "staging.example.com"
    cluster["cloudflare"].update({"zone": "example.com", "advancedCertificates": True})
    plan = run_program("staging", cfg)
    for issuer in ("letsencrypt-prod", "letsencrypt-staging"):
        (solver,) = plan.k8s_object("ClusterIssuer", issuer)["spec"]["acme"]["solvers"]
        assert solver["selector"] == {"dnsZones": ["staging.example.com"]}


def test_a_new_dns_token_rolls_external_dns(run_program: RunProgram) -> None:
    """external-dns reads CF_API_TOKEN at start only: its pod template carries a hash of the token
    (16 hex digits of SHA-256, worked out by hand for the sentinel), never the token."""
    tokens = {"homelab:cloudflareApiToken": TOKEN, "homelab:cloudflareDnsApiToken": DNS}
    v = values(run_program("staging", secret_values=tokens), "external-dns-release")
    assert v["podAnnotations"] == {"checksum/cloudflare-token": "2d1e3a878413c079"}
    assert DNS not in str(v)
    rotated = {**tokens, "homelab:cloudflareDnsApiToken": DNS + "-rotated"}
    again = values(run_program("staging", secret_values=rotated), "external-dns-release")
    assert again["podAnnotations"]["checksum/cloudflare-token"] != "2d1e3a878413c079"
