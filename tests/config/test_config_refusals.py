"""Typed stack config: how refusals read (the key, the value once, never a secret), rule by rule."""

from __future__ import annotations

from typing import Any

import pytest

from homelab.config import models as config
from homelab.config import policy
from homelab.config.models import ConfigError
from tests.conftest import app
from tests.support.config_values import SECRETS, raw_config

# ---------------------------------------------------------------------------------------------
# how refusals read: the key, the value once, never a secret


def test_a_config_error_lists_each_problem_and_names_its_file() -> None:
    assert str(ConfigError(["homelab:a: bad", "homelab:b: worse"])) == (
        "invalid stack config:\n  - homelab:a: bad\n  - homelab:b: worse"
    )
    assert str(ConfigError(["homelab:a: bad"], "Pulumi.main.yaml")) == (
        "invalid stack config (Pulumi.main.yaml):\n  - homelab:a: bad"
    )


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (  # pydantic's validator and union-branch names are not keys
            {
                "loc": ("cluster", "function-after[check(), Cluster]", "vlan"),
                "type": "value_error",
                "msg": "Value error, out of range",
                "input": 4095,
            },
            "homelab:cluster.vlan: out of range (got 4095)",
        ),
        (
            {"loc": ("cluster", "blocks", 1, "list[str]"), "type": "value_error", "msg": "bad block", "input": "x"},
            "homelab:cluster.blocks[1]: bad block (got 'x')",
        ),
        (
            {"loc": (), "type": "model_type", "msg": "must be a mapping", "input": 3},
            "homelab: must be a mapping (got 3)",
        ),
        (  # the value is in the message already: not twice
            {"loc": ("cluster", "vlan"), "type": "value_error", "msg": "4095 is out of range", "input": 4095},
            "homelab:cluster.vlan: 4095 is out of range",
        ),
        (  # a mapping is never echoed, whether or not the message shows it
            {"loc": ("cluster",), "type": "model_type", "msg": "must be a string", "input": {"a": 1}},
            "homelab:cluster: must be a string",
        ),
        (
            {"loc": ("cluster", "nam"), "type": "extra_forbidden", "msg": "x", "input": "secret"},
            "homelab:cluster.nam: unknown key (typo?)",
        ),
        (
            {"loc": ("cluster", "name"), "type": "missing", "msg": "x", "input": {}},
            "homelab:cluster.name: required key is missing",
        ),
    ],
    ids=["validator-name", "union-branch", "top", "value-in-message", "mapping", "unknown", "missing"],
)
def test_each_pydantic_error_becomes_one_line_with_the_key(error: dict[str, Any], line: str) -> None:
    assert policy.format_error(error) == line


SECRET_8 = "s3cret-8"  # 8 characters: the shortest secret that is masked
SECRET_12 = "s3cret-8-and"  # contains the first: the longer one is masked whole


def test_redact_masks_the_secrets_and_credentials_longest_first() -> None:
    raw = {
        config.API_TOKEN_KEY: SECRET_12,
        config.DNS_TOKEN_KEY: SECRET_8,
        "apps": [{"name": "Ab3dEf6hIj9kLm2nOp5qRs8tUv"}],  # credential-shaped, inside a list
    }
    problems = [f"homelab:x: {SECRET_12} and {SECRET_8}", "homelab:apps[0].name: Ab3dEf6hIj9kLm2nOp5qRs8tUv here"]
    assert policy.redact(problems, raw) == [
        "homelab:x: [hidden: 12 characters that look like a credential] and "
        "[hidden: 8 characters that look like a credential]",
        "homelab:apps[0].name: [hidden: 26 characters that look like a credential] here",
    ]


def test_redact_leaves_a_secret_shorter_than_8_characters() -> None:
    """Masking a short word such as "token" would garble messages; no real token is that short."""
    assert policy.redact(["homelab:x: s3cret7"], {config.API_TOKEN_KEY: "s3cret7"}) == ["homelab:x: s3cret7"]


def test_a_provider_token_in_plain_text_is_refused_with_the_fix() -> None:
    assert policy.plain_secret_problems({"cloudflare:apiToken": "pasted", "cloudflare:apiKey": ""}, []) == [
        "cloudflare:apiToken: is set in plain text in the stack config; remove it (`pulumi config rm "
        "cloudflare:apiToken`), rotate it, and keep the token in homelab:cloudflareApiToken (set with "
        "`pulumi config set --secret homelab:cloudflareApiToken <value>`)"
    ]
    assert policy.plain_secret_problems({"cloudflare:apiToken": "x"}, ["cloudflare:apiToken"]) == []


def _problems(change: Any, stack: str = "main") -> list[str]:
    """main's config with ``change`` applied, parsed as ``stack``'s: the refusals, in order."""
    raw = raw_config()
    change(raw)
    try:
        policy.parse(raw, SECRETS, stack=stack)
    except ConfigError as err:
        return err.problems
    return []


def _blocks(*blocks: dict[str, str], internal: str = "10.11.1.21", external: str = "10.11.1.22") -> Any:
    def change(raw: dict[str, Any]) -> None:
        raw["cluster"]["loadBalancer"]["blocks"] = list(blocks)
        raw["cluster"]["gateways"] = {"internal": internal, "external": external}

    return change


def test_overlapping_networks_name_both_keys_and_values() -> None:
    assert _problems(lambda raw: raw["cluster"]["network"].update(podCidr="10.11.128.0/17")) == [
        "homelab:cluster.network.podCidr: '10.11.128.0/17' overlaps homelab:cluster.network.vlan '10.11.0.0/16'"
    ]


def test_every_inverted_range_is_named_and_not_compared_further() -> None:
    change = _blocks(
        {"start": "10.11.1.30", "stop": "10.11.1.20"},
        {"start": "10.11.1.50", "stop": "10.11.1.40"},
        {"cidr": "10.11.0.15/32"},
        {"start": "10.11.1.2", "stop": "10.11.1.127"},
    )
    assert _problems(change) == [
        "homelab:cluster.loadBalancer.blocks[0]: start '10.11.1.30' is after stop '10.11.1.20'",
        "homelab:cluster.loadBalancer.blocks[1]: start '10.11.1.50' is after stop '10.11.1.40'",
    ]


def test_pool_ranges_include_both_ends_and_may_be_one_address() -> None:
    change = _blocks(
        {"start": "10.11.1.2", "stop": "10.11.1.2"},
        {"start": "10.11.1.20", "stop": "10.11.1.30"},
        {"start": "10.11.1.25", "stop": "10.11.1.40"},
        {"start": "10.12.0.1", "stop": "10.12.0.9"},
        internal="10.11.1.20",  # the first address of a range
        external="10.11.1.40",  # the last
    )
    assert _problems(change) == [
        "homelab:cluster.loadBalancer.blocks[2]: {'start': '10.11.1.25', 'stop': '10.11.1.40'} overlaps "
        "homelab:cluster.loadBalancer.blocks[1] {'start': '10.11.1.20', 'stop': '10.11.1.30'}",
        "homelab:cluster.loadBalancer.blocks[3]: {'start': '10.12.0.1', 'stop': '10.12.0.9'} is outside "
        "homelab:cluster.network.vlan '10.11.0.0/16'",
    ]


def test_a_credential_under_an_id_key_gets_the_id_refusal_only() -> None:
    token = "Ab3dEf6hIj9kLm2nOp5qRs8tUvWx"
    assert _problems(lambda raw: raw["cluster"]["cloudflare"].update(accountId=token)) == [
        "homelab:cluster.cloudflare.accountId: '[hidden: 28 characters that look like a credential]' is not a "
        "Cloudflare id (32 hex digits)"
    ]
    assert _problems(lambda raw: raw["cluster"]["externalDns"].update(ownerId=token)) == [
        "homelab:cluster.externalDns.ownerId: looks like a credential (an API token pasted under the wrong key?); "
        "not shown, not accepted: a secret belongs in a `--secret` key"
    ]


def test_an_unpinned_image_is_named_under_images() -> None:
    assert _problems(lambda raw: raw["release"]["images"].update(cloudflared="latest")) == [
        "homelab:release.images.cloudflared: 'latest' is not a pinned version (x.y.z)"
    ]


ACM = (
    "Cloudflare's Universal SSL covers only example.com and *.example.com, so proxied names under it get no edge "
    "certificate. Give the cluster a zone of its own, or set homelab:cluster.cloudflare.advancedCertificates: true "
    "if the zone has Advanced Certificate Manager (or Total TLS)"
)


def _apps_outside(domain: str) -> list[str]:
    return [
        f"homelab:apps[{i}].hostnames[0]: '{host}' is not a name under the domain '{domain}' (one label below it, "
        f"as the wildcard certificate *.{domain} covers)"
        for i, host in enumerate(["grafana.example.com", "home.example.com"])
    ]


NAME_CASES = {
    "name-not-a-label": (
        "main",
        {"name": "Main_1"},
        [
            "homelab:cluster.name: 'Main_1' is not a DNS label (a-z, 0-9, -)",
            "homelab:cluster.name: 'Main_1' is not the stack's name 'main'; one stack per cluster, named after it",
        ],
    ),
    "name-too-long": (
        "a" * 33,
        {"name": "a" * 33},
        [f"homelab:cluster.name: '{'a' * 33}' is longer than the 32 characters Cilium allows"],
    ),
    "name-default": (
        "default",
        {"name": "default"},
        [
            "homelab:cluster.name: 'default' is Cilium's name for a cluster without an identity (its chart refuses "
            "it with a cluster id); name the cluster and its stack otherwise"
        ],
    ),
    "stack-cannot-name-a-cluster": (
        "Main_1",
        {},
        [
            "homelab:cluster.name: the stack's name 'Main_1' cannot name a cluster (lowercase letters, digits and "
            "'-', at most 32 characters): rename the stack and its file Pulumi.Main_1.yaml, or move the file out of "
            "the project if it is not a stack"
        ],
    ),
    "domain-not-dns": (
        "main",
        {"domain": "bad_domain"},
        ["homelab:cluster.domain: 'bad_domain' is not a DNS name", *_apps_outside("bad_domain")],
    ),
    "zone-not-dns": (
        "main",
        {"cloudflare": {"zone": "bad zone"}},
        ["homelab:cluster.cloudflare.zone: 'bad zone' is not a DNS name"],
    ),
    "domain-not-in-zone": (
        "main",
        {"domain": "example.org"},
        [
            "homelab:cluster.domain: 'example.org' is not in homelab:cluster.cloudflare.zone 'example.com'",
            *_apps_outside("example.org"),
        ],
    ),
    "domain-below-zone": (
        "main",
        {"domain": "lab.example.com"},
        [
            f"homelab:cluster.domain: 'lab.example.com' is below the zone 'example.com': {ACM}",
            *_apps_outside("lab.example.com"),
        ],
    ),
    "tunnel-hostname-two-below": (
        "main",
        {"cloudflare": {"tunnelHostname": "a.b.example.com"}},
        [
            "homelab:cluster.cloudflare.tunnelHostname: 'a.b.example.com' is not one label below the domain "
            "'example.com'; the wildcard certificate cloudflared verifies the origin against would not cover it"
        ],
    ),
    "tunnel-name-blank": (
        "main",
        {"cloudflare": {"tunnelName": "  "}},
        ["homelab:cluster.cloudflare.tunnelName: '  ' is blank"],
    ),
}


@pytest.mark.parametrize("case", list(NAME_CASES))
def test_each_naming_rule_is_refused_in_full(case: str) -> None:
    stack, cluster_change, expected = NAME_CASES[case]

    def change(raw: dict[str, Any]) -> None:
        for key, value in cluster_change.items():
            if isinstance(value, dict):
                raw["cluster"][key].update(value)
            else:
                raw["cluster"][key] = value

    assert _problems(change, stack) == expected


APP_CASES = {
    "names": (
        [app(name="Who_Am_I", namespace="Apps", service="svc.x")],
        [
            "homelab:apps[0].name: 'Who_Am_I' is not a Kubernetes name",
            "homelab:apps[0].namespace: 'Apps' is not a Kubernetes name",
            "homelab:apps[0].service: 'svc.x' is not a Kubernetes name",
        ],
    ),
    "program-route": (
        [app(name="https-redirect", namespace="network")],
        [
            "homelab:apps[0].name: network/https-redirect is the program's own HTTPRoute (the gateways' "
            "HTTP->HTTPS redirect); name the app's route otherwise"
        ],
    ),
    "route-twice": (
        [app(), app(hostnames=["other.example.com"])],
        ["homelab:apps[1].name: apps/whoami is already defined by homelab:apps[0]"],
    ),
    "cluster-namespace": (
        [app(namespace="kube-system", createNamespace=True)],
        [
            "homelab:apps[0].createNamespace: namespace 'kube-system' is the cluster's own; an app may put its "
            "route there but never create it (drop createNamespace)"
        ],
    ),
    "program-namespace": (
        [app(namespace="network", createNamespace=True)],
        [
            "homelab:apps[0].createNamespace: namespace 'network' is this program's own; an app may put its "
            "route there but never create it (drop createNamespace)"
        ],
    ),
    "namespace-created-twice": (
        [app(createNamespace=True), app(name="two", hostnames=["two.example.com"], createNamespace=True)],
        ["homelab:apps[1].createNamespace: namespace 'apps' is already created by homelab:apps[0]"],
    ),
    "reserved-hosts": (
        [app(hostnames=["external.example.com", "internal.example.com"])],
        [
            "homelab:apps[0].hostnames[0]: 'external.example.com' is the tunnel's hostname; an app route there "
            "would overwrite its record",
            "homelab:apps[0].hostnames[1]: 'internal.example.com' is envoy-internal's DNS target; an app route "
            "there would overwrite its record",
        ],
    ),
    "host-claimed": (
        [app(), app(name="two", hostnames=["whoami.example.com"])],
        ["homelab:apps[1].hostnames[0]: 'whoami.example.com' is already claimed by homelab:apps[0].hostnames[0]"],
    ),
}


@pytest.mark.parametrize("case", list(APP_CASES))
def test_each_app_rule_is_refused_in_full(case: str) -> None:
    apps, expected = APP_CASES[case]
    assert _problems(lambda raw: raw.update(apps=apps)) == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _blocks({"start": "10.11.1.20", "stop": "10.11.1.20"}, {"start": "10.11.1.10", "stop": "10.11.1.30"}),
            [
                "homelab:cluster.loadBalancer.blocks[1]: {'start': '10.11.1.10', 'stop': '10.11.1.30'} overlaps "
                "homelab:cluster.loadBalancer.blocks[0] {'start': '10.11.1.20', 'stop': '10.11.1.20'}"
            ],
        ),
        (
            lambda raw: raw["cluster"]["gateways"].update(internal="10.11.2.1"),
            [
                "homelab:cluster.gateways.internal: '10.11.2.1' is outside the LB pool "
                "homelab:cluster.loadBalancer.blocks"
            ],
        ),
        (
            lambda raw: raw["cluster"]["dns"].update(corednsIp="10.11.0.53"),
            [
                "homelab:cluster.dns.corednsIp: '10.11.0.53' is outside homelab:cluster.network.serviceCidr "
                "'10.200.0.0/16'"
            ],
        ),
        (
            lambda raw: raw["cluster"]["network"]["apiServer"].update(host="10.11.1.30"),
            [
                "homelab:cluster.network.apiServer.host: '10.11.1.30' is inside the LB pool; Cilium would hand it "
                "to a Service"
            ],
        ),
    ],
    ids=["overlaps-one-address", "gateway-outside-pool", "coredns-outside-services", "api-server-in-pool"],
)
def test_address_rules_are_refused_in_full(change: Any, expected: list[str]) -> None:
    assert _problems(change) == expected


def test_a_32_character_cluster_and_stack_name_is_the_longest_allowed() -> None:
    raw = raw_config()
    raw["cluster"]["name"] = "a" * 32
    assert policy.parse(raw, SECRETS, stack="a" * 32).cluster.name == "a" * 32


def test_a_token_in_plain_text_is_refused_with_the_command_that_fixes_it() -> None:
    raw = raw_config()
    raw[config.DNS_TOKEN_KEY] = "dns-token-in-plain-text"
    with pytest.raises(ConfigError) as err:
        policy.parse(raw, SECRETS[:1], stack="main")
    assert err.value.problems == [
        "homelab:cloudflareDnsApiToken: is set in plain text in the stack config; remove it (`pulumi config rm "
        "homelab:cloudflareDnsApiToken`), rotate it, and set it with `pulumi config set --secret "
        "homelab:cloudflareDnsApiToken <value>`"
    ]


def test_redact_masks_a_longer_secret_before_the_shorter_one_inside_it() -> None:
    """Longest first, not in alphabetical order: 'a-s3cret-8' sorts before 's3cret-8'."""
    raw = {config.API_TOKEN_KEY: "a-s3cret-8", config.DNS_TOKEN_KEY: "s3cret-8"}
    assert policy.redact(["x: a-s3cret-8"], raw) == ["x: [hidden: 10 characters that look like a credential]"]


def test_ranges_after_an_inverted_one_are_still_compared() -> None:
    change = _blocks(
        {"start": "10.11.1.50", "stop": "10.11.1.40"},
        {"start": "10.11.1.10", "stop": "10.11.1.25"},
        {"start": "10.11.1.20", "stop": "10.11.1.30"},
    )
    assert _problems(change) == [
        "homelab:cluster.loadBalancer.blocks[0]: start '10.11.1.50' is after stop '10.11.1.40'",
        "homelab:cluster.loadBalancer.blocks[2]: {'start': '10.11.1.20', 'stop': '10.11.1.30'} overlaps "
        "homelab:cluster.loadBalancer.blocks[1] {'start': '10.11.1.10', 'stop': '10.11.1.25'}",
    ]


def test_a_32_character_stack_name_can_name_a_cluster() -> None:
    assert _problems(lambda raw: raw["cluster"].update(name="a" * 32), "b" * 32) == [
        f"homelab:cluster.name: '{'a' * 32}' is not the stack's name '{'b' * 32}'; one stack per cluster, "
        "named after it"
    ]
