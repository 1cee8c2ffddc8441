"""Where the plan writes (homelab/plan/output.py): it replaces ``<out>/<stack>/`` on every run and
removes it when it refuses a config, so it must touch nothing there that it did not write."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.plan import output
from tests.conftest import Project


def keepsake(folder: Path) -> Path:
    """A file of the user's in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / "notes.txt"
    kept.write_text("mine\n")
    return kept


def test_out_at_the_project_with_a_stack_named_like_its_folder_deletes_nothing(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: no such stack, so the plan refuses, and its clean-up of
    ``<out>/<stack>`` must leave the project's folder of that name alone."""
    kept = keepsake(project.root / "homelab")
    outcome = project.plan("homelab", "--out", str(project.root), capsys=capsys)
    assert (outcome.code, outcome.out) == (2, "")
    assert outcome.err == (
        f"error: no stack file {project.root}/Pulumi.homelab.yaml (stacks of this project: main, staging)\n"
        "nothing written\n"
    )
    assert kept.read_text() == "mine\n"


def test_out_that_is_a_pulumi_project_is_refused(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    kept = keepsake(project.root / "main")
    outcome = project.plan("main", "--out", str(project.root), capsys=capsys)
    assert (outcome.code, outcome.out, outcome.registered) == (2, "", [])
    assert outcome.err == (
        f"error: --out {project.root}: a Pulumi project's folder (it holds Pulumi.yaml); the plan writes main/ "
        f"into --out and would mix its files with the project's: leave --out out (renderings go to "
        f"{project.rendered}) or name a folder of their own\n"
        "nothing written\n"
    )
    assert kept.read_text() == "mine\n"


def test_a_folder_that_is_not_a_rendering_is_refused_before_the_run(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    kept = keepsake(out / "main")
    outcome = project.plan("main", "--out", str(out), capsys=capsys)
    assert (outcome.code, outcome.out, outcome.registered) == (2, "", [])
    assert outcome.err == (
        f"error: --out {out}: {out}/main is not a rendering of the plan (no .homelab-plan in it), and the plan "
        f"replaces <out>/<stack>/ on every run: name another --out, or move {out}/main away yourself\n"
        "nothing written\n"
    )
    assert sorted(p.name for p in (out / "main").iterdir()) == ["notes.txt"]
    assert kept.read_text() == "mine\n"


@pytest.mark.parametrize("shape", ["link", "file", "out-is-a-file"])
def test_links_and_files_where_the_rendering_goes_are_refused(
    shape: str, project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    kept = keepsake(elsewhere)
    out.mkdir()
    if shape == "link":  # even a link to a rendering: the plan replaces folders it made, never links
        (elsewhere / output.MARKER).write_text(output.marker_text("main"))
        (out / "main").symlink_to(elsewhere)
        expected = (
            f"--out {out}: {out}/main is a symbolic link; the plan writes a folder of its own there and never "
            "replaces a link: remove the link or name another --out"
        )
    elif shape == "file":
        (out / "main").write_text("mine\n")
        expected = f"--out {out}: {out}/main is a file, not a rendering of the plan; move it away or name another --out"
    else:
        out.rmdir()
        out.write_text("mine\n")
        expected = f"--out {out}: a file, not a folder; name a folder for the renderings (made if missing)"
    outcome = project.plan("main", "--out", str(out), capsys=capsys)
    assert (outcome.code, outcome.registered) == (2, [])
    assert outcome.err == f"error: {expected}\nnothing written\n"
    assert kept.read_text() == "mine\n"
    left = {"link": (out / "main").is_symlink(), "file": (out / "main").is_file(), "out-is-a-file": out.is_file()}
    assert left[shape], "what was there is gone"


def test_a_rendering_is_marked_replaced_and_removed_by_a_refusal(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    earlier = out / "staging"
    earlier.mkdir(parents=True)
    (earlier / ".homelab-plan").write_text("an earlier plan's\n")
    (earlier / "stale.yaml").write_text("kind: Left-from-an-earlier-plan\n")
    planned = project.plan("staging", "--out", str(out), capsys=capsys)
    assert planned.code == 0, planned.err
    assert not (earlier / "stale.yaml").exists()
    assert (earlier / ".homelab-plan").read_text() == (
        "written by `homelab plan --stack staging`: the plan replaces this folder on every run\n"
        "(it removes a folder only when this file is in it, or when it is under the project's rendered/)\n"
    )

    project.change("staging", lambda cfg: cfg["homelab:cluster"].update(clusterId=0))
    refused = project.plan("staging", "--out", str(out), capsys=capsys)
    assert refused.code == 2
    assert refused.err.endswith(f"removed {earlier}: it was rendered from an earlier config\nnothing written\n"), (
        refused.err
    )
    assert not earlier.exists()


def test_what_counts_as_a_rendering(tmp_path: Path) -> None:
    """A marked folder anywhere, or any folder under the project's own rendered/ (git-ignored;
    renderings from before the marker have none); never a link, a file or another folder."""
    root = tmp_path / "project"
    legacy = root / "rendered" / "main"
    legacy.mkdir(parents=True)
    marked = tmp_path / "out" / "main"
    marked.mkdir(parents=True)
    (marked / output.MARKER).write_text(output.marker_text("main"))
    mine = tmp_path / "mine" / "main"
    keepsake(mine)
    (tmp_path / "link").mkdir()
    (tmp_path / "link" / "main").symlink_to(marked)
    assert [output.is_rendering(p, root) for p in (legacy, marked, mine, tmp_path / "link" / "main")] == [
        True,
        True,
        False,
        False,
    ]
    assert output.forget(tmp_path / "mine", "main", root) is None  # the catch-all's clean-up, too
    assert (mine / "notes.txt").read_text() == "mine\n"
    assert output.forget(tmp_path / "link", "main", root) is None
    assert (marked / output.MARKER).is_file()
    assert output.forget(root / "rendered", "main", root) == legacy
    assert not legacy.exists()


def test_a_rendered_folder_that_is_a_link_holds_no_renderings_but_marked_ones(tmp_path: Path) -> None:
    """Found by review: rendered/ linked to $HOME made every <stack> folder there removable."""
    home = tmp_path / "home"
    mine = home / "main"
    keepsake(mine)
    root = tmp_path / "project"
    root.mkdir()
    (root / "rendered").symlink_to(home)
    assert output.is_rendering(root / "rendered" / "main", root) is False
    assert output.forget(root / "rendered", "main", root) is None
    assert (mine / "notes.txt").read_text() == "mine\n"
