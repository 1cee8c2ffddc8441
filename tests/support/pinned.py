"""The helpers of the pinned-input tests (tests/components/test_pinned_*.py): every input of every
resource, per stack, compared with a JSON snapshot checked in beside the tests
(tests/components/__snapshots__/test_pinned_*/, one file per resource and stack, keys sorted).

The snapshots are golden files reviewed like code: after an intended change, `make snapshots`
rewrites them and the diff goes into the review with the change that caused it.
"""

from __future__ import annotations

import json
from typing import Any

from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from homelab.paths import ROOT
from homelab.plan.mockrun import Plan
from homelab.plan.run_config import PLACEHOLDER_PREFIX

RELEASE = "kubernetes:helm.sh/v3:Release"
#: what the plan shows for every secret input (homelab.config.policy.SECRET_SHOWN)
SECRET = "[secret]"


def inputs(plan: Plan, type_: str, name: str) -> dict[str, Any]:
    found = dict(plan.get(type_, name).plain_inputs)
    found.pop("__meta", None)
    return found


def pinned(snapshot: SnapshotAssertion, found: Any) -> SnapshotAssertion:
    """The snapshot to compare ``found`` with (``assert found == pinned(snapshot, found)``), once
    ``found`` is known to hold no secret placeholder and no path of this machine."""
    text = json.dumps(found)
    assert PLACEHOLDER_PREFIX not in text
    assert str(ROOT) not in text
    return snapshot.use_extension(JSONSnapshotExtension)
