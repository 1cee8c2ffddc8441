"""What adopt prints and writes: doctor's report of the findings, what the first up changes on
what it imports, and the import plan (homelab/config/imports.py) with what to do next.

The import plan is written only when everything could be judged: the cluster and Cloudflare were
read, the context and the account are the stack's, and no read failed. It lists every importable
resource; a resource that is not adoptable as is stays out of it (its FAIL line says what to do
first). It replaces only an import plan of the same stack (the command refuses any other file
there before it reads anything), and is written whole or not at all.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from homelab.adopt.findings import ADOPTING, GROUPS, Finding, State
from homelab.config.imports import Entry, ImportPlan, import_plan_text
from homelab.doctor import report
from homelab.doctor.checks_preflight import UPSERT_ENV
from homelab.doctor.expected import Expected

ISSUE_3502 = (
    "if preview fails an imported release with 'non-absolute URLs should be in form of repo_name/path_to_chart', "
    f"that is pulumi-kubernetes#3502 (open; {ADOPTING})"
)


@dataclass(frozen=True)
class Outcome:
    """What became of the import plan: the file (None when nothing was written) and what to say."""

    path: Path | None
    entries: tuple[Entry, ...]
    lines: tuple[str, ...]


def _incomplete(findings: Sequence[Finding]) -> list[str]:
    return [f.check.name for f in findings if f.state is State.UNKNOWN]


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a temporary file beside it, then renamed over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _next(exp: Expected, findings: Sequence[Finding], count: int) -> list[str]:
    owners = sorted({o for f in findings if f.state is State.IMPORTABLE or f.upsert for o in f.owners})
    steps = ["review it and the changes above, then commit it"]
    if owners:
        steps.append(
            "before `pulumi up`, stop Flux reconciling what is imported (a suspended HelmRelease deleted later "
            "leaves its release and objects; mark what is kept kustomize.toolkit.fluxcd.io/prune: disabled before "
            'removing it from the Git repository Flux syncs, README "Adopting a running homelab"):'
            + "".join(f"\n       {o.suspend(exp.context)}" for o in owners)
        )
    upsert = [f.check.name for f in findings if f.upsert]
    if upsert:
        steps.append(f"the first `pulumi up` needs {UPSERT_ENV}=true: {', '.join(upsert)} (above)")
    steps.append(
        f"make plan STACK={exp.stack}, then pulumi preview --stack {exp.stack}: it should import {count} "
        f"resources and change only what is listed above; {ISSUE_3502}"
    )
    blocked = sum(f.state is State.BLOCKED for f in findings)
    if blocked:
        steps.append(
            f"{blocked} {'resource is' if blocked == 1 else 'resources are'} not adoptable as is (FAIL above): "
            "do what each says before `pulumi up`, then run adopt again"
        )
    return [f"  {i}. {step}" for i, step in enumerate(steps, 1)]


def conclude(exp: Expected, findings: Sequence[Finding], path: Path, previous: ImportPlan | None) -> Outcome:
    """Writes the import plan when the findings allow it; says what became of it either way."""
    name = path.name
    entries = tuple(f.entry for f in findings if f.state is State.IMPORTABLE and f.entry is not None)
    missing = _incomplete(findings)
    if missing:
        said = f"Import plan: nothing written: not everything could be judged ({', '.join(missing)}): "
        lines = [said + "do what the FAIL lines above say, then run adopt again"]
        if previous is not None:
            lines.append(
                f"{name} of an earlier run is still there ({len(previous.entries)} imports) and the program "
                "imports what it lists: delete it if it no longer holds"
            )
        return Outcome(None, (), tuple(lines))
    if not entries:
        lines = [
            "Import plan: nothing written: nothing that runs is importable (every resource is absent or "
            "not adoptable as is)"
        ]
        if previous is not None:
            lines.append(
                f"{name} of an earlier run is still there ({len(previous.entries)} imports): delete it, nothing it "
                "lists is importable now"
            )
        return Outcome(None, (), tuple(lines))
    _write(path, import_plan_text(ImportPlan(exp.stack, name, entries)))
    replaced = f", replacing the one of an earlier run ({len(previous.entries)} imports)" if previous else ""
    head = f"Import plan: wrote {name}: {len(entries)} imports (the lines 'importable as' above){replaced}. Next:"
    return Outcome(path, entries, (head, *_next(exp, findings, len(entries))))


def changes_text(findings: Sequence[Finding]) -> list[str]:
    """Each importable resource's changes, in the report's order (``findings`` are ordered)."""
    shown = [f for f in findings if f.changes]
    if not shown:
        return []
    lines = ["", "What the first up changes on what runs (program's value on the right; secrets never shown)"]
    for f in shown:
        lines.append(f"  {f.title or f.check.name}")
        lines += [f"    {change}" for change in f.changes]
    return lines


def text(findings: Sequence[Finding], title: str, outcome: Outcome) -> str:
    checks = [f.check for f in findings]
    return "\n".join([report.table(checks, title, GROUPS), *changes_text(findings), "", *outcome.lines])


def as_json(findings: Sequence[Finding], outcome: Outcome, path: Path) -> str:
    """For scripts: doctor's rows, the changes, and the import plan."""
    rows = json.loads(report.as_json([f.check for f in findings], GROUPS))
    return json.dumps(
        {
            "checks": rows,
            "changes": [{"of": f.title or f.check.name, "changes": list(f.changes)} for f in findings if f.changes],
            "import_plan": {
                "file": path.name,
                "written": outcome.path is not None,
                "imports": [{"resource": e.resource, "type": e.type, "id": e.id} for e in outcome.entries],
                "message": list(outcome.lines),
            },
        },
        indent=2,
    )
