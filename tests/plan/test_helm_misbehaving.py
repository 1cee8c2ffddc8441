"""A helm that misbehaves (homelab/plan/helm.py, homelab/plan/render.py): one that hangs is
stopped after ``$HOMELAB_HELM_TIMEOUT`` seconds, one that prints nothing, no object or bytes that
are not UTF-8 is refused; each with a message naming the release, its chart and the binary, and
the plan writes nothing. The helms are stand-in scripts; the hanging ones get a short deadline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from homelab.plan import charts, helm, render
from homelab.plan import command as plan_cmd
from tests.conftest import Project

CHART = charts.Chart("coredns", "1.46.2", "https://coredns.github.io/helm")
SPEC = render.ReleaseSpec("coredns", "coredns", "kube-system", CHART, {}, include_crds=False)
WHAT = "helm template coredns (coredns-1.46.2.tgz)"

#: `helm version` answered as helm v4.1.4 does; `helm template` by ``template``.
SCRIPT = '#!/bin/sh\nif [ "$1" = version ]; then echo v4.1.4; exit 0; fi\n{template}\n'


def stand_in(tmp_path: Path, template: str, name: str = "helm") -> Path:
    binary = tmp_path / name
    binary.write_text(SCRIPT.format(template=template))
    binary.chmod(0o755)
    return binary


def render_with(binary: Path, tmp_path: Path) -> render.Rendered:
    return render.render_one(SPEC, binary, tmp_path / CHART.file, "1.35")


def alive(pid: int) -> bool:
    """A process that still runs (a zombie nobody reaped has stopped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_hanging_helm_is_stopped_with_everything_it_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pid_file = tmp_path / "sleeper.pid"
    binary = stand_in(tmp_path, f'sleep 30 &\necho $! > "{pid_file}"\nwait')
    monkeypatch.setenv("HOMELAB_HELM_TIMEOUT", "0.2")
    start = time.monotonic()
    with pytest.raises(helm.HelmError) as err:
        render_with(binary, tmp_path)
    assert time.monotonic() - start < 5
    assert str(err.value) == (
        f"{WHAT}: {binary} did not finish within 0.2 s and was stopped (the largest chart here renders in "
        "about 2 s); check that binary (HELM= names another), or on a slower machine raise "
        "HOMELAB_HELM_TIMEOUT=<seconds>"
    )
    sleeper = int(pid_file.read_text())
    deadline = time.monotonic() + 2
    while alive(sleeper) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(sleeper), "the process helm started outlived it"


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("exit 0", "exited 0 but printed nothing"),
        ("printf '\\n---\\n\\n'", "exited 0 but printed no Kubernetes object (6 characters)"),
        ("echo hello", "exited 0 but printed no Kubernetes object (6 characters)"),
    ],
    ids=["nothing", "empty-documents", "a-scalar"],
)
def test_a_helm_that_prints_no_object_is_refused(template: str, said: str, tmp_path: Path) -> None:
    binary = stand_in(tmp_path, template)
    with pytest.raises(render.RenderError) as err:
        render_with(binary, tmp_path)
    assert str(err.value) == (
        f"{WHAT}: {binary} {said}; a release renders at least one object: check that binary (HELM= names another)"
    )


def test_a_helm_that_prints_bytes_that_are_not_utf8_is_refused(tmp_path: Path) -> None:
    binary = stand_in(tmp_path, "printf 'kind: ConfigMap\\nmetadata:\\n  name: caf\\351\\n'")
    with pytest.raises(helm.HelmError) as err:
        render_with(binary, tmp_path)
    assert str(err.value) == (
        f"{WHAT}: {binary} printed bytes that are not UTF-8 (0xe9 at byte 37), which helm never does; "
        "check that binary (HELM= names another)"
    )


def test_a_helm_that_fails_silently_says_so(tmp_path: Path) -> None:
    binary = stand_in(tmp_path, "exit 3")
    with pytest.raises(render.RenderError) as err:
        render_with(binary, tmp_path)
    assert str(err.value) == f"{WHAT}: {binary} exited with code 3, saying nothing"


@pytest.mark.parametrize(
    ("script", "answer"),
    [
        ("#!/bin/sh\nexec sleep 30\n", None),
        ("#!/bin/sh\nexit 0\n", "answered nothing (exit code 0)"),
        ("#!/bin/sh\nprintf 'v4\\377'\n", "not-utf8"),
    ],
    ids=["hangs", "silent", "not-utf8"],
)
def test_helm_version_that_misbehaves_is_refused(
    script: str, answer: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = tmp_path / "helm"
    binary.write_text(script)
    binary.chmod(0o755)
    monkeypatch.setenv("HELM", str(binary))
    # the short deadline only where it is the subject: a loaded CI runner must not time out the others
    monkeypatch.setenv("HOMELAB_HELM_TIMEOUT", "0.2" if answer is None else "10")
    with pytest.raises(helm.HelmError) as err:
        helm.find()
    expected = {
        None: (
            f"`helm version`: {binary} did not finish within 0.2 s and was stopped (helm answers it at once); "
            "check that binary (HELM= names another), or on a slower machine raise HOMELAB_HELM_TIMEOUT=<seconds>"
        ),
        "not-utf8": (
            f"`helm version`: {binary} printed bytes that are not UTF-8 (0xff at byte 2), which helm never "
            "does; check that binary (HELM= names another)"
        ),
    }.get(answer, f"{binary}: `helm version` {answer}")
    assert str(err.value) == expected


@pytest.mark.parametrize("value", ["soon", "0", "-1", "inf", "nan"])
def test_the_deadline_must_be_seconds(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMELAB_HELM_TIMEOUT", value)
    with pytest.raises(helm.HelmError) as err:
        helm.timeout()
    assert str(err.value) == f"HOMELAB_HELM_TIMEOUT={value!r} is not a number of seconds above 0 (unset it for 30 s)"


def test_the_default_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMELAB_HELM_TIMEOUT", raising=False)
    assert helm.timeout() == 30.0
    monkeypatch.setenv("HOMELAB_HELM_TIMEOUT", " 90 ")
    assert helm.timeout() == 90.0


def test_the_plan_stops_a_hanging_helm_and_writes_nothing(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the command: exit 2, the message, no traceback, the earlier rendering removed;
    one deadline for the plan, not one per release (the renders after a failure never start)."""
    if not any(p.is_dir() for p in charts.search_path()):
        pytest.skip(f"no chart packages in {', '.join(map(str, charts.search_path()))}")
    binary = stand_in(project.root.parent, "exec sleep 30")
    monkeypatch.setenv("HELM", str(binary))
    monkeypatch.setenv("HOMELAB_HELM_TIMEOUT", "0.5")
    stale = project.rendered / "staging" / "stale.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("kind: Left-from-an-earlier-plan\n")
    capsys.readouterr()
    start = time.monotonic()
    code = plan_cmd.main(["--stack", "staging", "--root", str(project.root), "--no-validate"])
    took = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"error: helm template cert-manager (cert-manager-v1.21.1.tgz): {binary} did not finish within 0.5 s and "
        "was stopped (the largest chart here renders in about 2 s); check that binary (HELM= names another), or "
        "on a slower machine raise HOMELAB_HELM_TIMEOUT=<seconds>\n"
        "(--no-render plans without rendering the charts)\n"
        f"removed {project.rendered / 'staging'}: it was rendered from an earlier config\n"
        "nothing written\n"
    )
    assert not (project.rendered / "staging").exists()
    assert took < 15, f"the plan took {took:.1f} s"
