"""The homelab as a whole: N clusters, each checked against all the others on every run."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
import yaml

from components import settings
from components.settings import ConfigRefusedError
from homelab.config import cross_stack
from homelab.config.models import ConfigError
from homelab.config.reader import StackFileError, read_stack_file
from homelab.plan import mockrun
from tests.conftest import Project, stack_config

#: A third cluster as a user would add it: its own networks, zone, owner id, tunnel and context.
LAB = {
    "homelab:cluster": {
        "name": "lab",
        "clusterId": 3,
        "kubeContext": "lab",
        "kubernetesVersion": "1.35",
        "domain": "example.org",
        "network": {
            "vlan": "10.13.0.0/16",
            "podCidr": "10.203.0.0/16",
            "serviceCidr": "10.200.0.0/16",
            "apiServer": {"host": "10.13.0.10", "port": 6443},
        },
        "loadBalancer": {"blocks": [{"cidr": "10.13.0.15/32"}, {"start": "10.13.1.2", "stop": "10.13.1.127"}]},
        "gateways": {"internal": "10.13.1.21", "external": "10.13.1.22"},
        "dns": {"corednsIp": "10.200.0.10"},
        "certificates": {"email": "admin@example.org", "issuer": "letsencrypt-prod"},
        "externalDns": {"ownerId": "homelab-lab"},
        "cloudflare": {"accountId": "0123456789abcdef0123456789abcdef", "zone": "example.org"},
    },
    "homelab:apps": [
        {
            "name": "whoami",
            "namespace": "apps",
            "hostnames": ["whoami.example.org"],
            "service": "whoami",
            "port": 80,
            "exposure": "external",
            "createNamespace": True,
        }
    ],
}


def with_lab(project: Project, **cluster: Any) -> None:
    cfg: dict[str, Any] = {**LAB, "homelab:release": project.config("staging")["homelab:release"]}
    cfg["homelab:cluster"] = {**LAB["homelab:cluster"], **cluster}
    project.write("lab", cfg)


def test_a_third_cluster_plans_beside_the_others(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    with_lab(project)
    lab = project.plan("lab", capsys=capsys)
    assert lab.code == 0, lab.err
    assert "stack lab:" in lab.out
    outputs = yaml.safe_load((project.rendered / "lab" / "outputs.yaml").read_text())
    assert outputs["lbPool"] == "lab-pool"
    assert outputs["tunnelHostname"] == "external.example.org"
    assert outputs["gateways"]["envoy-external"]["address"] == "10.13.1.22"
    pool = yaml.safe_load((project.rendered / "lab" / "cilium" / "CiliumLoadBalancerIPPool-lab-pool.yaml").read_text())
    assert pool["spec"]["blocks"] == [{"cidr": "10.13.0.15/32"}, {"start": "10.13.1.2", "stop": "10.13.1.127"}]
    # the other two still plan with lab beside them
    for stack in ("main", "staging"):
        other = project.plan(stack, capsys=capsys)
        assert other.code == 0, other.err


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        (
            {"kubeContext": "main"},
            "homelab:cluster.kubeContext: 'main' in Pulumi.main.yaml is already lab's (Pulumi.lab.yaml)",
        ),
        (
            {"externalDns": {"ownerId": "homelab-staging"}},
            "homelab:cluster.externalDns.ownerId: 'homelab-staging' in Pulumi.staging.yaml is already lab's "
            "(Pulumi.lab.yaml)",
        ),
        (
            {
                "network": {**LAB["homelab:cluster"]["network"], "podCidr": "10.11.64.0/18"},
            },
            "homelab:cluster.network.vlan: '10.11.0.0/16' in Pulumi.main.yaml overlaps lab's "
            "homelab:cluster.network.podCidr '10.11.64.0/18' (Pulumi.lab.yaml)",
        ),
    ],
    ids=["context", "owner id", "pod cidr in main's vlan"],
)
def test_a_third_cluster_that_collides_stops_every_stack(
    cluster: dict[str, Any], message: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    with_lab(project, **cluster)
    for stack in ("lab", "main", "staging"):
        outcome = project.plan(stack, capsys=capsys)
        assert outcome.code == 2, (stack, outcome.out)
        assert message in outcome.err, (stack, outcome.err)
        assert outcome.registered == []


def test_an_invalid_third_stack_file_stops_main_and_is_named(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    with_lab(project, gateways={"internal": "10.13.1.21", "external": "10.13.9.22"})
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 2
    assert "Pulumi.lab.yaml: homelab:cluster.gateways.external: '10.13.9.22' is outside the LB pool" in outcome.err


def test_a_domain_below_another_zone_with_edge_certificates_is_excluded_from_the_parent(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """DESIGN.md: allowed with advancedCertificates; the parent's external-dns leaves it alone."""

    def shared_zone(cfg: dict[str, Any]) -> None:
        cluster = cfg["homelab:cluster"]
        cluster["domain"] = "staging.example.com"
        cluster["cloudflare"]["zone"] = "example.com"
        cluster["cloudflare"]["advancedCertificates"] = True

    project.change("staging", shared_zone)
    values = {}
    for stack in ("main", "staging"):
        outcome = project.plan(stack, capsys=capsys)
        assert outcome.code == 0, outcome.err
        text = (project.rendered / stack / "external-dns" / "helm-external-dns-cloudflare.values.yaml").read_text()
        values[stack] = yaml.safe_load(text)
    assert values["main"]["domainFilters"] == ["example.com"]
    assert values["main"]["excludeDomains"] == ["staging.example.com"]
    assert values["staging"]["domainFilters"] == ["staging.example.com"]
    assert values["staging"]["excludeDomains"] == []


def test_checked_in_stacks_exclude_nothing(plans: dict[str, Any]) -> None:
    """Each checked-in cluster has its own zone: no domain lies below another's."""
    for stack in ("main", "staging"):
        values = plans[stack].get("kubernetes:helm.sh/v3:Release", "external-dns-release").plain_inputs["values"]
        assert values["excludeDomains"] == []


def test_data_checked_in_stacks_are_on_their_own_zones() -> None:
    zones = {s: stack_config(s)["homelab:cluster"]["cloudflare"]["zone"] for s in ("main", "staging")}
    assert zones == {"main": "example.com", "staging": "example.net"}


def test_other_stacks_secrets_are_never_read(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """An encrypted value in another stack's file is passed over: main plans without it."""
    project.change(
        "staging",
        lambda cfg: cfg.update(
            {
                "homelab:cloudflareDnsApiToken": {
                    "secure": "v1:AAECAwQFBgcICQoL:b3BhcXVlLWNpcGhlcnRleHQtb2YtYS10b2tlbg=="
                }
            }
        ),
    )
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 0, outcome.err
    assert "v1:AAECAwQFBgcICQoL:b3BhcXVlLWNpcGhlcnRleHQtb2YtYS10b2tlbg==" not in outcome.text


def test_the_real_run_finds_the_stack_files_from_the_project_root(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Under `pulumi up` the CLI names the project root; the working directory is the fallback."""
    monkeypatch.setattr("pulumi.get_root_directory", lambda: str(project.root))
    assert settings.project_root() == project.root
    monkeypatch.setattr("pulumi.get_root_directory", lambda: "root_directory")  # the SDK's unset default
    monkeypatch.chdir(project.root)
    assert settings.project_root() == project.root


def test_the_program_itself_refuses_without_the_plan_s_preflight(project: Project) -> None:
    """What `pulumi preview/up` runs: __main__ with the CLI's config, no offline pre-check. The
    homelab rules hold there too: the program reads the other stack files from the project root."""
    project.change("staging", lambda cfg: cfg["homelab:cluster"]["externalDns"].update({"ownerId": "homelab"}))
    registered: list[Any] = []
    with pytest.raises(ConfigRefusedError) as err:
        mockrun.run(
            "main",
            project.config("main"),
            root=project.root,
            preflight_check=False,
            stack_outputs={},
            registered=registered,
        )
    assert (
        "homelab:cluster.externalDns.ownerId: 'homelab' in Pulumi.staging.yaml is already main's (Pulumi.main.yaml)"
        in str(err.value)
    )
    assert registered == []
    assert isinstance(err.value, pulumi.RunError)  # the CLI prints its message, never a traceback


def test_an_encrypted_provider_token_in_another_stack_file_is_fine(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.change(
        "staging",
        lambda cfg: cfg.update(
            {"cloudflare:apiToken": {"secure": "v1:AAECAwQFBgcICQoL:c2VjcmV0LWNpcGhlcnRleHQtb2YtYS10b2tlbg=="}}
        ),
    )
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 0, outcome.err


def test_gates_in_a_chain_plan(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """lab's gate reads main, whose gate reads staging: lab's plan answers its reference with
    the release main's file asks for (what main exports once deployed), without running main."""
    with_lab(project)
    project.change("lab", lambda cfg: cfg.update({"homelab:promotion": {"stagingStack": "organization/homelab/main"}}))
    outcome = project.plan("lab", capsys=capsys)
    assert outcome.code == 0, outcome.err
    gate = [r for r in outcome.registered if r.type == "pulumi:pulumi:StackReference"]
    assert [r.inputs["name"] for r in gate] == ["organization/homelab/main"]
    project.change("main", lambda cfg: cfg["homelab:release"]["charts"].update({"coredns": "1.45.0"}))
    project.change("staging", lambda cfg: cfg["homelab:release"]["charts"].update({"coredns": "1.45.0"}))
    outcome = project.plan("lab", capsys=capsys)
    assert outcome.code == 2
    assert "  - homelab:release.charts.coredns: lab asks for 1.46.2, main runs 1.45.0\n" in outcome.err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "Pulumi.x.yaml: no such stack file"),
        (lambda p: p.mkdir(), "Pulumi.x.yaml: is a directory, not a stack file"),
    ],
    ids=["missing", "a directory"],
)
def test_unreadable_stack_files_are_named(make: Any, message: str, tmp_path: Any) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    make(path)
    with pytest.raises(StackFileError) as err:
        read_stack_file(path)
    assert str(err.value) == message


def test_an_alias_used_twice_is_fine(tmp_path: Any) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  homelab:a: &v [1, 2]\n  homelab:b: *v\n")
    assert read_stack_file(path) == {"homelab:a": [1, 2], "homelab:b": [1, 2]}


def test_without_pulumi_yaml_anywhere_the_program_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr("pulumi.get_root_directory", lambda: str(tmp_path / "a"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings, "CODE_ROOT", tmp_path / "b")
    with pytest.raises(ConfigError) as err:
        settings.project_root()
    assert f"no Pulumi.yaml in {tmp_path / 'a'}, {tmp_path}, {tmp_path / 'b'}" in str(err.value)


def test_an_api_server_by_name_is_not_compared_across_clusters(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DNS name (a load balancer in front of the control plane) has no address to compare."""
    project.change(
        "main", lambda cfg: cfg["homelab:cluster"]["network"]["apiServer"].update({"host": "k8s.example.com"})
    )
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 0, outcome.err
    assert (
        "k8sServiceHost: k8s.example.com"
        in (project.rendered / "main" / "cilium" / "helm-cilium.values.yaml").read_text()
    )


# ---------------------------------------------------------------------------------------------
# reading the other stack files (homelab.config.cross_stack.project_members), without the plan command


def test_project_members_are_every_stack_in_name_order(project: Project) -> None:
    root = project.root
    assert [(m.stack, m.file) for m in cross_stack.project_members(root)] == [
        ("main", "Pulumi.main.yaml"),
        ("staging", "Pulumi.staging.yaml"),
    ]
    current = cross_stack.read_member("main", root / "Pulumi.main.yaml")
    assert [m.stack for m in cross_stack.project_members(root, current)] == ["main", "staging"]
    assert cross_stack.project_members(root, current)[0] is current


def test_every_broken_stack_file_is_listed_under_the_running_stacks_file(project: Project) -> None:
    """An encrypted value where a plain one belongs reads as '[encrypted]', never its ciphertext."""
    root = project.root
    (root / "Pulumi.lab.yaml").write_text("config:\n  homelab:cluster: [\n")
    staging = yaml.safe_load((root / "Pulumi.staging.yaml").read_text())
    staging["config"]["homelab:apps"] = {"secure": "v1:AAECAwQFBgcICQoL:YXBwcy1jaXBoZXJ0ZXh0LW9mLWEtbGlzdC0tLS0="}
    (root / "Pulumi.staging.yaml").write_text(yaml.safe_dump(staging))
    problems = [
        "Pulumi.lab.yaml:3: not valid YAML: expected the node content, but found '<stream end>' "
        "(while parsing a flow node)",
        "Pulumi.staging.yaml: homelab:apps: Input should be a valid list (got '[encrypted]')",
        "every stack file of the homelab must be valid: each run checks them all together",
    ]
    with pytest.raises(ConfigError) as err:
        cross_stack.project_members(root)
    assert str(err.value) == "invalid stack config:\n  - " + "\n  - ".join(problems)
    current = cross_stack.read_member("main", root / "Pulumi.main.yaml")
    with pytest.raises(ConfigError) as err:
        cross_stack.project_members(root, current)
    assert str(err.value) == "invalid stack config (Pulumi.main.yaml):\n  - " + "\n  - ".join(problems)


def test_the_running_stacks_own_problems_name_its_file(project: Project) -> None:
    """Both ways a stack's own config fails (a bad value; a provider token in plain text) head the
    message with the file the config came from."""
    root = project.root
    good = dict(yaml.safe_load((root / "Pulumi.main.yaml").read_text())["config"])
    secrets = ["homelab:cloudflareApiToken", "homelab:cloudflareDnsApiToken"]
    good.update({"homelab:cloudflareApiToken": "api-token-for-tests", "homelab:cloudflareDnsApiToken": "dns-for-tests"})

    with pytest.raises(ConfigError) as err:
        cross_stack.check("main", {**good, "cloudflare:apiToken": "plain"}, secrets, root, "Pulumi.main.yaml")
    assert str(err.value).startswith(
        "invalid stack config (Pulumi.main.yaml):\n  - cloudflare:apiToken: is set in plain text in the stack config"
    )
    bad = {**good, "homelab:cluster": {**good["homelab:cluster"], "clusterId": 0}}
    with pytest.raises(ConfigError) as err:
        cross_stack.check("main", bad, secrets, root)
    assert str(err.value).startswith("invalid stack config (Pulumi.main.yaml):\n  - homelab:cluster.clusterId: ")


def test_config_from_the_cli_decodes_homelab_objects_only() -> None:
    """The CLI hands every value over as a string; secrets and other namespaces stay strings."""
    assert cross_stack.decoded(
        {
            "homelab:cluster": '{"name": "main"}',
            "homelab:apps": "not json",
            "homelab:cloudflareApiToken": "12345678",
            "cloudflare:apiToken": "[1]",
        }
    ) == {
        "homelab:cluster": {"name": "main"},
        "homelab:apps": "not json",
        "homelab:cloudflareApiToken": "12345678",
        "cloudflare:apiToken": "[1]",
    }


def test_the_running_stacks_config_is_checked_against_the_others_not_its_file(project: Project) -> None:
    """Under the CLI the running stack's config comes from the CLI, which may differ from its file
    (`pulumi config set` just ran): that config, not the file, meets the other stacks."""
    root = project.root
    cli = dict(yaml.safe_load((root / "Pulumi.main.yaml").read_text())["config"])
    cli.update({"homelab:cloudflareApiToken": "api-token-for-tests", "homelab:cloudflareDnsApiToken": "dns-for-tests"})
    cli["homelab:cluster"]["network"]["podCidr"] = "10.202.0.0/16"  # staging's
    with pytest.raises(ConfigError) as err:
        cross_stack.check("main", cli, ["homelab:cloudflareApiToken", "homelab:cloudflareDnsApiToken"], root)
    assert str(err.value) == (
        "invalid stack config (Pulumi.main.yaml):\n  - homelab:cluster.network.podCidr: '10.202.0.0/16' in "
        "Pulumi.staging.yaml overlaps main's homelab:cluster.network.podCidr '10.202.0.0/16' (Pulumi.main.yaml); "
        "clusters never share addresses"
    )
