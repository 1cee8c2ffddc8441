"""Pulumi.yaml's own `config:` block, read as the CLI merges it into every stack (homelab/config/project.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.config.project import project_defaults, stack_config
from homelab.config.reader import StackFileError
from tests.conftest import Project

HEAD = "name: homelab\nruntime: python\n"


def project_file(tmp_path: Path, config: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(HEAD + "config:\n" + config)
    return tmp_path


def test_shorthand_typed_and_other_namespace_values(tmp_path: Path) -> None:
    """project.go RewriteShorthandConfigValues: a plain value of the project's key is its
    default, of another namespace's key its value; a typed entry gives `value`, else `default`."""
    root = project_file(
        tmp_path,
        "  homelab:apps: []\n"
        "  kubernetes:enableServerSideApply: true\n"
        "  homelab:promotion:\n    default:\n      requireStaging: false\n"
        "  described:\n    description: no value, so nothing for the stacks\n",
    )
    assert project_defaults(root) == {
        "homelab:apps": [],
        "kubernetes:enableServerSideApply": True,
        "homelab:promotion": {"requireStaging": False},
    }


def test_a_stack_file_s_own_value_wins(tmp_path: Path) -> None:
    root = project_file(tmp_path, "  homelab:apps: []\n  homelab:extra: 1\n")
    (root / "Pulumi.lab.yaml").write_text("config:\n  homelab:apps:\n    - name: a\n")
    assert stack_config(root / "Pulumi.lab.yaml") == {"homelab:apps": [{"name": "a"}], "homelab:extra": 1}
    assert project_defaults(tmp_path / "elsewhere") == {}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "  homelab:cloudflareApiToken: abc\n",
            "Pulumi.yaml:4: config.homelab:cloudflareApiToken: a secret cannot have a value in Pulumi.yaml (shared by "
            "every stack, in plain text); set it per stack with `pulumi config set --secret "
            "homelab:cloudflareApiToken`",
        ),
        (
            "  token:\n    secret: true\n    default: abc\n",
            "Pulumi.yaml:4: config.token: a secret cannot have a value in Pulumi.yaml (shared by every stack, in plain "
            "text); set it per stack with `pulumi config set --secret homelab:token`",
        ),
        (
            "  homelab:cluster:\n    name: main\n",
            "Pulumi.yaml:4: config.homelab:cluster: name is not an attribute of a project config entry (type, "
            "description, items, default, value, secret); a value for every stack goes under `default:`",
        ),
        (
            "  homelab:promotion:\n    default:\n      requireStaging: yes\n",
            "Pulumi.yaml:6: homelab:promotion.default.requireStaging: `yes` is a boolean to YAML 1.1 but text to the "
            'Pulumi CLI; write true or false, or quote it ("yes")',
        ),
        (
            "  homelab:apps: []\n  apps: []\n",
            "Pulumi.yaml: config key 'apps' is 'homelab:apps' written twice (Pulumi reads both as one)",
        ),
        (
            "  a: 1\n  a: 2\n",
            "Pulumi.yaml:5: duplicate key `a` (lines 4 and 5): YAML readers keep only the last, silently; keep one",
        ),
        (
            "  homelab:x:\n    default: 1\n    value: 2\n",
            "Pulumi.yaml:4: config.homelab:x: both `default` and `value`; the CLI takes one of them",
        ),
        (
            "  kubernetes:context:\n    default: main\n",
            "Pulumi.yaml:4: config.kubernetes:context: not a key of this project, so it takes no `type` or "
            "`default`: write its `value:` (the CLI refuses the file otherwise)",
        ),
        (
            "  kubernetes:context:\n    description: which\n",
            "Pulumi.yaml:4: config.kubernetes:context: another namespace's key needs a `value:`",
        ),
        (
            "  homelab:x:\n    type: object\n",
            "Pulumi.yaml:4: config.homelab:x: type 'object' is none of string, integer, boolean, array",
        ),
        (
            "  homelab:x:\n    type: array\n",
            "Pulumi.yaml:4: config.homelab:x: an array needs `items:` with the items' `type:`",
        ),
        (
            "  homelab:x:\n    type: integer\n    default: '3'\n",
            "Pulumi.yaml:4: config.homelab:x: its default is not of its type 'integer'",
        ),
    ],
    ids=[
        "credential",
        "secret-default",
        "not-an-attribute",
        "reader-trap",
        "written-twice",
        "duplicate",
        "default-and-value",
        "other-namespace-default",
        "other-namespace-no-value",
        "unknown-type",
        "array-without-items",
        "default-of-another-type",
    ],
)
def test_what_pulumi_yaml_cannot_hold_is_refused(tmp_path: Path, config: str, message: str) -> None:
    with pytest.raises(StackFileError) as err:
        project_defaults(project_file(tmp_path, config))
    assert str(err.value) == message


def test_every_run_reads_the_project_s_defaults(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """main without its own `homelab:promotion` takes Pulumi.yaml's: no gate, no stack reference."""
    project.change("main", lambda cfg: cfg.pop("homelab:promotion"))
    pulumi_yaml = project.root / "Pulumi.yaml"
    pulumi_yaml.write_text(
        pulumi_yaml.read_text() + "config:\n  homelab:promotion:\n    default:\n      requireStaging: false\n"
    )
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 0, outcome.err
    assert [r for r in outcome.registered if r.type == "pulumi:pulumi:StackReference"] == []
    pulumi_yaml.write_text(pulumi_yaml.read_text().replace("requireStaging: false", "requireStaging: off"))
    outcome = project.plan("main", capsys=capsys)
    assert outcome.code == 2
    assert outcome.err.splitlines()[0] == (
        "error: Pulumi.yaml:11: homelab:promotion.default.requireStaging: `off` is a boolean to YAML 1.1 but text to "
        'the Pulumi CLI; write true or false, or quote it ("off")'
    )


def test_a_stack_value_of_another_type_than_declared_is_refused(tmp_path: Path) -> None:
    root = project_file(tmp_path, "  homelab:labels:\n    type: array\n    items:\n      type: string\n")
    (root / "Pulumi.lab.yaml").write_text("config:\n  homelab:labels: [a, 1]\n")
    with pytest.raises(StackFileError) as err:
        stack_config(root / "Pulumi.lab.yaml")
    assert (
        str(err.value)
        == "Pulumi.lab.yaml: homelab:labels: Pulumi.yaml declares it of type 'array', and this value is not"
    )
    (root / "Pulumi.lab.yaml").write_text("config:\n  homelab:labels: [a, b]\n")
    assert stack_config(root / "Pulumi.lab.yaml") == {"homelab:labels": ["a", "b"]}
