"""renovate.json: chart versions and the cloudflared image are bumped on staging only.

A data check of the config against the stack files (Renovate itself cannot run here): each
manager's file pattern and match string, read as Renovate reads them, applied to the project's
stack files.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import stack_config
from tools import mockrun

CONFIG = json.loads((mockrun.ROOT / "renovate.json").read_text())
MANAGERS: list[dict[str, Any]] = CONFIG["customManagers"]


def js_regex(pattern: str) -> re.Pattern[str]:
    """A Renovate pattern as Python reads it: `/.../` delimiters off, `(?<name>` as `(?P<name>`."""
    if pattern.startswith("/") and pattern.endswith("/"):
        pattern = pattern[1:-1]
    return re.compile(pattern.replace("(?<", "(?P<"))


def files_of(manager: dict[str, Any]) -> list[str]:
    names = [p.name for p in mockrun.ROOT.glob("Pulumi.*.yaml")]
    return sorted(n for n in names if any(js_regex(p).search(n) for p in manager["managerFilePatterns"]))


def test_only_the_staging_stack_file_is_bumped() -> None:
    assert {name for m in MANAGERS for name in files_of(m)} == {"Pulumi.staging.yaml"}


def test_each_pinned_version_is_matched_exactly_once() -> None:
    text = (mockrun.ROOT / "Pulumi.staging.yaml").read_text()
    found: dict[str, list[str]] = {}
    for manager in MANAGERS:
        for pattern in manager["matchStrings"]:
            for match in js_regex(pattern).finditer(text):
                found.setdefault(manager["depNameTemplate"], []).append(match["currentValue"])
    assert found == {
        "cilium": ["1.20.0"],
        "coredns": ["1.46.2"],
        "docker.io/envoyproxy/gateway-helm": ["v1.9.0"],
        "cert-manager": ["v1.21.1"],
        "external-dns": ["1.21.1"],
        "docker.io/cloudflare/cloudflared": ["2026.8.2"],
    }
    release = stack_config("staging")["homelab:release"]
    pinned = sorted([*release["charts"].values(), *release["images"].values()])
    assert sorted(v for values in found.values() for v in values) == pinned


@pytest.mark.parametrize(
    ("dep", "datasource", "registry"),
    [
        ("cilium", "helm", "https://helm.cilium.io/"),
        ("coredns", "helm", "https://coredns.github.io/helm"),
        ("cert-manager", "helm", "https://charts.jetstack.io"),
        ("external-dns", "helm", "https://kubernetes-sigs.github.io/external-dns/"),
        ("docker.io/envoyproxy/gateway-helm", "docker", None),
        ("docker.io/cloudflare/cloudflared", "docker", None),
    ],
)
def test_datasource_and_registry_are_the_chart_s(dep: str, datasource: str, registry: str | None) -> None:
    """The same repositories the program installs from (an OCI chart is a docker datasource)."""
    (manager,) = [m for m in MANAGERS if m["depNameTemplate"] == dep]
    assert manager["datasourceTemplate"] == datasource
    assert manager.get("registryUrlTemplate") == registry


def test_renovate_touches_nothing_else() -> None:
    assert CONFIG["enabledManagers"] == ["custom.regex"]
