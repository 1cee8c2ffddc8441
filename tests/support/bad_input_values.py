"""Bad input (tests/config/test_bad_input.py): secrets, values the CRDs, charts or API server would
refuse, and apps claiming the program's objects.
"""

from __future__ import annotations

from tests.conftest import app
from tests.support.bad_input import (
    PASTED_TOKEN,
    Case,
    both,
    drop,
    put,
    rename,
)

VALUE_CASES = [
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
