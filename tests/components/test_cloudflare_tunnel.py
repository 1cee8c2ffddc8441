"""Cloudflare Tunnel: tunnel, ingress rules, DNS record, token Secret and cloudflared."""

from __future__ import annotations

from typing import Any

import pytest

from homelab.config.models import ConfigError
from homelab.plan import command as plan_cmd
from homelab.plan import mockrun
from homelab.plan.mockrun import Plan, Registration
from tests.conftest import STACKS, RunProgram, stack_config

TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared"
CONFIG = "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
RANDOM = "random:index/randomBytes:RandomBytes"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DOMAIN = {"main": "example.com", "staging": "example.net"}
ACCOUNT = "0123456789abcdef0123456789abcdef"


def container(plan: Plan) -> dict[str, Any]:
    (c,) = plan.k8s_object("Deployment", "cloudflared")["spec"]["template"]["spec"]["containers"]
    return c


@pytest.mark.parametrize("stack", STACKS)
def test_explicit_cloudflare_provider_with_secret_token(plans: dict[str, Plan], stack: str) -> None:
    (provider,) = plans[stack].of_type("pulumi:providers:cloudflare")
    assert mockrun.is_secret(provider.inputs["apiToken"])
    for res in plans[stack].resources:
        if res.type.startswith("cloudflare:"):
            assert res.provider.startswith(provider.urn + "::"), res.name


@pytest.mark.parametrize("stack", STACKS)
def test_tunnel(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    tunnel = plan.get(TUNNEL)
    assert tunnel.plain_inputs["accountId"] == ACCOUNT
    assert tunnel.plain_inputs["name"] == f"homelab-{stack}"
    assert tunnel.plain_inputs["configSrc"] == "cloudflare"
    assert mockrun.is_secret(tunnel.inputs["tunnelSecret"])
    assert tunnel.protect
    secret = plan.get(RANDOM)
    assert secret.plain_inputs["length"] >= 32
    assert tunnel.inputs["tunnelSecret"]["value"] == secret.outputs["base64"]  # generated once, kept in state


@pytest.mark.parametrize("stack", STACKS)
def test_ingress_rules(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    config = plan.get(CONFIG).plain_inputs
    assert config["tunnelId"] == plan.outputs["tunnelId"]
    assert config["config"]["ingresses"] == [
        {
            "hostname": f"*.{DOMAIN[stack]}",
            "service": "https://envoy-external.network.svc.cluster.local:443",
            "originRequest": {"http2Origin": True, "originServerName": f"external.{DOMAIN[stack]}"},
        },
        {"service": "http_status:404"},
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_origin_is_derived_from_the_gateway(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    gateway = plan.k8s_object("Gateway", "envoy-external")
    service = plan.get(CONFIG).plain_inputs["config"]["ingresses"][0]["service"]
    meta = gateway["metadata"]
    assert service == f"https://{meta['name']}.{meta['namespace']}.svc.cluster.local:443"
    origin_name = plan.get(CONFIG).plain_inputs["config"]["ingresses"][0]["originRequest"]["originServerName"]
    assert origin_name == meta["annotations"]["external-dns.alpha.kubernetes.io/target"]


@pytest.mark.parametrize("stack", STACKS)
def test_dns_record(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    record = plan.get(RECORD)
    tunnel_id = plan.outputs["tunnelId"]
    assert record.plain_inputs == {
        "zoneId": record.plain_inputs["zoneId"],
        "name": f"external.{DOMAIN[stack]}",
        "type": "CNAME",
        "content": f"{tunnel_id}.cfargotunnel.com",
        "proxied": True,
        "ttl": 1,
        "comment": record.plain_inputs["comment"],
    }
    assert record.protect


def test_zone_looked_up_by_name(plans: dict[str, Plan]) -> None:
    # the mock answers getZone with `mock-` and 27 hex digits of sha256("zone/<name asked for>")
    assert plans["main"].get(RECORD).plain_inputs["zoneId"] == "mock-8c7a86a1b4bb7dda193a77d13e2"


def test_tunnel_dns_names_differ_between_stacks(plans: dict[str, Plan]) -> None:
    assert {s: plans[s].get(RECORD).plain_inputs["name"] for s in STACKS} == {
        "main": "external.example.com",
        "staging": "external.example.net",
    }
    assert {s: plans[s].get(TUNNEL).plain_inputs["name"] for s in STACKS} == {
        "main": "homelab-main",
        "staging": "homelab-staging",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_token_secret(plans: dict[str, Plan], stack: str) -> None:
    secret = plans[stack].get("kubernetes:core/v1:Secret", "cloudflare-tunnel-token")
    assert secret.k8s_object["metadata"] == {"name": "cloudflared-tunnel", "namespace": "network"}
    assert mockrun.is_secret(secret.inputs["stringData"])
    assert mockrun.reveal(secret.inputs["stringData"]) == {
        "token": f"mock-tunnel-token-{plans[stack].outputs['tunnelId']}"
    }


@pytest.mark.parametrize("stack", STACKS)
def test_cloudflared_deployment(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    deployment = plan.k8s_object("Deployment", "cloudflared")
    assert deployment["metadata"]["namespace"] == "network"
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    pod = spec["template"]["spec"]
    (spread,) = pod["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["maxSkew"] == 1
    assert (
        spread["labelSelector"]["matchLabels"]
        == spec["selector"]["matchLabels"]
        == {"app.kubernetes.io/name": "cloudflared"}
    )
    c = container(plan)
    assert c["image"] == "docker.io/cloudflare/cloudflared:2026.8.2"
    assert c["args"] == ["tunnel", "run"]
    env = {e["name"]: e for e in c["env"]}
    assert env["TUNNEL_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "cloudflared-tunnel", "key": "token"}}
    assert env["TUNNEL_TRANSPORT_PROTOCOL"]["value"] == "quic"
    assert env["TUNNEL_POST_QUANTUM"]["value"] == "true"  # postQuantum: strict
    assert env["NO_AUTOUPDATE"]["value"] == "true"
    assert env["TUNNEL_METRICS"]["value"] == "0.0.0.0:8080"
    assert c["ports"] == [{"name": "metrics", "containerPort": 8080}]
    # ready = connected to the edge; alive = the process answers (an edge outage restarts nothing)
    assert c["readinessProbe"] == {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 10}
    assert c["livenessProbe"] == {
        "httpGet": {"path": "/healthcheck", "port": 8080},
        "periodSeconds": 10,
        "failureThreshold": 3,
    }
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65534
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert c["resources"] == {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}


@pytest.mark.parametrize("stack", STACKS)
def test_pod_disruption_budget(plans: dict[str, Plan], stack: str) -> None:
    pdb = plans[stack].k8s_object("PodDisruptionBudget", "cloudflared")
    assert pdb["metadata"]["namespace"] == "network"
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "cloudflared"}}}


@pytest.mark.parametrize("stack", STACKS)
def test_cloudflared_waits_for_what_it_needs(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    deployment: Registration = plan.get(DEPLOYMENT, "cloudflare-tunnel-cloudflared")
    needs = [
        plan.get("kubernetes:core/v1:Secret", "cloudflare-tunnel-token"),
        plan.get(CONFIG),
        plan.get(RECORD),
        plan.get("kubernetes:core/v1:Namespace", "envoy-gateway-namespace"),
        plan.get("kubernetes:gateway.networking.k8s.io/v1:Gateway", "envoy-gateway-external"),
    ]
    for need in needs:
        assert need.urn in deployment.dependencies, need.name


@pytest.mark.parametrize("stack", STACKS)
def test_exports(plans: dict[str, Plan], stack: str) -> None:
    out = plans[stack].outputs
    assert out["tunnelCname"] == f"{out['tunnelId']}.cfargotunnel.com"
    assert out["tunnelHostname"] == f"external.{DOMAIN[stack]}"


def test_tunnel_hostname_from_config(run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    cfg["homelab:cluster"]["cloudflare"]["tunnelHostname"] = "tunnel.example.net"
    plan = run_program("staging", cfg)
    assert plan.get(RECORD).plain_inputs["name"] == "tunnel.example.net"
    annotations = plan.k8s_object("Gateway", "envoy-external")["metadata"]["annotations"]
    assert annotations["external-dns.alpha.kubernetes.io/target"] == "tunnel.example.net"
    origin = plan.get(CONFIG).plain_inputs["config"]["ingresses"][0]["originRequest"]
    assert origin["originServerName"] == "tunnel.example.net"


@pytest.mark.parametrize("host", ["tunnel.example.com", "a.tunnel.example.net"])
def test_tunnel_hostname_outside_the_wildcard_is_refused(host: str, run_program: RunProgram) -> None:
    """cloudflared verifies envoy-external's certificate (*.<domain>) against this name."""
    cfg = stack_config("staging")
    cfg["homelab:cluster"]["cloudflare"]["tunnelHostname"] = host
    with pytest.raises(
        ConfigError, match=rf"homelab:cluster.cloudflare.tunnelHostname: '{host}' is not one label below"
    ):
        run_program("staging", cfg)


@pytest.mark.parametrize("stack", STACKS)
def test_tunnel_secret_and_token_never_in_plain_text(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    tunnel_secret = plan.get(RANDOM).outputs["base64"]
    token = f"mock-tunnel-token-{plan.outputs['tunnelId']}"
    for res in plan.resources:
        if res.type == RANDOM:
            continue  # the generator itself (its provider marks the output secret)
        for text in mockrun.plain_strings(res.inputs):
            assert tunnel_secret not in text and token not in text, f"{res.type} {res.name}"
    assert not any(tunnel_secret in s or token in s for s in mockrun.plain_strings(plan.outputs))


def test_plan_shows_cloudflare_beside_kubernetes(plans: dict[str, Plan]) -> None:
    lines = plan_cmd.tree(plans["main"])
    tunnel = next(i for i, line in enumerate(lines) if "homelab:cloudflare_tunnel:CloudflareTunnel" in line)
    children = lines[tunnel + 1 : tunnel + 8]
    assert any(TUNNEL in line for line in children)
    assert any(RECORD in line for line in children)
    assert any(DEPLOYMENT in line for line in children)
    files = plan_cmd.rendered_files(plans["main"])
    assert any(path.startswith("cloudflare-tunnel/DnsRecord") for path in files)
    assert "cloudflare-tunnel/Deployment-network-cloudflared.yaml" in files


# --- least privilege and rotation (issue: least privilege and safe rotation) ---------------------

#: The mock tunnel token of each stack (the mocks answer `mock-tunnel-token-<tunnel id>`) and the
#: first 16 hex digits of its SHA-256, worked out by hand with `hashlib.sha256`.
TOKEN_HASH = {"main": "2f0817622037f8eb"}


def test_pod_template_carries_a_hash_of_the_token_never_the_token(plans: dict[str, Plan]) -> None:
    plan = plans["main"]
    assert plan.outputs["tunnelId"] == "mock-tunnel-d5ed6f71-66c6-3590-c870-10a571d2d7f1"
    template = plan.k8s_object("Deployment", "cloudflared")["spec"]["template"]["metadata"]
    assert template["annotations"] == {"checksum/tunnel-token": TOKEN_HASH["main"]}
    deployment = plan.get(DEPLOYMENT, "cloudflare-tunnel-cloudflared")
    assert "mock-tunnel-token-" not in str(mockrun.reveal(deployment.inputs))


def test_a_new_token_rolls_the_pods(plans: dict[str, Plan], run_program: RunProgram) -> None:
    """Another tunnel (so another token) changes the pod template; the same one never does."""
    cfg = stack_config("main")
    cfg["homelab:cluster"]["cloudflare"]["tunnelName"] = "homelab-main-2"
    again = run_program("main", cfg)

    def annotation(plan: Plan) -> str:
        meta = plan.k8s_object("Deployment", "cloudflared")["spec"]["template"]["metadata"]
        return meta["annotations"]["checksum/tunnel-token"]

    assert annotation(again) != annotation(plans["main"])
    assert annotation(run_program("main")) == annotation(plans["main"])


@pytest.mark.parametrize("stack", STACKS)
def test_tunnel_secret_is_protected_like_the_tunnel(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    assert plan.get("random:index/randomBytes:RandomBytes", "cloudflare-tunnel-secret").protect is True
    assert plan.get(TUNNEL).protect is True
    assert plan.get(RECORD).protect is True


def test_post_quantum_prefer_drops_the_strict_switch(run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    cfg["homelab:release"]["cloudflared"]["postQuantum"] = "prefer"
    names = [e["name"] for e in container(run_program("staging", cfg))["env"]]
    assert names == ["TUNNEL_TOKEN", "TUNNEL_TRANSPORT_PROTOCOL", "NO_AUTOUPDATE", "TUNNEL_METRICS"]


def test_post_quantum_takes_only_strict_or_prefer(run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    cfg["homelab:release"]["cloudflared"]["postQuantum"] = "true"
    with pytest.raises(
        ConfigError, match=r"homelab:release.cloudflared.postQuantum: Input should be 'strict' or 'prefer'"
    ):
        run_program("staging", cfg)


TUNNEL_TOKEN = "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken"


@pytest.mark.parametrize("stack", STACKS)
def test_every_lookup_uses_the_stacks_cloudflare_provider_and_account(plans: dict[str, Plan], stack: str) -> None:
    """Not the default provider, which would read ambient credentials (CLOUDFLARE_API_TOKEN)."""
    plan = plans[stack]
    provider = plan.get("pulumi:providers:cloudflare")
    assert provider.name == f"cloudflare-{stack}"
    assert [(c.token, c.provider) for c in plan.calls] == [
        ("cloudflare:index/getZone:getZone", f"{provider.urn}::mock-cloudflare-{stack}"),
        (TUNNEL_TOKEN, f"{provider.urn}::mock-cloudflare-{stack}"),
    ]
    (token_call,) = [c for c in plan.calls if c.token == TUNNEL_TOKEN]
    assert token_call.args == {
        "accountId": "0123456789abcdef0123456789abcdef",
        "tunnelId": plan.outputs["tunnelId"],
    }


@pytest.mark.parametrize(("stack", "zone"), [("main", "example.com"), ("staging", "example.net")])
def test_zone_lookup_is_scoped_to_the_account_and_active_zones(plans: dict[str, Plan], stack: str, zone: str) -> None:
    lookups = [call.args for call in plans[stack].calls if call.token == "cloudflare:index/getZone:getZone"]
    assert lookups == [
        {
            "filter": {
                "match": "all",
                "name": zone,
                "account": {"id": "0123456789abcdef0123456789abcdef"},
                "status": "active",
            }
        }
    ]


def test_zone_id_in_config_means_no_lookup(run_program: RunProgram) -> None:
    cfg = stack_config("main")
    cfg["homelab:cluster"]["cloudflare"]["zoneId"] = "a" * 32
    plan = run_program("main", cfg)
    assert [c.token for c in plan.calls] == [TUNNEL_TOKEN]
    assert plan.get(RECORD).plain_inputs["zoneId"] == "a" * 32


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_in_any_registered_output(stack: str, run_program: RunProgram) -> None:
    """Component outputs and stack outputs: no tunnel token, API token or DNS token, even marked."""
    api, dns = "api-token-SENTINEL-0123456789", "dns-token-SENTINEL-0123456789"
    plan = run_program(stack, secret_values={"homelab:cloudflareApiToken": api, "homelab:cloudflareDnsApiToken": dns})
    components = [r for r in plan.resources if not r.custom]
    assert len(components) >= 7
    for res in components:
        shown = str(mockrun.reveal(res.outputs))
        for secret in ("mock-tunnel-token-", api, dns):
            assert secret not in shown, f"{res.type} {res.name} outputs {secret}"
    shown = str(mockrun.reveal(plan.outputs))
    for secret in ("mock-tunnel-token-", api, dns):
        assert secret not in shown
