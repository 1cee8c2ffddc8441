"""The staging gate: main only runs chart versions and image tags staging already runs.

Staging exports its release settings (stack output ``release``). With
``homelab:promotion.requireStaging`` on (main's default), main reads them through a
StackReference and compares every chart version and image tag. Both providers take an input
from the gate, so when it fails no Kubernetes or Cloudflare resource is created or changed.
With the gate off, or on staging itself, no stack reference is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pulumi
from pulumi.runtime.settings import get_stack

from components.base import Component
from homelab.config.policy import release_settings
from homelab.config.stack import StackConfig
from homelab.errors import HomelabError

RELEASE_OUTPUT = "release"
VERSIONED = ("charts", "images")

T = TypeVar("T")


class PromotionGateError(HomelabError, pulumi.RunError):
    """Main asked for versions staging has not run. A ``RunError``: under the CLI the program
    stops with this message alone, "rather than the usual verbose unhandled error logic which
    emits the source program text and complete stack trace" (pulumi SDK ``pulumi/errors.py``)."""


def unrun_versions(wanted: Mapping[str, Any], staging: Mapping[str, Any] | None, stack: str, other: str) -> list[str]:
    """One line per chart version or image tag ``stack`` wants and ``other`` (the stack its
    gate reads) does not run."""
    if not staging:
        return [f"{other} exports no `{RELEASE_OUTPUT}`: run `pulumi up --stack {other}` with this program first"]
    problems = []
    for section in VERSIONED:
        theirs = staging.get(section) or {}
        for key, version in (wanted.get(section) or {}).items():
            if theirs.get(key) != version:
                runs = theirs.get(key, "nothing")
                problems.append(f"homelab:release.{section}.{key}: {stack} asks for {version}, {other} runs {runs}")
    return problems


def check(wanted: Mapping[str, Any], staging: Mapping[str, Any] | None, stack: str, other: str) -> None:
    """Raises :class:`PromotionGateError` naming every version ``other`` has not run. A stack
    reference without the output (``other`` never ran this program) is one line with the fix."""
    if not isinstance(staging, Mapping) or not staging:
        raise PromotionGateError(
            f"promotion gate: {other} exports no `{RELEASE_OUTPUT}`: run `pulumi up --stack {other}` with this "
            f"program first, or set homelab:promotion.requireStaging: false on {stack}"
        )
    problems = unrun_versions(wanted, staging, stack, other)
    if problems:
        raise PromotionGateError(
            f"promotion gate: {other} has not run what {stack} asks for:\n  - "
            + "\n  - ".join(problems)
            + f"\npromote what {other} runs (make promote FROM={other} TO={stack}) or `pulumi up --stack {other}` first"
        )


class StagingGate(Component):
    """Holds back everything on main until staging has run the same release."""

    TYPE = "homelab:promotion:StagingGate"

    #: Resolves once the gate has passed; fails the run (and everything that waits) otherwise.
    passed: pulumi.Output[None]

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, opts)
        staging_stack = config.promotion.staging_stack
        stack, other = get_stack(), config.promotion.staging_stack_name
        self.enabled = config.promotion.require_staging and stack != other
        if self.enabled:
            ref = pulumi.StackReference(
                f"{name}-staging", stack_name=staging_stack, opts=pulumi.ResourceOptions(parent=self)
            )
            wanted = release_settings(config)
            self.passed = ref.get_output(RELEASE_OUTPUT).apply(lambda staging: check(wanted, staging, stack, other))
        else:
            self.passed = pulumi.Output.from_input(None)
        self.register_outputs({"enabled": self.enabled, "stagingStack": staging_stack if self.enabled else None})

    def then(self, value: pulumi.Input[T]) -> pulumi.Output[T]:
        """``value``, available only once the gate has passed (keeps secrets secret)."""
        return pulumi.Output.all(self.passed, value).apply(lambda pair: pair[1])
