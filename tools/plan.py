"""Offline plan: run the real program for one stack under the SDK's mock monitor.

    python -m tools.plan --stack main        (or: make plan STACK=main)

Prints every resource as a tree (type, name, under its parent) with a count per component,
and writes what would be applied under ``rendered/<stack>/``: each Kubernetes object as YAML,
each Helm release with its full values, each Cloudflare resource with its inputs, and the stack
outputs. Secrets show as ``[secret]``; secrets a fresh clone lacks are placeholders marked
``PLACEHOLDER-SECRET-``. Needs no Pulumi CLI, cluster or cloud account.

On invalid config, or when main's staging gate stops it (main asks for a version staging's stack
file does not run), it prints the program's own error, writes nothing and exits 2. When schema
validation finds problems it prints each one and exits 1 (``--no-validate`` skips it).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from tools import mockrun
from tools.mockrun import Plan, Registration

RENDERED = mockrun.ROOT / "rendered"


_FIRST = ("apiVersion", "kind", "metadata")


def _ordered(data: Any) -> Any:
    """Sorted keys (protobuf scrambles them), Kubernetes' apiVersion/kind/metadata first."""
    if isinstance(data, dict):
        keys = [k for k in _FIRST if k in data] + sorted(k for k in data if k not in _FIRST)
        return {k: _ordered(data[k]) for k in keys}
    if isinstance(data, list):
        return [_ordered(v) for v in data]
    return data


def _dump(data: Any) -> str:
    return yaml.safe_dump(_ordered(data), sort_keys=False, default_flow_style=False, width=120)


def _component_of(plan: Plan, res: Registration) -> Registration | None:
    """The top-level component a resource belongs to (None for a top-level resource)."""
    node = res
    while not plan.is_top(node):
        node = plan.by_urn(node.parent)
    return None if node is res else node


def tree(plan: Plan) -> list[str]:
    lines: list[str] = []

    def walk(res: Registration, depth: int) -> None:
        kids = plan.children(res)
        count = sum(1 for _ in plan.descendants(res))
        extra = f"  ({count} resources)" if not res.custom and count else ""
        lines.append(f"{'  ' * depth}{res.type}  {res.name}{extra}")
        for kid in kids:
            walk(kid, depth + 1)

    for res in plan.resources:
        if plan.is_top(res):
            walk(res, 1)
    return [f"stack {plan.stack}: {len(plan.resources)} resources", *lines]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def rendered_files(plan: Plan) -> dict[str, str]:
    """Relative path -> file content for everything the plan writes."""
    files: dict[str, str] = {}
    for res in plan.resources:
        if not res.custom or res.type.startswith("pulumi:providers:"):
            continue
        top = _component_of(plan, res)
        folder = _slug(top.name) if top is not None else "stack"
        inputs = res.plain_inputs
        if res.type == "kubernetes:helm.sh/v3:Release":
            repo = (inputs.get("repositoryOpts") or {}).get("repo", "")
            body = (
                f"# Helm release: {inputs.get('name')}\n"
                f"# namespace: {inputs.get('namespace')}\n"
                f"# chart: {inputs.get('chart')}\n"
                f"# version: {inputs.get('version')}\n"
                f"# repository: {repo}\n"
                "# values:\n"
            ) + _dump(inputs.get("values") or {})
            files[f"{folder}/helm-{_slug(str(inputs.get('name') or res.name))}.values.yaml"] = body
        elif res.type.startswith("kubernetes:"):
            obj = res.k8s_object
            meta = obj.get("metadata") or {}
            ns = meta.get("namespace")
            kind = obj.get("kind", res.type.rsplit(":", 1)[-1])
            name = f"{kind}-{(ns + '-') if ns else ''}{meta.get('name', res.name)}"
            files[f"{folder}/{_slug(name)}.yaml"] = _dump(obj)
        else:
            kind = res.type.rsplit(":", 1)[-1]
            files[f"{folder}/{_slug(kind)}-{_slug(res.name)}.yaml"] = _dump(
                {"type": res.type, "name": res.name, "protect": res.protect, "inputs": inputs}
            )
    files["outputs.yaml"] = _dump(mockrun.reveal(plan.outputs, shown=mockrun.SECRET_SHOWN))
    return files


def write(plan: Plan, out: Path) -> list[Path]:
    target = out / plan.stack
    if target.exists():
        shutil.rmtree(target)
    written = []
    for rel, content in sorted(rendered_files(plan).items()):
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", required=True, help="stack name: main or staging")
    parser.add_argument("--out", type=Path, default=RENDERED, help="where to write (default: rendered/)")
    parser.add_argument("--stack-file", type=Path, help="read config from this file instead of Pulumi.<stack>.yaml")
    parser.add_argument("--no-validate", action="store_true", help="skip the upstream-schema validation")
    args = parser.parse_args(argv)

    stack_file = args.stack_file or mockrun.stack_file(args.stack)
    if not stack_file.exists():
        print(f"error: no stack file {stack_file}", file=sys.stderr)
        return 2
    from components.config import ConfigError
    from components.promotion import PromotionGateError

    try:
        plan = mockrun.run(args.stack, mockrun.read_stack_config(args.stack, stack_file))
    except (ConfigError, PromotionGateError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("nothing written", file=sys.stderr)
        return 2

    print("\n".join(tree(plan)))
    counts = Counter((top.type, top.name) for r in plan.resources if (top := _component_of(plan, r)) is not None)
    print("\nper component:")
    width = max((len(name) for _, name in counts), default=0)
    for (type_, name), n in sorted(counts.items(), key=lambda kv: kv[0][1]):
        print(f"  {name:<{width}}  {type_:<42} {n:>4}")
    for line in plan.log:
        print(line)

    written = write(plan, args.out)
    print(f"\nwrote {len(written)} files under {args.out / plan.stack}")

    if args.no_validate:
        return 0
    from tools import schema_check

    for note in schema_check.version_notes(plan):
        print(note)
    problems = schema_check.plan_problems(plan)
    if problems:
        print(f"\nschema validation: {len(problems)} problem(s)", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print("schema validation: every object and Helm release matches the upstream schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
