"""A target stack file that is not what it seems (homelab/promote/edit.py ``write_in_place``): a
symbolic link stays one and the file it points to is rewritten, in its own folder; a file with
other hard links is refused. Every test works on copies in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homelab.promote import edit as promote_edit
from tests.support import promote_files
from tests.support.promote_files import RELEASE, config, edit, run

stacks = promote_files.stacks

HEADER = (
    "homelab:release: what main (Pulumi.main.yaml) changes to run staging's release (Pulumi.staging.yaml):\n"
    "  homelab:release.charts.coredns: 1.46.2 -> 1.47.0\n"
)


@pytest.fixture
def linked(stacks: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pulumi.main.yaml as a relative symbolic link to config/main.yaml (as a dotfiles manager
    leaves it); staging bumps coredns. Returns the file the link points to."""
    monkeypatch.chdir(stacks)
    real = stacks / "config" / "main.yaml"
    real.parent.mkdir()
    (stacks / "Pulumi.main.yaml").rename(real)
    (stacks / "Pulumi.main.yaml").symlink_to(Path("config") / "main.yaml")
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    return real


def test_apply_writes_the_file_a_link_points_to_and_keeps_the_link(
    linked: Path, stacks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = stacks / "Pulumi.main.yaml"
    linked.chmod(0o640)
    assert run(stacks, capsys) == (
        0,
        HEADER + "dry run: nothing written; re-run with --apply to write Pulumi.main.yaml (a symbolic link to "
        "config/main.yaml); --apply writes the file it points to and keeps the link\n",
        "",
    )
    assert run(stacks, capsys, "--apply") == (
        0,
        HEADER + "wrote config/main.yaml through the symbolic link Pulumi.main.yaml (the link is kept); review it "
        "with `git diff`, then `pulumi preview --stack main`\n",
        "",
    )
    assert link.is_symlink() and os.readlink(link) == "config/main.yaml"
    assert config(linked)[RELEASE]["charts"]["coredns"] == "1.47.0"
    assert linked.stat().st_mode & 0o777 == 0o640
    # no temporary file left, in either folder
    assert sorted(p.name for p in stacks.iterdir()) == ["Pulumi.main.yaml", "Pulumi.staging.yaml", "config"]
    assert [p.name for p in linked.parent.iterdir()] == ["main.yaml"]


def test_the_new_bytes_are_renamed_over_the_linked_file_from_its_own_folder(
    linked: Path, stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename is atomic only within one file system: the temporary file is made beside the
    file the link points to, not beside the link. A failure names both and leaves both."""
    renamed: list[tuple[str, str]] = []

    def fail(src: str, dst: str) -> None:
        renamed.append((str(src), str(dst)))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(promote_edit.os, "replace", fail)
    before = linked.read_bytes()
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (
        2,
        "error: Pulumi.main.yaml (a symbolic link to config/main.yaml): cannot write it: No space left on device\n"
        "nothing promoted\n",
    )
    [(src, dst)] = renamed
    assert (Path(src).parent, Path(dst)) == (linked.parent.resolve(), linked.resolve())
    assert linked.read_bytes() == before and (stacks / "Pulumi.main.yaml").is_symlink()
    assert [p.name for p in linked.parent.iterdir()] == ["main.yaml"]


def test_a_target_with_other_hard_links_is_refused(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(stacks)
    main = stacks / "Pulumi.main.yaml"
    other = stacks / "backup.yaml"
    os.link(main, other)
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = main.read_bytes()
    code, out, err = run(stacks, capsys, "--apply")
    assert (code, out) == (2, HEADER)
    assert err == (
        "error: Pulumi.main.yaml: the file has 2 hard links (other names of the same file); replacing it would "
        "leave the others with the old settings: make it one file (a symbolic link may point to it) and re-run\n"
        "nothing promoted\n"
    )
    assert main.read_bytes() == other.read_bytes() == before
    assert main.stat().st_ino == other.stat().st_ino


def test_write_in_place_returns_what_it_wrote(tmp_path: Path) -> None:
    real = tmp_path / "a" / "b.yaml"
    real.parent.mkdir()
    real.write_bytes(b"old\n")
    chain = tmp_path / "first"
    (tmp_path / "second").symlink_to(real)
    chain.symlink_to(tmp_path / "second")  # a link to a link: the last file is written
    written = promote_edit.write_in_place(chain, b"new\n", "first")
    assert written == real.resolve()
    assert real.read_bytes() == b"new\n"
    assert chain.is_symlink() and (tmp_path / "second").is_symlink()
