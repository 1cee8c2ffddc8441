"""The import plan applied: Pulumi's ``import`` option on exactly the resources
``<stack>.imports.yaml`` lists (:mod:`homelab.config.imports`), nothing else changed.

A stack transformation (pulumi SDK ``runtime/stack.py`` ``register_stack_transformation``: run
in the program by the SDK for every resource constructed after it, children of components
included) looks each resource up by (type, name) and adds ``import_`` with the file's id. It
runs before the resource is registered, so the engine imports instead of creating (pulumi SDK
``resource.py`` ``ResourceOptions.import_``: "import indicates that this resource's provider
should import its state from the cloud resource with the given ID. The inputs to the resource's
constructor must align with the resource's current state. Once a resource has been imported, the
import property must be removed from the resource's options.")
Resources a provider builds inside a remote component (the ``helm.v4.Chart`` of Envoy
Gateway's CRDs) never pass through it: their entries stay unmatched and are refused.

:meth:`Imports.finish` runs after the last resource: an entry that matched nothing is refused
then (the offline plan refuses it; under the CLI, the preview `pulumi up` runs first fails
before anything changes, unless it runs with ``--skip-preview``), and while the file exists
every run says to delete it once an update has imported its resources.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from homelab.config.imports import ImportFileError, ImportPlan, import_file, read_import_plan
from homelab.config.reader import stack_file
from homelab.errors import HomelabError


class ImportPlanError(HomelabError, pulumi.RunError):
    """The import plan names resources the program does not have (a ``RunError``: no traceback)."""


class Imports:
    """The import plan of the running stack, applied to every resource constructed after :meth:`apply`."""

    def __init__(self, plan: ImportPlan | None) -> None:
        self.plan = plan
        self.ids = plan.ids() if plan is not None else {}
        self.matched: set[tuple[str, str]] = set()

    def apply(self) -> Imports:
        if self.ids:
            pulumi.runtime.register_stack_transformation(self._transform)
        return self

    def _transform(self, args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        key = (args.type_, args.name)
        if key not in self.ids:
            return None
        self.matched.add(key)
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(import_=self.ids[key]))
        return pulumi.ResourceTransformationResult(args.props, opts)

    def finish(self) -> None:
        """Refuse entries that matched no resource; remind that the file goes once imported."""
        if self.plan is None:
            return
        unmatched = [e for e in self.plan.entries if (e.type, e.resource) not in self.matched]
        if unmatched:
            lines = "\n  - ".join(
                f"{self.plan.shown}:{e.line}: {e.resource} ({e.type}) is no resource of this program" for e in unmatched
            )
            raise ImportPlanError(
                f"the import plan names resources the program does not create:\n  - {lines}\n"
                f"remove those entries, or run `make adopt STACK={self.plan.stack}` again"
            )
        pulumi.log.info(
            f"{self.plan.shown}: {len(self.plan.entries)} resource(s) imported instead of created; once an update "
            "has imported them, delete the file (they are in the stack's state)"
        )


def load(root: Path, stack: str) -> Imports:
    """The running stack's import plan, applied; refused (as a ``RunError``) when unusable."""
    try:
        plan = read_import_plan(import_file(stack_file(root, stack)), stack)
    except ImportFileError as exc:
        raise ImportPlanError(str(exc)) from None
    return Imports(plan).apply()
