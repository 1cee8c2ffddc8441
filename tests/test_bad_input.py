"""Bad input of every shape, over both stacks and the rules between them.

Each case edits a temporary copy of the project as a user would (a stack file's values, its
text, its bytes, a second stack's file), runs the offline plan command against it and asserts
what the user gets: exit code 2, no resource registered, nothing left under ``rendered/<stack>``
(an earlier rendering is removed), the config key(s) and value(s) or the ``file:line`` named,
no traceback, and no secret (nor anything pasted that looks like one) printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Project, app

#: The ciphertext every stack file's token has in these tests: never decrypted, never printed.
CIPHERTEXT = "v1:AAECAwQFBgcICQoL:Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1jaXBoZXJ0ZXh0"
#: What a Cloudflare API token looks like (40 characters); pasted into plain keys below.
PASTED_TOKEN = "Xq7vR2mN9pL4kT8wZ3yB6cD1fG5hJ0sA-uE_iO2r"

Edit = Callable[[Project], None]


@dataclass(frozen=True)
class Case:
    id: str
    stack: str
    edit: Edit
    #: Fragments the error output must contain (keys, values, files, lines).
    expect: tuple[str, ...]
    #: Fragments that must appear exactly once (a value is never printed twice).
    once: tuple[str, ...] = ()


def _walk(cfg: dict[str, Any], path: str) -> tuple[Any, str | int]:
    node: Any = cfg
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def put(stack: str, path: str, value: Any) -> Edit:
    def edit(project: Project) -> None:
        def change(cfg: dict[str, Any]) -> None:
            node, last = _walk(cfg, path)
            node[last] = value

        project.change(stack, change)

    return edit


def drop(stack: str, path: str) -> Edit:
    def edit(project: Project) -> None:
        def change(cfg: dict[str, Any]) -> None:
            node, last = _walk(cfg, path)
            del node[last]

        project.change(stack, change)

    return edit


def rename(stack: str, path: str, new: str) -> Edit:
    def edit(project: Project) -> None:
        def change(cfg: dict[str, Any]) -> None:
            node, last = _walk(cfg, path)
            node[new] = node.pop(last)

        project.change(stack, change)

    return edit


def text(stack: str, content: str | bytes) -> Edit:
    def edit(project: Project) -> None:
        data = content.encode() if isinstance(content, str) else content
        project.file(stack).write_bytes(data)

    return edit


def both(*edits: Edit) -> Edit:
    def edit(project: Project) -> None:
        for one in edits:
            one(project)

    return edit


def on_staging_network(stack: str = "main") -> Edit:
    """Give ``stack`` staging's whole network (consistent within the stack itself)."""

    def edit(project: Project) -> None:
        staging = project.config("staging")["homelab:cluster"]

        def change(cfg: dict[str, Any]) -> None:
            for key in ("network", "loadBalancer", "gateways", "dns"):
                cfg["homelab:cluster"][key] = staging[key]

        project.change(stack, change)

    return edit


def copy_stack(source: str, stack: str, **cluster: Any) -> Edit:
    """A new stack file ``Pulumi.<stack>.yaml``: ``source``'s config with some cluster keys set."""

    def edit(project: Project) -> None:
        cfg = project.config(source)
        cfg["homelab:cluster"].update(cluster)
        project.write(stack, cfg)

    return edit


MAIN_YAML_HEAD = "config:\n  homelab:cluster:\n    name: main\n"

CASES = [
    # --- the stack file itself: YAML, shapes, bytes ------------------------------------------------
    Case(
        "yaml syntax error", "main", text("main", "config:\n  homelab:cluster: [unclosed\n"), ("Pulumi.main.yaml:3:",)
    ),
    Case(
        "tab indentation",
        "main",
        text("main", "config:\n\thomelab:cluster: {}\n"),
        ("Pulumi.main.yaml:2:", "tabs cannot indent YAML"),
    ),
    Case(
        "top level is a list",
        "main",
        text("main", "- config\n- homelab\n"),
        ("Pulumi.main.yaml:1: the top level is a list",),
    ),
    Case(
        "top level is a string",
        "main",
        text("main", "just words\n"),
        ("Pulumi.main.yaml:1: the top level is a string",),
    ),
    Case(
        "config is a list",
        "main",
        text("main", "# comment\nconfig:\n  - homelab:cluster\n"),
        ("Pulumi.main.yaml:3: `config:` is a list",),
    ),
    Case("config is a string", "main", text("main", "config: main\n"), ("Pulumi.main.yaml:1: `config:` is a string",)),
    Case(
        "duplicate top-level key",
        "main",
        text("main", MAIN_YAML_HEAD + "  homelab:cluster:\n    name: other\n"),
        ("Pulumi.main.yaml:4: duplicate key 'homelab:cluster' (first at line 2)",),
    ),
    Case(
        "duplicate nested key",
        "main",
        text("main", MAIN_YAML_HEAD + "    name: again\n"),
        ("Pulumi.main.yaml:4: duplicate key 'name' (first at line 3)",),
    ),
    Case(
        "not utf-8", "main", text("main", b"config:\n  homelab:cluster: \xff\xfe\n"), ("Pulumi.main.yaml:2: not UTF-8",)
    ),
    Case(
        "two documents",
        "main",
        text("main", "config: {}\n---\nconfig: {}\n"),
        ("Pulumi.main.yaml:2:", "single document"),
    ),
    Case("empty file", "main", text("main", ""), ("homelab:cluster: required key is missing",)),
    Case(
        "staging's file broken while planning main",
        "main",
        text("staging", "config:\n  homelab:cluster: {\n"),
        ("Pulumi.staging.yaml:3:", "every stack file of the homelab must be valid"),
    ),
    Case(
        "staging's file has a duplicate key while planning main",
        "main",
        text("staging", "config:\n  homelab:apps: []\n  homelab:apps: []\n"),
        ("Pulumi.staging.yaml:3: duplicate key 'homelab:apps' (first at line 2)",),
    ),
    Case(
        "staging's config invalid while planning main",
        "main",
        put("staging", "homelab:cluster.gateways.external", "10.12.9.9"),
        ("Pulumi.staging.yaml: homelab:cluster.gateways.external: '10.12.9.9' is outside the LB pool",),
    ),
    Case(
        "release is a string",
        "main",
        put("main", "homelab:release", "latest"),
        ("homelab:release: Input should be a valid dictionary",),
    ),
    Case(
        "apps is a mapping",
        "main",
        put("main", "homelab:apps", {"grafana": {}}),
        ("homelab:apps: Input should be a valid list",),
    ),
    Case(
        "cluster missing", "staging", drop("staging", "homelab:cluster"), ("homelab:cluster: required key is missing",)
    ),
    Case(
        "misspelled top-level key",
        "staging",
        rename("staging", "homelab:release", "homelab:releasx"),
        ("homelab:releasx: unknown config key", "homelab:release: required key is missing"),
    ),
    Case(
        "a mapping key that is a list",
        "main",
        text("main", "config:\n  ? [a, b]\n  : 1\n"),
        ("Pulumi.main.yaml:2:", "unhashable"),
    ),
    Case(
        "a config key that is a number",
        "staging",
        text("staging", "config:\n  1: x\n"),
        ("Pulumi.staging.yaml: config key 1 is not a string",),
    ),
    Case("config key empty", "main", text("main", "config:\n"), ("homelab:cluster: required key is missing",)),
    # --- the gate's stack reference ------------------------------------------------------------------
    Case(
        "gate names a missing stack",
        "main",
        put("main", "homelab:promotion", {"stagingStack": "organization/homelab/stagin"}),
        (
            "homelab:promotion.stagingStack: 'organization/homelab/stagin' in Pulumi.main.yaml names no stack",
            "Pulumi.stagin.yaml",
        ),
    ),
    Case(
        "gate names the stack itself",
        "main",
        put("main", "homelab:promotion", {"requireStaging": True, "stagingStack": "organization/homelab/main"}),
        (
            "homelab:promotion.stagingStack: 'organization/homelab/main' in Pulumi.main.yaml is this stack itself: "
            "the gate would compare the stack with itself and always pass; name the stack that runs releases "
            "first, or set requireStaging: false",
        ),
    ),
    Case(
        "gate names another project",
        "main",
        put("main", "homelab:promotion", {"stagingStack": "organization/other/staging"}),
        (
            "homelab:promotion.stagingStack: 'organization/other/staging' in Pulumi.main.yaml is not "
            "`<organization>/homelab/<stack>`, a stack of this project",
        ),
    ),
    Case(
        "requireStaging is a string",
        "main",
        put("main", "homelab:promotion.requireStaging", "yes"),
        ("homelab:promotion.requireStaging: Input should be a valid boolean (got 'yes')",),
    ),
    Case(
        "two pool blocks overlap",
        "main",
        put("main", "homelab:cluster.loadBalancer.blocks.0.cidr", "10.11.1.0/28"),
        (
            "homelab:cluster.loadBalancer.blocks[1]: {'start': '10.11.1.2', 'stop': '10.11.1.127'} overlaps "
            "homelab:cluster.loadBalancer.blocks[0] {'cidr': '10.11.1.0/28'}",
        ),
    ),
    Case(
        "pool block both cidr and range",
        "staging",
        put("staging", "homelab:cluster.loadBalancer.blocks.0.start", "10.12.0.15"),
        ("homelab:cluster.loadBalancer.blocks[0]: a block is either `cidr` or `start`/`stop`, not both",),
    ),
    Case(
        "pool block with only a start",
        "main",
        drop("main", "homelab:cluster.loadBalancer.blocks.1.stop"),
        ("homelab:cluster.loadBalancer.blocks[1]: a block needs `cidr`, or both `start` and `stop`",),
    ),
    Case(
        "api server host neither ip nor name",
        "main",
        put("main", "homelab:cluster.network.apiServer.host", "not a host!"),
        ("homelab:cluster.network.apiServer.host: 'not a host!' is neither an IP address nor a DNS name",),
    ),
    Case(
        "cluster name not a dns label",
        "main",
        put("main", "homelab:cluster.name", "Main_1"),
        ("homelab:cluster.name: 'Main_1' is not a DNS label (a-z, 0-9, -)",),
    ),
    Case(
        "tunnel name blank",
        "staging",
        put("staging", "homelab:cluster.cloudflare.tunnelName", "  "),
        ("homelab:cluster.cloudflare.tunnelName: '  ' is empty",),
    ),
    Case(
        "kubernetes version with a patch",
        "main",
        put("main", "homelab:cluster.kubernetesVersion", "1.35.2"),
        ("homelab:cluster.kubernetesVersion: '1.35.2' is not a Kubernetes version 1.25 to 1.37 as major.minor",),
    ),
    Case(
        "kubernetes version the validator lacks",
        "staging",
        put("staging", "homelab:cluster.kubernetesVersion", "1.40"),
        ("homelab:cluster.kubernetesVersion: '1.40' is not a Kubernetes version 1.25 to 1.37",),
    ),
    Case(
        "kubernetes version unquoted",
        "main",
        put("main", "homelab:cluster.kubernetesVersion", 1.35),
        ("homelab:cluster.kubernetesVersion: Input should be a valid string (got 1.35)",),
    ),
    Case(
        "lease of zero seconds",
        "staging",
        put("staging", "homelab:release.cilium.l2Lease.retryPeriod", "0s"),
        ("homelab:release.cilium.l2Lease.retryPeriod: '0s' is not a positive duration",),
    ),
    Case(
        "app name not a kubernetes name",
        "main",
        put("main", "homelab:apps", [app(name="Who_Am_I")]),
        ("homelab:apps[0].name: 'Who_Am_I' is not a Kubernetes name",),
    ),
    Case(
        "two apps of one name in one namespace",
        "main",
        put("main", "homelab:apps", [app(), app(hostnames=["other.example.com"])]),
        ("homelab:apps[1].name: apps/whoami is already defined by homelab:apps[0]",),
    ),
    # --- the homelab as a whole ----------------------------------------------------------------------
    Case(
        "staging takes main's owner id",
        "staging",
        put("staging", "homelab:cluster.externalDns.ownerId", "homelab"),
        ("homelab:cluster.externalDns.ownerId: 'homelab' in Pulumi.staging.yaml is already main's (Pulumi.main.yaml)",),
    ),
    Case(
        "main refuses while staging takes its owner id",
        "main",
        put("staging", "homelab:cluster.externalDns.ownerId", "homelab"),
        ("homelab:cluster.externalDns.ownerId: 'homelab' in Pulumi.staging.yaml is already main's (Pulumi.main.yaml)",),
    ),
    Case(
        "staging takes main's domain and zone",
        "staging",
        both(
            put("staging", "homelab:cluster.domain", "example.com"),
            put("staging", "homelab:cluster.cloudflare.zone", "example.com"),
        ),
        (
            "homelab:cluster.domain: 'example.com' in Pulumi.staging.yaml is already main's (Pulumi.main.yaml)",
            "homelab:cluster.cloudflare.tunnelHostname: 'external.example.com' in Pulumi.staging.yaml "
            "is already main's",
        ),
    ),
    Case(
        "main on staging's network",
        "main",
        on_staging_network(),
        (
            "homelab:cluster.network.vlan: '10.12.0.0/16' in Pulumi.staging.yaml overlaps main's "
            "homelab:cluster.network.vlan '10.12.0.0/16' (Pulumi.main.yaml)",
            "homelab:cluster.network.podCidr: '10.202.0.0/16' in Pulumi.staging.yaml overlaps main's "
            "homelab:cluster.network.podCidr '10.202.0.0/16' (Pulumi.main.yaml)",
        ),
    ),
    Case(
        "main's pod cidr on staging's",
        "main",
        put("main", "homelab:cluster.network.podCidr", "10.202.0.0/16"),
        (
            "homelab:cluster.network.podCidr: '10.202.0.0/16' in Pulumi.staging.yaml overlaps main's "
            "homelab:cluster.network.podCidr '10.202.0.0/16'",
        ),
    ),
    Case(
        "main's pod cidr inside staging's vlan",
        "main",
        put("main", "homelab:cluster.network.podCidr", "10.12.128.0/17"),
        (
            "homelab:cluster.network.vlan: '10.12.0.0/16' in Pulumi.staging.yaml overlaps main's "
            "homelab:cluster.network.podCidr '10.12.128.0/17' (Pulumi.main.yaml)",
        ),
    ),
    Case(
        "main's kube context is staging's",
        "main",
        put("main", "homelab:cluster.kubeContext", "staging"),
        ("homelab:cluster.kubeContext: 'staging' in Pulumi.staging.yaml is already main's (Pulumi.main.yaml)",),
    ),
    Case(
        "two tunnels of one name",
        "staging",
        put("staging", "homelab:cluster.cloudflare.tunnelName", "homelab-main"),
        ("homelab:cluster.cloudflare.tunnelName: 'homelab-main' in Pulumi.staging.yaml is already main's",),
    ),
    Case(
        "cluster not named after its stack",
        "main",
        put("main", "homelab:cluster.name", "prod"),
        ("homelab:cluster.name: 'prod' is not the stack's name 'main'",),
    ),
    Case(
        "staging's file names its cluster main",
        "staging",
        put("staging", "homelab:cluster.name", "main"),
        ("homelab:cluster.name: 'main' is not the stack's name 'staging'",),
    ),
    Case(
        "domain below its own zone without edge certificates",
        "staging",
        both(
            put("staging", "homelab:cluster.cloudflare.zone", "example.com"),
            put("staging", "homelab:cluster.domain", "staging.example.com"),
        ),
        ("homelab:cluster.domain: 'staging.example.com' is below the zone 'example.com'", "advancedCertificates"),
    ),
    Case(
        "domain below another stack's zone without edge certificates",
        "staging",
        both(
            put("staging", "homelab:cluster.cloudflare.zone", "staging.example.com"),
            put("staging", "homelab:cluster.domain", "staging.example.com"),
        ),
        (
            "homelab:cluster.domain: 'staging.example.com' in Pulumi.staging.yaml is below main's "
            "homelab:cluster.cloudflare.zone 'example.com' (Pulumi.main.yaml): Cloudflare's Universal SSL covers "
            "only example.com and *.example.com, so proxied names under it get no edge certificate. Give the "
            "cluster a zone of its own, or set homelab:cluster.cloudflare.advancedCertificates: true if the zone "
            "has Advanced Certificate Manager (or Total TLS)",
        ),
    ),
    Case(
        "advancedCertificates is a string",
        "staging",
        put("staging", "homelab:cluster.cloudflare.advancedCertificates", "true"),
        ("homelab:cluster.cloudflare.advancedCertificates: Input should be a valid boolean (got 'true')",),
    ),
    Case(
        "gates that read each other in a ring",
        "main",
        put("staging", "homelab:promotion", {"requireStaging": True, "stagingStack": "organization/homelab/main"}),
        (),
        once=(
            "the gates read each other in a ring",
            "homelab:promotion.stagingStack: the gates read each other in a ring (main -> staging -> main; "
            "Pulumi.main.yaml, Pulumi.staging.yaml): set requireStaging: false on the stack that runs releases first",
        ),
    ),
    Case(
        "api server of the other cluster",
        "main",
        put("main", "homelab:cluster.network.apiServer.host", "10.12.0.10"),
        (
            "homelab:cluster.network.apiServer.host: '10.12.0.10' in Pulumi.main.yaml is inside staging's "
            "homelab:cluster.network.vlan '10.12.0.0/16' (Pulumi.staging.yaml)",
        ),
    ),
    Case(
        "a stack file whose name cannot name a cluster",
        "main",
        copy_stack("staging", "Lab"),
        ("Pulumi.Lab.yaml: homelab:cluster.name: the stack's name 'Lab' cannot name a cluster",),
    ),
    Case(
        "a cluster named default",
        "main",
        copy_stack("staging", "default", name="default"),
        ("Pulumi.default.yaml: homelab:cluster.name: 'default' is Cilium's name for a cluster without an identity",),
    ),
    Case(
        "an alias inside itself",
        "main",
        text("main", "config:\n  homelab:apps: &loop\n    - *loop\n"),
        ("Pulumi.main.yaml:2: a YAML alias refers to the node that contains it",),
    ),
    Case(
        "a key written with and without the project",
        "main",
        text("main", "config:\n  apps: []\n  homelab:apps: []\n"),
        ("Pulumi.main.yaml: config key 'homelab:apps' is 'homelab:apps' written twice",),
    ),
    # --- secrets --------------------------------------------------------------------------------------
    Case(
        "api token in plain text",
        "main",
        put("main", "homelab:cloudflareApiToken", PASTED_TOKEN),
        ("homelab:cloudflareApiToken: is set in plain text", "pulumi config set --secret"),
    ),
    Case(
        "dns token in plain text",
        "staging",
        put("staging", "homelab:cloudflareDnsApiToken", PASTED_TOKEN),
        ("homelab:cloudflareDnsApiToken: is set in plain text",),
    ),
    Case(
        "provider's own token in plain text",
        "main",
        put("main", "cloudflare:apiToken", PASTED_TOKEN),
        ("cloudflare:apiToken: is set in plain text", "homelab:cloudflareApiToken"),
    ),
    Case(
        "another stack's token in plain text",
        "main",
        put("staging", "homelab:cloudflareApiToken", PASTED_TOKEN),
        ("Pulumi.staging.yaml: homelab:cloudflareApiToken: is set in plain text",),
    ),
    Case(
        "another stack's provider token in plain text",
        "main",
        put("staging", "cloudflare:apiToken", PASTED_TOKEN),
        ("Pulumi.staging.yaml: cloudflare:apiToken: is set in plain text",),
    ),
    Case(
        "token pasted into accountId",
        "main",
        put("main", "homelab:cluster.cloudflare.accountId", PASTED_TOKEN),
        ("homelab:cluster.cloudflare.accountId:", "[hidden: 40 characters that look like a credential]"),
    ),
    Case(
        "token pasted into zoneId",
        "staging",
        put("staging", "homelab:cluster.cloudflare.zoneId", PASTED_TOKEN),
        ("homelab:cluster.cloudflare.zoneId:", "[hidden: 40 characters"),
    ),
    Case(
        "dns token without the project prefix in plain text",
        "main",
        put("main", "cloudflareDnsApiToken", PASTED_TOKEN),
        ("homelab:cloudflareDnsApiToken: is set in plain text",),
    ),
    Case(
        "token pasted into the kube context",
        "main",
        put("main", "homelab:cluster.kubeContext", PASTED_TOKEN),
        ("homelab:cluster.kubeContext: looks like a credential", "not shown, not accepted"),
    ),
    Case(
        "the same token pasted into both stacks' owner ids",
        "main",
        both(
            put("main", "homelab:cluster.externalDns.ownerId", PASTED_TOKEN),
            put("staging", "homelab:cluster.externalDns.ownerId", PASTED_TOKEN),
        ),
        ("homelab:cluster.externalDns.ownerId: looks like a credential",),
    ),
    Case(
        "a global api key pasted into an app's service",
        "staging",
        put(
            "staging",
            "homelab:apps",
            [app(hostnames=["a.example.net"], service="0123456789abcdef0123456789abcdef01234")],
        ),
        ("homelab:apps[0].service: looks like a credential",),
    ),
    Case(
        "token pasted under an unknown key",
        "main",
        put("main", "homelab:cluster.cloudflare.apiToken", PASTED_TOKEN),
        ("homelab:cluster.cloudflare.apiToken: unknown key",),
    ),
    Case(
        "two clusters with one cilium cluster id",
        "staging",
        put("staging", "homelab:cluster.clusterId", 1),
        ("homelab:cluster.clusterId: '1' in Pulumi.staging.yaml is already main's (Pulumi.main.yaml)",),
    ),
    Case(
        "cilium cluster id zero",
        "main",
        put("main", "homelab:cluster.clusterId", 0),
        ("homelab:cluster.clusterId: Input should be greater than or equal to 1 (got 0)",),
    ),
    Case(
        "cilium cluster id missing",
        "staging",
        drop("staging", "homelab:cluster.clusterId"),
        ("homelab:cluster.clusterId: required key is missing",),
    ),
    Case(
        "cilium cluster id past 255",
        "main",
        put("main", "homelab:cluster.clusterId", 256),
        ("homelab:cluster.clusterId: Input should be less than or equal to 255 (got 256)",),
    ),
    Case(
        "post-quantum mode unknown",
        "main",
        put("main", "homelab:release.cloudflared.postQuantum", True),
        ("homelab:release.cloudflared.postQuantum: Input should be 'strict' or 'prefer' (got True)",),
    ),
    # --- values the CRDs, charts or API server would refuse ----------------------------------------
    Case(
        "envoy replicas a boolean",
        "main",
        put("main", "homelab:release.envoy.replicas", True),
        ("homelab:release.envoy.replicas: Input should be a valid integer (got True)",),
    ),
    Case(
        "envoy replicas past the bound",
        "main",
        put("main", "homelab:release.envoy.replicas", 51),
        ("homelab:release.envoy.replicas: Input should be less than or equal to 50 (got 51)",),
    ),
    Case(
        "cloudflared replicas zero",
        "staging",
        put("staging", "homelab:release.cloudflared.replicas", 0),
        ("homelab:release.cloudflared.replicas: Input should be greater than or equal to 1 (got 0)",),
    ),
    Case(
        "cloudflared replicas a string",
        "staging",
        put("staging", "homelab:release.cloudflared.replicas", "2"),
        ("homelab:release.cloudflared.replicas: Input should be a valid integer (got '2')",),
    ),
    Case(
        "envoy replicas a fraction",
        "staging",
        put("staging", "homelab:release.envoy.replicas", 2.5),
        ("homelab:release.envoy.replicas: Input should be a valid integer (got 2.5)",),
    ),
    Case(
        "invalid l2 interface regex",
        "main",
        put("main", "homelab:cluster.loadBalancer.l2Interfaces", ["eth[0-"]),
        (
            "homelab:cluster.loadBalancer.l2Interfaces[0]: 'eth[0-' is not a valid Go (RE2) regular expression: "
            "missing ]",
        ),
        once=("'eth[0-'",),
    ),
    Case(
        "l2 interface regex with lookahead",
        "staging",
        put("staging", "homelab:cluster.loadBalancer.l2Interfaces", ["^eth0$", "(?!lo).*"]),
        (
            "homelab:cluster.loadBalancer.l2Interfaces[1]: '(?!lo).*' is not a valid Go (RE2) regular expression: "
            "invalid perl operator: (?!",
        ),
    ),
    Case(
        "l2 interface regex with a possessive quantifier",
        "main",
        put("main", "homelab:cluster.loadBalancer.l2Interfaces", ["en.*+"]),
        ("homelab:cluster.loadBalancer.l2Interfaces[0]: 'en.*+' is not a valid Go (RE2) regular expression",),
    ),
    Case(
        "l2 interface regex with Python's end anchor",
        "staging",
        put("staging", "homelab:cluster.loadBalancer.l2Interfaces", ["eth\\Z"]),
        ("homelab:cluster.loadBalancer.l2Interfaces[0]:", "invalid escape sequence"),
    ),
    Case(
        "vlan with host bits",
        "main",
        put("main", "homelab:cluster.network.vlan", "10.11.0.1/16"),
        ("homelab:cluster.network.vlan: not an IPv4 CIDR: 10.11.0.1/16 has host bits set",),
        once=("10.11.0.1/16",),
    ),
    Case(
        "gateway ip malformed",
        "staging",
        put("staging", "homelab:cluster.gateways.internal", "10.12.1.300"),
        ("homelab:cluster.gateways.internal: not an IPv4 address",),
        once=("10.12.1.300",),
    ),
    Case(
        "snake_case alias kube_context",
        "main",
        rename("main", "homelab:cluster.kubeContext", "kube_context"),
        ("homelab:cluster.kube_context: unknown key", "homelab:cluster.kubeContext: required key is missing"),
    ),
    Case(
        "snake_case alias drain_timeout",
        "staging",
        rename("staging", "homelab:release.envoy.drainTimeout", "drain_timeout"),
        ("homelab:release.envoy.drain_timeout: unknown key",),
    ),
    Case(
        "drain timeout with a fraction",
        "main",
        put("main", "homelab:release.envoy.drainTimeout", "1.5h"),
        ("homelab:release.envoy.drainTimeout: '1.5h' is not a duration the EnvoyProxy CRD accepts",),
        once=("1.5h",),
    ),
    Case(
        "drain timeout in words",
        "staging",
        put("staging", "homelab:release.envoy.drainTimeout", "3 minutes"),
        ("homelab:release.envoy.drainTimeout: '3 minutes' is not a duration",),
    ),
    Case(
        "lease duration without unit",
        "main",
        put("main", "homelab:release.cilium.l2Lease.duration", "15"),
        ("homelab:release.cilium.l2Lease.duration: '15' is not a Go duration",),
        once=("'15'",),
    ),
    Case(
        "lease renew deadline past the duration",
        "main",
        put("main", "homelab:release.cilium.l2Lease.renewDeadline", "20s"),
        ("homelab:release.cilium.l2Lease: renewDeadline '20s' must be below duration '15s'",),
    ),
    Case(
        "lease retry period too close to the deadline",
        "staging",
        put("staging", "homelab:release.cilium.l2Lease.retryPeriod", "5s"),
        ("homelab:release.cilium.l2Lease: renewDeadline '5s' must be above 1.2 x retryPeriod '5s'",),
    ),
    Case(
        "memory in megabytes spelled MB",
        "main",
        put("main", "homelab:release.envoy.resources.memoryRequest", "128MB"),
        ("homelab:release.envoy.resources.memoryRequest: '128MB' is not a memory quantity",),
        once=("128MB",),
    ),
    Case(
        "cpu given as memory",
        "staging",
        put("staging", "homelab:release.cloudflared.resources.cpuRequest", "1Gi"),
        ("homelab:release.cloudflared.resources.cpuRequest: '1Gi' is not a CPU quantity",),
    ),
    Case(
        "memory request above the limit",
        "main",
        put("main", "homelab:release.envoy.resources.memoryRequest", "2Gi"),
        ("homelab:release.envoy.resources: memoryRequest '2Gi' is above memoryLimit '1Gi'",),
    ),
    Case(
        "client rate limit zero",
        "main",
        put("main", "homelab:release.cilium.k8sClientRateLimit.qps", 0),
        ("homelab:release.cilium.k8sClientRateLimit.qps: Input should be greater than or equal to 1 (got 0)",),
    ),
    Case(
        "burst below qps",
        "staging",
        put("staging", "homelab:release.cilium.k8sClientRateLimit.burst", 10),
        ("homelab:release.cilium.k8sClientRateLimit: burst 10 is below qps 50",),
    ),
    Case(
        "chart version read as a number",
        "staging",
        put("staging", "homelab:release.charts.cilium", 1.2),
        ("homelab:release.charts.cilium: Input should be a valid string (got 1.2)",),
    ),
    Case(
        "api server port as a string",
        "main",
        put("main", "homelab:cluster.network.apiServer.port", "6443"),
        ("homelab:cluster.network.apiServer.port: Input should be a valid integer (got '6443')",),
    ),
    # --- apps claiming the program's objects ------------------------------------------------------
    Case(
        "app creates the network namespace",
        "main",
        put("main", "homelab:apps", [app(namespace="network", createNamespace=True)]),
        ("homelab:apps[0].createNamespace: namespace 'network' is this program's own",),
    ),
    Case(
        "app creates cert-manager's namespace",
        "main",
        put("main", "homelab:apps", [app(namespace="cert-manager", createNamespace=True)]),
        ("homelab:apps[0].createNamespace: namespace 'cert-manager' is this program's own",),
    ),
    Case(
        "app creates kube-system",
        "staging",
        put(
            "staging", "homelab:apps", [app(namespace="kube-system", createNamespace=True, hostnames=["a.example.net"])]
        ),
        ("homelab:apps[0].createNamespace: namespace 'kube-system' is the cluster's own",),
    ),
    Case(
        "app takes the redirect route's name",
        "main",
        put("main", "homelab:apps", [app(namespace="network", name="https-redirect")]),
        ("homelab:apps[0].name: network/https-redirect is the program's own HTTPRoute",),
    ),
    Case(
        "two apps create one namespace",
        "main",
        put(
            "main",
            "homelab:apps",
            [
                app(createNamespace=True),
                app(name="other", hostnames=["other.example.com"], createNamespace=True),
            ],
        ),
        ("homelab:apps[1].createNamespace: namespace 'apps' is already created by homelab:apps[0]",),
    ),
    Case(
        "createNamespace a number",
        "main",
        put("main", "homelab:apps", [app(createNamespace=1)]),
        ("homelab:apps[0].createNamespace: Input should be a valid boolean (got 1)",),
    ),
    Case(
        "app port zero",
        "main",
        put("main", "homelab:apps", [app(port=0)]),
        ("homelab:apps[0].port: Input should be greater than or equal to 1 (got 0)",),
    ),
    Case(
        "app on staging with main's hostname",
        "staging",
        put("staging", "homelab:apps", [app()]),
        ("homelab:apps[0].hostnames[0]: 'whoami.example.com' is not a name under the domain 'example.net'",),
    ),
]


@pytest.fixture
def homelab(project: Project) -> Project:
    """The project with an encrypted token in every stack file, as after `pulumi config set --secret`."""
    for stack in ("main", "staging"):
        project.change(stack, lambda cfg: cfg.update({"homelab:cloudflareApiToken": {"secure": CIPHERTEXT}}))
    return project


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.stack for c in CASES} == {"main", "staging"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused(case: Case, homelab: Project, capsys: pytest.CaptureFixture[str]) -> None:
    stale = homelab.rendered / case.stack / "stale.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("kind: Left-from-an-earlier-plan\n")
    case.edit(homelab)

    outcome = homelab.plan(case.stack, capsys=capsys)

    assert outcome.code == 2, outcome.text
    assert outcome.registered == [], "resources were registered before the refusal"
    assert not (homelab.rendered / case.stack).exists(), "an earlier rendering survived a refused plan"
    assert "nothing written" in outcome.err
    for fragment in case.expect:
        assert fragment in outcome.err, f"{fragment!r} not in:\n{outcome.err}"
    for fragment in case.once:
        assert outcome.err.count(fragment) == 1, f"{fragment!r} not exactly once in:\n{outcome.err}"
    assert "Traceback" not in outcome.text
    assert CIPHERTEXT not in outcome.text and CIPHERTEXT[3:] not in outcome.text
    assert PASTED_TOKEN not in outcome.text
    assert "PLACEHOLDER-SECRET" not in outcome.text


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("../victim", "error: --stack '../victim' is not a stack name"),
        ("main/../../victim", "error: --stack 'main/../../victim' is not a stack name"),
        ("..", "error: --stack '..' is not a stack name"),
        ("lab", "error: no stack file"),
    ],
)
def test_stack_must_be_a_stack_of_the_project(
    stack: str, message: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = project.root.parent / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine\n")
    outcome = project.plan(stack, "--out", str(project.root), capsys=capsys)
    assert outcome.code == 2
    assert message in outcome.err
    assert (victim / "keep.txt").read_text() == "mine\n"
    assert (project.root / "Pulumi.yaml").is_file()
    assert "Traceback" not in outcome.text
