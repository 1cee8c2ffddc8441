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

from homelab.plan import mockrun
from tests.conftest import stack_config

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


def test_data_each_pinned_version_is_matched_exactly_once() -> None:
    """Read from the staging file itself, so a Renovate bump of it keeps this test green."""
    text = (mockrun.ROOT / "Pulumi.staging.yaml").read_text()
    release = stack_config("staging")["homelab:release"]
    pinned = {**release["charts"], **release["images"]}
    found: dict[str, list[str]] = {}
    for manager in MANAGERS:
        for pattern in manager["matchStrings"]:
            for match in js_regex(pattern).finditer(text):
                found.setdefault(manager["depNameTemplate"], []).append(match["currentValue"])
    key_of = {
        "cilium": "cilium",
        "coredns": "coredns",
        "docker.io/envoyproxy/gateway-helm": "envoyGateway",
        "cert-manager": "certManager",
        "external-dns": "externalDns",
        "docker.io/cloudflare/cloudflared": "cloudflared",
    }
    assert found == {dep: [pinned[key]] for dep, key in key_of.items()}
    assert sorted(key_of.values()) == sorted(pinned)  # no pinned version without a manager


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
