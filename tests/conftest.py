"""The one shared fixture: the real program run under the SDK's mock monitor (tools/mockrun.py).

``plans[stack]`` is the unchanged stack file's run (made once per session); ``run_program``
runs the program again with a changed config, for tests of refusals and variants.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools import mockrun
from tools.mockrun import Plan

STACKS = ("main", "staging")
SCHEMAS = mockrun.ROOT.parent / "shared" / "schemas"


class _Plans(dict):
    def __missing__(self, stack: str) -> Plan:
        self[stack] = mockrun.run(stack)
        return self[stack]


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    return _Plans()


def stack_config(stack: str) -> dict[str, Any]:
    """A deep copy of the stack file's config, safe to change."""
    return copy.deepcopy(mockrun.read_stack_config(stack))


RunProgram = Callable[..., Plan]


@pytest.fixture
def run_program() -> RunProgram:
    def run(stack: str, config: dict[str, Any] | None = None, **kwargs: Any) -> Plan:
        return mockrun.run(stack, config, **kwargs)

    return run


@pytest.fixture(scope="session")
def schemas() -> Path:
    if not SCHEMAS.is_dir():
        pytest.skip(f"upstream schemas not found at {SCHEMAS} (they live in ../shared/schemas beside the repo)")
    return SCHEMAS
