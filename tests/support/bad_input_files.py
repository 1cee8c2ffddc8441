"""Bad input (tests/config/test_bad_input.py): the stack file itself (YAML, shapes, bytes), the gate's
stack reference and the homelab as a whole.
"""

from __future__ import annotations

from tests.conftest import app
from tests.support.bad_input import (
    MAIN_YAML_HEAD,
    Case,
    both,
    copy_stack,
    drop,
    on_staging_network,
    put,
    rename,
    text,
)

FILE_CASES = [
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
]
