"""Every input of every resource, for both stacks: the Helm releases.

One test per resource and stack compares the whole object the program registers with its snapshot
(tests/components/__snapshots__/test_pinned_releases/), so any changed, dropped or added value
fails a test. The snapshots are reviewed like code: `make snapshots` rewrites them after an
intended change (tests/support/pinned.py).
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from homelab.plan.mockrun import Plan
from tests.conftest import STACKS
from tests.support.pinned import RELEASE, inputs, pinned

RESOURCES = [
    (RELEASE, "cilium-release"),
    (RELEASE, "coredns-release"),
    (RELEASE, "cert-manager-release"),
    ("kubernetes:helm.sh/v4:Chart", "envoy-gateway-crds"),
    (RELEASE, "envoy-gateway-release"),
    (RELEASE, "external-dns-release"),
]


@pytest.mark.parametrize(("type_", "name"), [pytest.param(t, n, id=n) for t, n in RESOURCES])
@pytest.mark.parametrize("stack", STACKS)
def test_release(plans: dict[str, Plan], snapshot: SnapshotAssertion, stack: str, type_: str, name: str) -> None:
    found = inputs(plans[stack], type_, name)
    assert found == pinned(snapshot, found)
