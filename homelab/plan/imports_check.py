"""The import plan checked against what the program registers: each import id must name the very
object the resource writes. The import plan's reader (:mod:`homelab.config.imports`) checks an
id's form; only the program's run knows which object a resource is, so a stale plan (the config
changed since ``make adopt`` wrote it) or a hand edit that points a resource at another object is
caught here. Under the CLI such an import would read the other object and the update would
replace it with the program's (since Pulumi 3.174 an import is diffed like any update,
../shared/DESIGN.md "Adopting a running homelab"): deleting what it names.
"""

from __future__ import annotations

from pathlib import Path

from homelab.config.imports import DNS_RECORD, HELM_RELEASE, TUNNEL, TUNNEL_CONFIG, import_file, read_import_plan
from homelab.config.reader import stack_file
from homelab.plan import render
from homelab.plan.recorded import Plan, Registration

#: What the mocks return for a provider-computed id (homelab/plan/mock_monitor.py): unknown here.
_MOCK = "mock-"


def expected_id(res: Registration) -> str | None:
    """The import id of the object ``res`` writes, as far as the plan knows it (None: unknown)."""
    inputs = res.plain_inputs
    if res.type == HELM_RELEASE:
        return f"{inputs.get('namespace') or 'default'}/{inputs.get('name') or res.name}"
    if res.type in (TUNNEL, TUNNEL_CONFIG):
        return None  # the tunnel id is Cloudflare's; only its account is known (below)
    if res.type == DNS_RECORD:
        return None
    if res.type.startswith("kubernetes:") and res.custom:
        _, _, namespace, name = render.object_key(res.k8s_object, res.name)
        return f"{namespace}/{name}" if namespace else name
    return None


def _prefix(res: Registration) -> str | None:
    """The account (tunnel) or zone (record) an id must start with, when the plan knows it."""
    inputs = res.plain_inputs
    key = {TUNNEL: "accountId", TUNNEL_CONFIG: "accountId", DNS_RECORD: "zoneId"}.get(res.type)
    value = str(inputs.get(key) or "") if key else ""
    return value if value and not value.startswith(_MOCK) else None


def import_problems(plan: Plan, root: Path) -> list[str]:
    """``<file>:<line>: ...`` for every import id that names another object than its resource's."""
    imports = read_import_plan(import_file(stack_file(root, plan.stack)), plan.stack)
    if imports is None:
        return []
    lines = {(e.type, e.resource): e.line for e in imports.entries}
    problems = []
    for res in plan.resources:
        if not res.import_id or (res.type, res.name) not in lines:
            continue
        where = f"{imports.shown}:{lines[(res.type, res.name)]}: {res.name}"
        want, prefix = expected_id(res), _prefix(res)
        if want is not None and res.import_id != want:
            problems.append(
                f"{where}: id {res.import_id!r} names another object than the program's {want!r}: the import would "
                "read that one and the update replace it"
            )
        elif prefix is not None and res.import_id.split("/", 1)[0] != prefix:
            what = "zone" if res.type == DNS_RECORD else "account"
            problems.append(f"{where}: id {res.import_id!r} is not in the stack's {what} {prefix}")
    return problems


def import_refusal(plan: Plan, root: Path) -> str | None:
    """The plan's refusal of an import plan that points resources at other objects, or None."""
    problems = import_problems(plan, root)
    if not problems:
        return None
    lines = "\n  - ".join(problems)
    return (
        f"the import plan points resources at other objects:\n  - {lines}\n"
        f"run `make adopt STACK={plan.stack}` again, or fix those ids"
    )
