"""Where the plan writes, ``<out>/<stack>/``, and what it may remove there.

The plan replaces ``<out>/<stack>/`` on every run and removes it when it refuses a config (an
earlier rendering must not pass for the refused config's). It removes only what it wrote:

* a folder holding :data:`MARKER`, the file the plan writes first into every rendering;
* any folder under the project's own ``rendered/`` (git-ignored, ``make clean`` removes it: the
  plan's folder, whose renderings from before the marker have none).

Anything else at ``<out>/<stack>`` (a folder of the project when ``--out`` points at it, a
symbolic link, a file) is refused before the plan runs, naming the path and the fix, and left as
it is. So is an ``--out`` that is a file, or a Pulumi project's folder (it holds ``Pulumi.yaml``:
the renderings would land among its sources).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from homelab.errors import HomelabError

#: Written first into every rendering: a folder holding it is one the plan may replace.
MARKER = ".homelab-plan"


class OutError(HomelabError):
    """``--out`` (or ``<out>/<stack>`` in it) is not a place the plan may write to or clear."""


def owned(root: Path) -> Path:
    """The project's own output folder, the default ``--out``."""
    return root / "rendered"


def marker_text(stack: str) -> str:
    return (
        f"written by `homelab plan --stack {stack}`: the plan replaces this folder on every run\n"
        "(it removes a folder only when this file is in it, or when it is under the project's rendered/)\n"
    )


def is_rendering(target: Path, root: Path) -> bool:
    """``target`` is a folder the plan wrote (see the module's rules): it may remove it."""
    if target.is_symlink() or not target.is_dir():
        return False
    marker = target / MARKER
    if marker.is_file() and not marker.is_symlink():
        return True
    # the project's own rendered/, but not when it is a link: then it is somewhere else, maybe $HOME
    return not owned(root).is_symlink() and target.parent.resolve() == owned(root).resolve()


def check(out: Path, stack: str, root: Path) -> Path:
    """``<out>/<stack>`` when the plan may write there (absent, or a rendering it may replace);
    raises :class:`OutError` naming the path and the fix otherwise."""
    target = out / stack
    if out.exists() and not out.is_dir():
        raise OutError(f"--out {out}: a file, not a folder; name a folder for the renderings (made if missing)")
    if (out / "Pulumi.yaml").is_file():
        raise OutError(
            f"--out {out}: a Pulumi project's folder (it holds Pulumi.yaml); the plan writes {stack}/ into --out "
            f"and would mix its files with the project's: leave --out out (renderings go to {owned(root)}) "
            "or name a folder of their own"
        )
    if target.is_symlink():
        raise OutError(
            f"--out {out}: {target} is a symbolic link; the plan writes a folder of its own there and "
            "never replaces a link: remove the link or name another --out"
        )
    if target.exists() and not target.is_dir():
        raise OutError(
            f"--out {out}: {target} is a file, not a rendering of the plan; move it away or name another --out"
        )
    if target.exists() and not is_rendering(target, root):
        raise OutError(
            f"--out {out}: {target} is not a rendering of the plan (no {MARKER} in it), and the plan replaces "
            f"<out>/<stack>/ on every run: name another --out, or move {target} away yourself"
        )
    return target


def fresh(out: Path, stack: str, root: Path) -> Path:
    """``<out>/<stack>/``, emptied for a new rendering: an earlier one removed, the folder made,
    :data:`MARKER` written first. Raises :class:`OutError` (:func:`check`) and removes nothing then."""
    target = check(out, stack, root)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / MARKER).write_text(marker_text(stack))
    return target


def forget(out: Path, stack: str, root: Path) -> Path | None:
    """Remove ``<out>/<stack>`` when it is a rendering of the plan (a refused plan leaves no
    earlier rendering behind); anything else stays. Returns what was removed."""
    target = out / stack
    if not is_rendering(target, root):
        return None
    shutil.rmtree(target)
    return target
