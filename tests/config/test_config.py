"""Typed stack config: each mistake is refused before any resource, naming the key and value."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from homelab.config import models as config
from homelab.config import policy
from homelab.config.models import ConfigError
from homelab.config.stack import StackConfig
from homelab.plan import mockrun
from tests.conftest import STACKS, Project, RunProgram, stack_config
from tests.support.config_values import SECRETS, raw_config


def parsed(stack: str) -> StackConfig:
    return policy.parse(raw_config(stack), SECRETS)


def refused(stack: str, change: Any, run_program: RunProgram) -> str:
    """Run the program with a changed config; return the error; assert nothing was registered."""
    cfg = stack_config(stack)
    change(cfg)
    registered: list[Any] = []
    with pytest.raises(ConfigError) as err:
        run_program(stack, cfg, registered=registered)
    assert registered == [], "resources were registered before the config was refused"
    return str(err.value)


def cluster(cfg: dict[str, Any]) -> dict[str, Any]:
    return cfg["homelab:cluster"]


@pytest.mark.parametrize("stack", STACKS)
def test_data_stack_files_parse(stack: str) -> None:
    cfg = parsed(stack)
    assert cfg.cluster.name == stack
    assert cfg.cluster.kube_context == stack


def test_data_stack_files_hold_the_seed_ip_map() -> None:
    main, staging = parsed("main").cluster, parsed("staging").cluster
    assert str(main.network.vlan) == "10.11.0.0/16"
    assert str(staging.network.vlan) == "10.12.0.0/16"
    assert [b.spec() for b in main.load_balancer.blocks] == [
        {"cidr": "10.11.0.15/32"},
        {"start": "10.11.1.2", "stop": "10.11.1.127"},
    ]
    assert [b.spec() for b in staging.load_balancer.blocks] == [
        {"cidr": "10.12.0.15/32"},
        {"start": "10.12.1.2", "stop": "10.12.1.127"},
    ]
    assert (str(main.gateways.internal), str(main.gateways.external)) == ("10.11.1.21", "10.11.1.22")
    assert (str(staging.gateways.internal), str(staging.gateways.external)) == ("10.12.1.21", "10.12.1.22")
    assert str(main.network.pod_cidr) == "10.201.0.0/16"
    assert str(staging.network.pod_cidr) == "10.202.0.0/16"
    assert str(main.dns.coredns_ip) == str(staging.dns.coredns_ip) == "10.200.0.10"


def test_data_checked_in_stacks_never_overlap() -> None:
    """The two clusters share no VLAN, pool or pod CIDR address (seed: DualClusterNetworks)."""
    a, b = parsed("main").cluster, parsed("staging").cluster
    assert not a.network.vlan.overlaps(b.network.vlan)
    assert not a.network.pod_cidr.overlaps(b.network.pod_cidr)
    for x, y in itertools.product(a.load_balancer.blocks, b.load_balancer.blocks):
        assert not any(n.overlaps(m) for n in x.networks() for m in y.networks())
    for net_a, net_b in itertools.product([a.network.vlan, a.network.pod_cidr], [b.network.vlan, b.network.pod_cidr]):
        assert not net_a.overlaps(net_b)


def _set(path: str, value: Any) -> Any:
    def change(cfg: dict[str, Any]) -> None:
        node: Any = cfg
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _delete(path: str) -> Any:
    def change(cfg: dict[str, Any]) -> None:
        node: Any = cfg
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[parts[-1]]

    return change


CASES = [
    # (id, change, the key the message must name, the value it must show, a word of the reason)
    (
        "malformed ip",
        _set("homelab:cluster.gateways.internal", "10.11.1.300"),
        "homelab:cluster.gateways.internal",
        "10.11.1.300",
        "not an IPv4",
    ),
    (
        "malformed cidr",
        _set("homelab:cluster.network.podCidr", "10.201.0.0/33"),
        "homelab:cluster.network.podCidr",
        "10.201.0.0/33",
        "not an IPv4",
    ),
    (
        "cidr with host bits",
        _set("homelab:cluster.network.vlan", "10.11.0.1/16"),
        "homelab:cluster.network.vlan",
        "10.11.0.1/16",
        "host bits",
    ),
    (
        "pool block outside vlan",
        _set("homelab:cluster.loadBalancer.blocks.1.stop", "10.13.1.127"),
        "homelab:cluster.loadBalancer.blocks[1]",
        "10.13.1.127",
        "outside",
    ),
    (
        "pool cidr outside vlan",
        _set("homelab:cluster.loadBalancer.blocks.0.cidr", "10.12.0.15/32"),
        "homelab:cluster.loadBalancer.blocks[0]",
        "10.12.0.15/32",
        "outside",
    ),
    (
        "range start after stop",
        _set("homelab:cluster.loadBalancer.blocks.1.start", "10.11.1.200"),
        "homelab:cluster.loadBalancer.blocks[1]",
        "10.11.1.200",
        "after",
    ),
    (
        "gateway outside pool",
        _set("homelab:cluster.gateways.external", "10.11.2.22"),
        "homelab:cluster.gateways.external",
        "10.11.2.22",
        "outside the LB pool",
    ),
    (
        "same ip for both gateways",
        _set("homelab:cluster.gateways.external", "10.11.1.21"),
        "homelab:cluster.gateways.external",
        "10.11.1.21",
        "already the IP of homelab:cluster.gateways.internal",
    ),
    (
        "pod cidr overlaps vlan",
        _set("homelab:cluster.network.podCidr", "10.11.128.0/17"),
        "homelab:cluster.network.podCidr",
        "10.11.128.0/17",
        "overlaps homelab:cluster.network.vlan",
    ),
    (
        "service cidr overlaps vlan",
        _set("homelab:cluster.network.serviceCidr", "10.11.0.0/24"),
        "homelab:cluster.network.serviceCidr",
        "10.11.0.0/24",
        "overlaps homelab:cluster.network.vlan",
    ),
    (
        "pod cidr overlaps service cidr",
        _set("homelab:cluster.network.serviceCidr", "10.201.0.0/24"),
        "homelab:cluster.network.serviceCidr",
        "10.201.0.0/24",
        "overlaps homelab:cluster.network.podCidr",
    ),
    (
        "coredns outside service cidr",
        _set("homelab:cluster.dns.corednsIp", "10.199.0.10"),
        "homelab:cluster.dns.corednsIp",
        "10.199.0.10",
        "outside homelab:cluster.network.serviceCidr",
    ),
    (
        "unknown key",
        _set("homelab:cluster.network.podCIDR", "10.201.0.0/16"),
        "homelab:cluster.network.podCIDR",
        "",
        "unknown key",
    ),
    (
        "unknown nested key",
        _set("homelab:cluster.gateways.externl", "10.11.1.23"),
        "homelab:cluster.gateways.externl",
        "",
        "unknown key",
    ),
    ("unknown top-level key", _set("homelab:clustr", {"name": "x"}), "homelab:clustr", "", "unknown config key"),
    (
        "missing key",
        _delete("homelab:cluster.network.serviceCidr"),
        "homelab:cluster.network.serviceCidr",
        "",
        "missing",
    ),
    ("missing object", _delete("homelab:release"), "homelab:release", "", "missing"),
    (
        "api server inside pool",
        _set("homelab:cluster.network.apiServer.host", "10.11.1.50"),
        "homelab:cluster.network.apiServer.host",
        "10.11.1.50",
        "inside the LB pool",
    ),
    (
        "unpinned chart",
        _set("homelab:release.charts.cilium", "latest"),
        "homelab:release.charts.cilium",
        "latest",
        "pinned version",
    ),
]


@pytest.mark.parametrize(("change", "key", "value", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_is_refused_before_any_resource(
    change: Any, key: str, value: str, reason: str, run_program: RunProgram
) -> None:
    message = refused("main", change, run_program)
    line = next((ln for ln in message.splitlines() if key in ln), None)
    assert line is not None, message
    assert value in line, line
    assert reason in line, line


def test_all_mistakes_in_one_error(run_program: RunProgram) -> None:
    def two(cfg: dict[str, Any]) -> None:
        cluster(cfg)["gateways"]["external"] = "10.11.2.22"
        cluster(cfg)["dns"]["corednsIp"] = "10.199.0.10"

    message = refused("main", two, run_program)
    assert "homelab:cluster.gateways.external" in message
    assert "homelab:cluster.dns.corednsIp" in message


def test_plain_string_where_object_belongs(run_program: RunProgram) -> None:
    message = refused("main", _set("homelab:cluster", "main"), run_program)
    assert "homelab:cluster" in message and "dictionary" in message


def test_unknown_keys_never_echo_their_value(run_program: RunProgram) -> None:
    """A token pasted under a wrong key must not end up in a CI log."""
    message = refused("main", _set("homelab:cluster.cloudflare.apiToken", "SUPERSECRET-TOKEN"), run_program)
    assert "homelab:cluster.cloudflare.apiToken: unknown key" in message
    assert "SUPERSECRET" not in message


def test_data_stack_files_hold_no_plain_secret() -> None:
    for stack in STACKS:
        for key in config.SECRET_KEYS:
            value = stack_config(stack).get(f"homelab:{key}")
            assert value is None or (isinstance(value, dict) and set(value) == {"secure"}), (stack, key)


@pytest.mark.parametrize("stack", STACKS)
def test_placeholders_warn(stack: str, plans: dict[str, Any]) -> None:
    domain = {"main": "example.com", "staging": "example.net"}[stack]
    assert [line for line in plans[stack].log if line.startswith("warning:")] == [
        f"warning: homelab:cluster.domain: '{domain}' is a placeholder; set your own domain and zone",
        "warning: homelab:cluster.certificates.email: 'admin@example.com' is a placeholder; Let's Encrypt refuses "
        "addresses at reserved domains, so no certificate would be issued",
        "warning: homelab:cluster.cloudflare.accountId: is the placeholder; set your Cloudflare account id",
    ]


def test_names_below_a_reserved_domain_are_placeholders_too(run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    cluster(cfg).update({"domain": "lab.dev", "certificates": {"email": "me@mail.example.org"}})
    cluster(cfg)["cloudflare"].update({"zone": "lab.dev", "accountId": "f" * 32})
    assert [line for line in run_program("staging", cfg).log if line.startswith("warning:")] == [
        "warning: homelab:cluster.certificates.email: 'me@mail.example.org' is a placeholder; Let's Encrypt "
        "refuses addresses at reserved domains, so no certificate would be issued"
    ]


def test_real_values_warn_nothing(run_program: RunProgram) -> None:
    cfg = stack_config("staging")
    cluster(cfg).update({"domain": "lab.dev", "certificates": {"email": "me@lab.dev"}})
    cluster(cfg)["cloudflare"].update({"zone": "lab.dev", "accountId": "f" * 32})
    assert [line for line in run_program("staging", cfg).log if line.startswith("warning:")] == []


def test_secret_placeholders_are_marked() -> None:
    values, secret_keys = mockrun.program_config({"homelab:x": {"secure": "AAABAxyz"}})
    assert values["homelab:x"].startswith(mockrun.PLACEHOLDER_PREFIX)
    assert values["homelab:cloudflareApiToken"].startswith(mockrun.PLACEHOLDER_PREFIX)
    assert values["homelab:cloudflareDnsApiToken"].startswith(mockrun.PLACEHOLDER_PREFIX)
    assert values["homelab:cloudflareApiToken"] != values["homelab:cloudflareDnsApiToken"]
    assert set(secret_keys) == {"homelab:x", "homelab:cloudflareApiToken", "homelab:cloudflareDnsApiToken"}


def test_cluster_name_longer_than_cilium_allows() -> None:
    raw = raw_config()
    raw["cluster"]["name"] = "a" * 33
    with pytest.raises(ConfigError) as err:
        policy.parse(raw, SECRETS)
    assert f"homelab:cluster.name: '{'a' * 33}' is longer than the 32 characters Cilium allows" in str(err.value)


def test_one_redactor_hides_the_longest_secret_first() -> None:
    """policy.hide is what config errors, the plan's validation and doctor all mask with."""
    assert policy.hide("token abc-123456 and abc-1234567", ["abc-123456", "abc-1234567"]) == (
        "token [secret] and [secret]"
    )
    assert policy.hide("x: s3cret-value", ["s3cret-value"], lambda s: f"<{len(s)}>") == "x: <12>"
    assert policy.hide("nothing here", []) == "nothing here"


def test_kubeprism_on_loopback_is_an_api_server_the_plan_takes(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: Talos with KubePrism answers the API on 127.0.0.1:7445 on every node."""

    def kubeprism(cfg: dict[str, Any]) -> None:
        cfg["homelab:cluster"]["network"]["apiServer"] = {"host": "127.0.0.1", "port": 7445}

    project.change("main", kubeprism)
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 0, outcome.err
    assert "127.0.0.1" not in outcome.err
