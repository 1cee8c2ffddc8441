"""Promote the release settings staging runs to main.

    homelab promote --from staging --to main            (make promote FROM=staging TO=main)
    homelab promote --from staging --to main --apply    (make promote APPLY=1)

``homelab:release`` holds the chart versions, image tags and feature values meant to be identical
on both clusters. Change them in ``Pulumi.staging.yaml`` first, run staging, then promote the same
release to main with this command.

Without ``--apply`` it only prints what main would change, one line per setting::

    homelab:release.charts.cilium: 1.20.0 -> 1.20.1
    homelab:release.images.cloudflared: 2026.8.2 -> 2026.9.0
    homelab:release.envoy.replicas: 2 -> 3

``(not set)`` on the left is a setting only staging has (added to main), on the right one only
main has (removed from main). When nothing differs it says main already runs staging's release.

With ``--apply`` it writes staging's ``homelab:release`` into ``Pulumi.main.yaml``: only the
settings that differ change, so comments, key order and formatting stay. Every byte outside
``homelab:release`` is kept: main's ``homelab:cluster``, ``homelab:apps``, ``homelab:promotion``,
its secrets and ``encryptionsalt``, its comments, YAML anchors and aliases, and the layout of the
file: a UTF-8 byte order mark, CRLF line endings (the rewritten release lines get them too), a
missing final newline. Review the result with ``git diff``, then ``pulumi preview --stack main``.
The file is replaced atomically (a temporary file in its folder, renamed over it). A target
that is a symbolic link stays one: the file it points to is the one rewritten, in that file's
folder, and both the dry run and ``--apply`` say so (``wrote config/main.yaml through the
symbolic link Pulumi.main.yaml (the link is kept)``).

It refuses, exit code 2 and nothing written, when:

* a file cannot be read as a stack file: missing, a directory, not UTF-8, mixed line endings,
  not YAML (syntax error, tab indentation, duplicate keys), a top level or ``config:`` that is
  not a mapping, a ``homelab:release`` that is not a mapping. The message is
  ``error: <file>:<line>: <what is wrong>``, never a traceback;
* either file has a ``homelab:`` key the program does not know (``homelab:releasx``): a
  misspelled release would otherwise stay beside a new one; the closest known key is suggested;
* the source stack's config is invalid (the program's own validation, every key named);
* either file's ``homelab:release`` has a key the program does not know (a typo, or a
  snake_case name such as ``drain_timeout``: only the camelCase keys count);
* the target file cannot be rewritten without changing its formatting outside the release
  settings, or its ``homelab:release`` has YAML anchors, aliases or merge keys to change (a change
  would reach every place sharing the value). Anchors in the source's release are just values;
* (``--apply``) the target file has other hard links: the atomic rename would leave them with
  the old settings, so make it one file (a symbolic link may point to it).

Exit code 0 otherwise. Problems main already had before the promotion are shown as warnings.
``--root DIR`` reads ``Pulumi.<stack>.yaml`` from another directory; ``--from-file`` and
``--to-file`` name the two stack files directly.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from homelab.config.reader import StackFile, StackFileError, read
from homelab.config.yaml_text import BREAK_NAMES, at, plain
from homelab.paths import ROOT
from homelab.promote.edit import Change, PromoteError, diff, promoted_bytes, write_in_place, written_file
from homelab.promote.fitness import ABSENT, RELEASE, config_problems, file_problems, release_problems

# ---------------------------------------------------------------------------------------------
# describing a diff (the diff itself: homelab/promote/edit.py)


def _format(value: Any) -> str:
    if value is ABSENT:
        return "(not set)"
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            if value and value == value.strip():
                return value
        return json.dumps(value)  # "", " x", "1.20", "true": show that it is a string
    return json.dumps(value, default=str)


def _leaves(path: tuple[str, ...], old: Any, new: Any) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """An added or removed mapping as one line per leaf."""
    side = new if old is ABSENT else old if new is ABSENT else None
    if isinstance(side, Mapping) and side:
        for key, value in side.items():
            if old is ABSENT:
                yield from _leaves((*path, key), ABSENT, value)
            else:
                yield from _leaves((*path, key), value, ABSENT)
    else:
        yield path, old, new


def describe(changes: Iterable[Change], prefix: str = RELEASE) -> list[str]:
    """One line per changed leaf: ``homelab:release.charts.cilium: 1.20.0 -> 1.20.1``."""
    return [
        f"{'.'.join((prefix, *path))}: {_format(old)} -> {_format(new)}"
        for change in changes
        for path, old, new in _leaves(change.path, change.old, change.new)
    ]


# ---------------------------------------------------------------------------------------------
# command


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when under it; a symbolic link by its own name."""
    try:
        return str((path.parent.resolve() / path.name).relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_editable(path: Path, name: str) -> StackFile:
    """A stack file read as the plan reads it (:func:`homelab.config.reader.read`), and fit to
    be rewritten: one style of line end, and a ``config:`` mapping with settings in it."""
    stack = read(path, name)
    if stack.layout.mixed:
        line, found = stack.layout.mixed
        raise at(
            name,
            line,
            f"mixed line endings: line 1 ends with {BREAK_NAMES[stack.layout.newline]}, line {line} with "
            f"{BREAK_NAMES[found]}; convert the file to one style (all LF or all CRLF) first",
        )
    if stack.doc is None:
        raise at(name, 1, "no settings (empty, or only comments); a stack file is a mapping with `config:`")
    if "config" not in stack.doc:
        line = stack.doc.lc.line + 1
        raise at(name, line, "no `config:` key at the top level; a stack file keeps its settings there")
    if stack.doc["config"] is None:
        raise at(name, line_of_key(stack), "`config:` is empty; it must be a mapping of config keys")
    return stack


def line_of_key(stack: StackFile) -> int:
    return int(stack.doc.lc.key("config")[0]) + 1


def promote(source: Path, target: Path, from_stack: str, to_stack: str, apply: bool) -> int:
    src_name, dst_name = _shown(source), _shown(target)
    if source.resolve() == target.resolve():
        raise PromoteError(f"{src_name}: source and target are the same file")
    src, dst = read_editable(source, src_name), read_editable(target, dst_name)
    problems = [*file_problems(src), *file_problems(dst)]
    if problems:
        raise PromoteError(*problems)
    src_plain, dst_plain = plain(src.config), plain(dst.config)

    problems = [f"{src_name}: {p}" for p in release_problems(src_plain)]
    problems += [f"{dst_name}: {p}" for p in release_problems(dst_plain)]
    if problems:
        raise PromoteError(*problems)
    invalid = config_problems(src_plain)
    if invalid:
        lines = "\n  - ".join(invalid)
        raise PromoteError(f"{src_name}: the {from_stack} stack config is invalid, fix it first:\n  - {lines}")

    release: dict[str, Any] = src_plain[RELEASE]
    changes = diff(dst_plain.get(RELEASE, {}), release)

    # the source's release is valid, and no check looks at a release beside other settings:
    # what is wrong with the target's config once it runs that release is the target's own
    problems = config_problems({**dst_plain, RELEASE: release})
    if problems:
        lines = "\n  - ".join(problems)
        print(f"warning: {dst_name}: the {to_stack} config has problems promotion does not fix:\n  - {lines}")

    if not changes:
        print(f"{to_stack} already runs {from_stack}'s release ({RELEASE} of {dst_name} equals {src_name})")
        return 0
    print(f"{RELEASE}: what {to_stack} ({dst_name}) changes to run {from_stack}'s release ({src_name}):")
    for line in describe(changes):
        print(f"  {line}")
    linked = f" (a symbolic link to {_shown(written_file(target))})" if target.is_symlink() else ""
    if not apply:
        kept = "; --apply writes the file it points to and keeps the link" if linked else ""
        print(f"dry run: nothing written; re-run with --apply to write {dst_name}{linked}{kept}")
        return 0
    data = promoted_bytes(dst, release)
    try:
        real = write_in_place(target, data, dst_name)
    except OSError as exc:
        raise PromoteError(f"{dst_name}{linked}: cannot write it: {exc.strerror or exc}") from None
    done = f"{_shown(real)} through the symbolic link {dst_name} (the link is kept)" if linked else dst_name
    print(f"wrote {done}; review it with `git diff`, then `pulumi preview --stack {to_stack}`")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="homelab promote", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--from", dest="from_stack", required=True, help="stack that runs the release first: staging")
    parser.add_argument("--to", dest="to_stack", required=True, help="stack to promote it to: main")
    parser.add_argument("--apply", action="store_true", help="write the target stack file (default: only show)")
    parser.add_argument("--root", type=Path, default=ROOT, help="directory of the Pulumi.<stack>.yaml files")
    parser.add_argument("--from-file", type=Path, help="source stack file (default: <root>/Pulumi.<from>.yaml)")
    parser.add_argument("--to-file", type=Path, help="target stack file (default: <root>/Pulumi.<to>.yaml)")
    args = parser.parse_args(argv)

    root: Path = args.root
    source: Path = args.from_file or root / f"Pulumi.{args.from_stack}.yaml"
    target: Path = args.to_file or root / f"Pulumi.{args.to_stack}.yaml"
    try:
        return promote(source, target, args.from_stack, args.to_stack, args.apply)
    except StackFileError as exc:
        problems: Sequence[str] = (str(exc),)
    except PromoteError as exc:
        problems = exc.problems
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    print("nothing promoted", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
