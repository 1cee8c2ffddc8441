"""Each chart rendered once per test run, not once per xdist worker: ``render.render_release``'s
per-process memo backed by a folder every worker of the run shares (a pickle and a lock per
release), so two workers never run the same ``helm template``. Direct calls of
``render.render_one`` (the tests of rendering itself) are never cached.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import pickle
from pathlib import Path

from homelab.plan import render

#: The shared folder, made by the run's first process (the xdist controller) and inherited.
ENV = "HOMELAB_TEST_RENDERS"


def install(folder: Path) -> None:
    original = render.render_release

    def shared(spec: render.ReleaseSpec, helm: Path | str, package: Path, kube_version: str) -> render.Rendered:
        stat = package.stat()
        inputs = [str(helm), str(package.resolve()), stat.st_mtime_ns, stat.st_size, kube_version]
        inputs += [spec.release, spec.namespace, spec.include_crds, spec.values]
        key = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
        path = folder / f"{key}.pickle"
        folder.mkdir(parents=True, exist_ok=True)  # gone if an earlier run in this process cleaned up
        with (folder / f"{key}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not path.is_file():
                done = original(spec, helm, package, kube_version)
                path.write_bytes(pickle.dumps((done.objects, done.text)))
        objects, text = pickle.loads(path.read_bytes())
        return render.Rendered(spec, objects, text=text, package=package)

    render.render_release = shared  # type: ignore[assignment]
