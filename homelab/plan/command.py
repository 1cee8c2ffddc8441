"""Offline plan: run the real program for one stack under the SDK's mock monitor.

    homelab plan --stack main        (or: make plan STACK=main)

Prints every resource as a tree (type, name, under its parent) with a count per component,
renders every Helm release with the real chart (homelab/plan/render.py) and prints the objects per
release and the size of each ``helm.v3.Release``'s release Secret (homelab/plan/helm_storage.py), and
writes what would be applied under ``rendered/<stack>/``: each Kubernetes object as YAML, each
Helm release with its full values and, under ``<component>/chart/``, every object its chart
renders; each Cloudflare resource with its inputs, and the stack outputs. Secrets show as
``[secret]``; secrets a fresh clone lacks are placeholders marked ``PLACEHOLDER-SECRET-``. Needs
no Pulumi CLI, cluster or cloud account; rendering needs helm and the pinned charts
(homelab/plan/helm.py, homelab/plan/charts.py; ``--no-render`` skips it).

On invalid config, when main's staging gate stops it (main asks for a version staging's stack
file does not run), when a chart cannot be rendered, or when Helm would need a release Secret
over 1 MiB (the API server refuses it), it prints the error, writes nothing and exits 2. When
validation finds problems (the upstream schemas, the Kubernetes schemas of the cluster's
version, the rendered CRDs) it prints each one, marks the rendering and exits 1
(``--no-validate`` skips it). A helm that hangs (stopped after ``$HOMELAB_HELM_TIMEOUT``
seconds, default 30), prints nothing or prints bytes that are not UTF-8 is refused the same
way, before anything is written (homelab/plan/helm.py, homelab/plan/render.py).

``<out>/<stack>/`` is replaced, and removed by a refusal, only when it is a rendering of the
plan (it holds ``.homelab-plan``, or it is under the project's own ``rendered/``); anything
else there, an ``--out`` that is a file or a Pulumi project's folder, is refused before the run
with exit 2, naming the path and the fix (homelab/plan/output.py).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from homelab.config.reader import is_stack_name, stack_files
from homelab.errors import HomelabError
from homelab.plan import helm, helm_storage, mockrun, namespaces, output, render, render_check, schema_check
from homelab.plan.charts import ChartError
from homelab.plan.imports_check import import_refusal
from homelab.plan.mockrun import Plan, Registration

_FIRST = ("apiVersion", "kind", "metadata")


def _ordered(data: Any) -> Any:
    """Sorted keys (protobuf scrambles them), Kubernetes' apiVersion/kind/metadata first."""
    if isinstance(data, dict):
        keys = [k for k in _FIRST if k in data] + sorted(k for k in data if k not in _FIRST)
        return {k: _ordered(data[k]) for k in keys}
    if isinstance(data, list):
        return [_ordered(v) for v in data]
    return data


#: libyaml's dumper when PyYAML has it: the rendered CRDs are megabytes of YAML.
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """Multi-line strings (a Corefile, Envoy Gateway's config) as readable `|` blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not any(c in value for c in "\t\r") and value == value.rstrip(" "):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def _dump(data: Any) -> str:
    # PyYAML's representer is Python even under libyaml's emitter: a process that plans many
    # times (tests, benchmarks) writes the same chart objects again, so each text is made once
    key = repr(data)  # tells 1 from "1" and 1.0, True from 1, a list from a tuple
    text = _DUMPED.get(key)
    if text is None:
        text = _DUMPED[key] = _dump_now(data)
    return text


_DUMPED: dict[str, str] = {}


def _dump_now(data: Any) -> str:
    return yaml.dump(
        _ordered(data), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True
    )


def tree(plan: Plan) -> list[str]:
    lines: list[str] = []

    def walk(res: Registration, depth: int) -> None:
        kids = _sorted(plan.children(res))
        count = sum(1 for _ in plan.descendants(res))
        extra = f"  ({count} resources)" if not res.custom and count else ""
        extra += f"  (import {res.import_id})" if res.import_id else ""
        lines.append(f"{'  ' * depth}{res.type}  {res.name}{extra}")
        for kid in kids:
            walk(kid, depth + 1)

    for res in _sorted(r for r in plan.resources if plan.is_top(r)):
        walk(res, 1)
    imported = sum(1 for r in plan.resources if r.import_id)
    head = f"stack {plan.stack}: {len(plan.resources)} resources"
    if imported:
        head += f" ({imported} imported, the rest created)"
    return [head, *lines]


def _sorted(resources: Iterable[Registration]) -> list[Registration]:
    """Siblings by name, then type: registration order varies from run to run (resources made
    inside Output callbacks register when their inputs resolve), the printed plan must not."""
    return sorted(resources, key=lambda r: (r.name, r.type))


def object_identity(res: Registration) -> tuple[str, str, str, str] | None:
    """(API group, kind, namespace, name) of the object a Kubernetes resource writes (a Helm
    release counts as object `Release` of group `helm.sh`), None for anything else."""
    if res.type == "kubernetes:helm.sh/v3:Release":
        inputs = res.plain_inputs
        return ("helm.sh", "Release", str(inputs.get("namespace") or ""), str(inputs.get("name") or res.name))
    if not res.custom or not res.type.startswith("kubernetes:") or res.type.startswith("pulumi:providers:"):
        return None
    return render.object_key(res.k8s_object, res.name)


def duplicate_objects(plan: Plan) -> list[str]:
    """Two resources of one plan that would write the same Kubernetes object: the second
    `pulumi up` create fails halfway ("already exists"), or two owners fight over it."""
    writers: dict[tuple[str, str, str, str], list[Registration]] = {}
    for res in plan.resources:
        ident = object_identity(res)
        if ident is not None:
            writers.setdefault(ident, []).append(res)
    problems = []
    for (group, kind, namespace, name), found in writers.items():
        if len(found) > 1:
            where = f"{namespace}/{name}" if namespace else name
            who = " and ".join(f"{r.name} ({r.type})" for r in sorted(found, key=lambda r: (r.name, r.type)))
            problems.append(f"{kind} {where} ({group or 'core'}) is written by {len(found)} resources: {who}")
    return sorted(problems)


def rendered_clashes(plan: Plan, charts: Sequence[render.Rendered]) -> list[str]:
    """An object a chart renders that a resource of the program (or another chart) writes too:
    Helm and Pulumi would fight over it (an app's ``createNamespace: true`` for ``cilium-secrets``,
    the namespace Cilium's chart creates, is one)."""
    writers: dict[tuple[str, str, str, str], str] = {}
    for res in plan.resources:
        ident = object_identity(res)
        if ident is not None and ident[0] != "helm.sh":
            writers[ident] = f"{res.name} ({res.type})"
    problems = []
    for r in charts:
        for obj in r.objects:
            ident = render.object_key(obj)
            group, kind, namespace, name = ident
            where = f"{namespace}/{name}" if namespace else name
            mine = f"the {r.spec.release} chart ({r.spec.chart.file})"
            if ident in writers:
                problems.append(f"{kind} {where} ({group or 'core'}) is written by {writers[ident]} and {mine}")
            writers.setdefault(ident, mine)
    return sorted(problems)


def rendered_files(plan: Plan) -> dict[str, str]:
    """Relative path -> file content for everything the plan writes."""
    files: dict[str, str] = {}
    for res in plan.resources:
        if not (res.custom or res.remote) or res.type.startswith("pulumi:providers:"):
            continue
        folder = render.component_folder(plan, res)
        inputs = res.plain_inputs
        if res.type in (render.HELM_RELEASE, render.HELM_CHART):
            repo = (inputs.get("repositoryOpts") or {}).get("repo", "")
            stored = res.type == render.HELM_RELEASE
            what = "Helm release" if stored else "helm.v4.Chart (no Helm release; one resource per object)"
            body = (
                f"# {what}: {inputs.get('name')}\n"
                f"# namespace: {inputs.get('namespace')}\n"
                f"# chart: {inputs.get('chart')}\n"
                f"# version: {inputs.get('version')}\n"
                f"# repository: {repo}\n"
                "# values:\n"
            ) + _dump(inputs.get("values") or {})
            files[f"{folder}/helm-{render.slug(str(inputs.get('name') or res.name))}.values.yaml"] = body
        elif res.type.startswith("kubernetes:"):
            obj = res.k8s_object
            files[f"{folder}/{render.object_file(obj, res.name, res.type.rsplit(':', 1)[-1])}"] = _dump(obj)
        else:
            kind = res.type.rsplit(":", 1)[-1]
            files[f"{folder}/{render.slug(kind)}-{render.slug(res.name)}.yaml"] = _dump(
                {"type": res.type, "name": res.name, "protect": res.protect, "inputs": inputs}
            )
    files["outputs.yaml"] = _dump(mockrun.reveal(plan.outputs, shown=mockrun.SECRET_SHOWN))
    return files


def write(plan: Plan, out: Path, charts: Sequence[render.Rendered] = (), root: Path = mockrun.ROOT) -> list[Path]:
    """Everything under ``<out>/<stack>/``, an earlier rendering replaced (only a rendering:
    :func:`homelab.plan.output.fresh` raises ``OutError`` for anything else there)."""
    target = output.fresh(out, plan.stack, root)
    written = []
    files = {**rendered_files(plan), **render.rendered_files(charts, _dump)}
    for rel, content in sorted(files.items()):
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        written.append(path)
    return written


#: Left in ``rendered/<stack>/`` when the plan's objects fail schema validation.
INVALID_MARK = "SCHEMA-PROBLEMS.txt"


def _forget(out: Path, stack: str, root: Path) -> None:
    """A refused plan leaves no earlier rendering that could pass for this config's (and
    removes nothing that is not a rendering: homelab/plan/output.py)."""
    removed = output.forget(out, stack, root)
    if removed is not None:
        print(f"removed {removed}: it was rendered from an earlier config", file=sys.stderr)


def _refuse(message: str, out: Path, stack: str, root: Path) -> int:
    print(f"error: {message}", file=sys.stderr)
    _forget(out, stack, root)
    print("nothing written", file=sys.stderr)
    return 2


#: How the command line names this command.
PROG = "homelab plan"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", required=True, help="stack name (a Pulumi.<stack>.yaml beside Pulumi.yaml)")
    parser.add_argument("--root", type=Path, default=mockrun.ROOT, help="project directory (default: this one)")
    parser.add_argument("--out", type=Path, help="where to write (default: <root>/rendered/)")
    parser.add_argument("--stack-file", type=Path, help="read config from this file instead of Pulumi.<stack>.yaml")
    parser.add_argument("--no-validate", action="store_true", help="skip the schema validation")
    parser.add_argument("--no-render", action="store_true", help="skip rendering the charts with helm")
    parser.add_argument("--charts", type=Path, help="folder of chart packages (default: see homelab/plan/charts.py)")
    parser.add_argument("--debug", action="store_true", help="show a traceback when the plan itself fails")
    args = parser.parse_args(argv)
    try:
        return _plan(args)
    except Exception as exc:  # a bug, not bad input: say so in one line unless asked for more
        if args.debug:
            raise
        if is_stack_name(args.stack):
            _forget(args.out or output.owned(args.root), args.stack, args.root)
        print(
            f"error: the plan failed: {type(exc).__name__}: {exc} (re-run with --debug for a traceback)",
            file=sys.stderr,
        )
        return 2


def _plan(args: argparse.Namespace) -> int:
    root: Path = args.root
    out: Path = args.out or output.owned(root)
    stack: str = args.stack
    if not is_stack_name(stack):
        print(f"error: --stack {stack!r} is not a stack name (letters, digits, '-', '_', '.')", file=sys.stderr)
        return 2
    if not (root / "Pulumi.yaml").is_file():
        print(f"error: {root}: no Pulumi.yaml, not the project directory", file=sys.stderr)
        return 2
    stack_file = args.stack_file or mockrun.stack_file(stack, root)
    if not stack_file.is_file():
        known = ", ".join(stack_files(root)) or "none"
        return _refuse(f"no stack file {stack_file} (stacks of this project: {known})", out, stack, root)
    try:
        output.check(out, stack, root)
    except output.OutError as exc:
        print(f"error: {exc}\nnothing written", file=sys.stderr)
        return 2
    try:
        config = mockrun.read_stack_config(stack, stack_file, root)
        plan = mockrun.run(stack, config, root=root, source=stack_file.name if args.stack_file else None)
    except HomelabError as exc:  # the config, the gate, a stack file, the import plan
        return _refuse(str(exc), out, stack, root)
    duplicates = duplicate_objects(plan)
    if duplicates:
        lines = "\n  - ".join(duplicates)
        return _refuse(f"two resources of the plan write the same Kubernetes object:\n  - {lines}", out, stack, root)
    wrong = import_refusal(plan, root)
    if wrong:
        return _refuse(wrong, out, stack, root)

    print("\n".join(tree(plan)))
    counts = Counter((top.type, top.name) for r in plan.resources if (top := plan.component_of(r)) is not None)
    print("\nper component:")
    width = max((len(name) for _, name in counts), default=0)
    for (type_, name), n in sorted(counts.items(), key=lambda kv: kv[0][1]):
        print(f"  {name:<{width}}  {type_:<42} {n:>4}")
    for line in plan.log:
        print(line)

    charts: list[render.Rendered] = []
    secrets: list[helm_storage.Verdict] = []
    if not args.no_render:
        try:
            charts = render.render(plan, helm.find(), str(plan.outputs["kubernetesVersion"]), args.charts)
        except (helm.HelmError, ChartError, render.RenderError) as exc:
            return _refuse(f"{exc}\n(--no-render plans without rendering the charts)", out, stack, root)
        clashes = rendered_clashes(plan, charts)
        if clashes:
            lines = "\n  - ".join(clashes)
            return _refuse(f"a chart renders an object the plan writes too:\n  - {lines}", out, stack, root)
        try:
            secrets = helm_storage.check(charts)
        except helm_storage.StorageError as exc:
            return _refuse(f"{exc}\n(--no-render plans without rendering the charts)", out, stack, root)
        too_large = [v.line for v in secrets if v.refused]
        if too_large:
            lines = "\n  - ".join(too_large)
            return _refuse(f"a Helm release cannot be stored:\n  - {lines}", out, stack, root)
    unmade = namespaces.problems(plan, charts, namespaces.declared(config))
    if unmade:
        lines = "\n  - ".join(unmade)
        return _refuse(f"objects in namespaces nobody creates:\n  - {lines}", out, stack, root)

    try:
        written = write(plan, out, charts, root)
    except output.OutError as exc:  # checked before the run; something appeared there since
        print(f"error: {exc}\nnothing written", file=sys.stderr)
        return 2
    if charts:
        print("\nrendered with helm (objects per release):")
        for release, package, n in render.counts(charts):
            print(f"  {release:<24} {package:<32} {n:>4}")
        for chart in (c for c in charts if not c.spec.stored):
            print(f"\napplied by helm.v4.Chart {chart.spec.release}, each object its own resource (no Helm release):")
            for obj in chart.objects:
                print(f"  {render.resource_type(obj)}  {chart.spec.resource_name(obj)}")
    if secrets:
        print(f"\nHelm release Secrets (estimated; the API server refuses over {helm_storage.LIMIT:,} bytes):")
        for verdict in secrets:
            print(f"  {verdict.release:<24} {verdict.size:>10,} bytes  {verdict.size / helm_storage.LIMIT:>6.1%}")
        for verdict in (v for v in secrets if v.warned):
            print(f"warning: {verdict.line}", file=sys.stderr)
    print(f"\nwrote {len(written)} files under {out / plan.stack}")

    if args.no_validate:
        return 0
    for note in schema_check.version_notes(plan):
        print(note)
    problems = schema_check.plan_problems(plan)
    if charts:
        problems += render_check.problems(charts, plan, str(plan.outputs["kubernetesVersion"]))
    if problems:
        (out / plan.stack / INVALID_MARK).write_text(
            "These objects fail the upstream schemas; do not apply them.\n" + "".join(f"{p}\n" for p in problems)
        )
        print(f"\nschema validation: {len(problems)} problem(s)", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        print(f"marked {out / plan.stack} as invalid ({INVALID_MARK})", file=sys.stderr)
        return 1
    print("schema validation: every object and Helm release matches the upstream schemas")
    if charts:
        print(
            f"rendered objects: every one matches Kubernetes {plan.outputs['kubernetesVersion']} "
            "or its chart's CRD, and so does every custom resource of the program"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
