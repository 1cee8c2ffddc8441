"""The Helm releases the program installs (``helm.v3.Release``), read back from Helm's storage.

What the sources say:

* helm/helm pkg/storage/driver/secrets.go ``newSecretsObject`` (v3): each revision is a Secret
  ``sh.helm.release.v1.<name>.v<N>`` (homelab/plan/helm_storage.py ``HELM_STORAGE_TYPE``) in the
  storage namespace, type ``helm.sh/release.v1``, labelled ``owner=helm``, ``name``, ``status``,
  ``version`` (and ``createdAt``/``modifiedAt``), its one data key ``release`` the text
  ``encodeRelease`` wrote: the release as JSON, gzipped, base64. ``decodeRelease`` reads it back:
  base64, gunzip when the bytes start with gzip's magic (``1f 8b 08``), JSON. The Kubernetes API
  carries the data key base64-encoded once more.
* The release JSON (helm_storage.py): ``chart.metadata.name``/``version``, ``config`` (the values
  as the installer passed them), ``namespace``, ``version``, ``info.status``.
* helm-controller stores Flux's releases the same way, in the HelmRelease's namespace unless
  ``spec.storageNamespace``; it names a release ``[targetNamespace-]name`` unless
  ``spec.releaseName`` (DESIGN.md "Adopting a running homelab").
* A release import reads Helm's storage in the release's namespace, and since Pulumi 3.174 an
  import is diffed like an update: other values or chart version = ``helm upgrade``; another
  release name or namespace = replace = uninstall + install (DESIGN.md). Helm cannot rename a
  release, refuses an upgrade while a revision is ``pending-*`` ("another operation is in
  progress") and one of a release without a deployed revision ("has no deployed releases").

Only the revisions' metadata is listed (no Secret data); the one Secret read whole is the latest
deployed revision of a release adopt looks at.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from dataclasses import dataclass
from typing import Any

from homelab.adopt.changes import Known, value_changes
from homelab.adopt.findings import ADOPTING, Finding, FluxOwner, absent, blocked, importable, unknown
from homelab.config.catalog import chart_name
from homelab.config.imports import HELM_RELEASE, Entry
from homelab.doctor.checks_preflight import RELEASES, release_secrets_path
from homelab.doctor.expected import Expected
from homelab.doctor.kube import Kube, KubeError, Obj, get
from homelab.doctor.preflight_plan import HelmTarget
from homelab.errors import HomelabError
from homelab.plan.helm_storage import HELM_STORAGE_TYPE
from homelab.plan.mockrun import Plan

GZIP_MAGIC = b"\x1f\x8b\x08"
FLUX_RELEASES = "/apis/helm.toolkit.fluxcd.io/v2/helmreleases"


class ReleaseError(HomelabError):
    """A release Secret that is not what Helm writes."""


@dataclass(frozen=True)
class Revision:
    namespace: str
    release: str
    version: int
    status: str
    secret: str


@dataclass(frozen=True)
class Stored:
    """A revision read back: its chart, the release's namespace and the values it was given."""

    revision: Revision
    chart: str
    chart_version: str
    namespace: str
    config: dict[str, Any]

    @property
    def chart_label(self) -> str:
        return f"{self.chart} {self.chart_version}"


def decode_release(data: str) -> Obj:
    """Helm's ``decodeRelease`` of a Secret's ``data.release`` as the API returns it."""
    try:
        text = base64.b64decode(data, validate=True)
        raw = base64.b64decode(text, validate=True)
        if raw[:3] == GZIP_MAGIC:
            raw = gzip.decompress(raw)
        release = json.loads(raw)
    except (binascii.Error, ValueError, OSError, EOFError, zlib.error) as exc:
        raise ReleaseError(f"not a release as Helm stores it: {type(exc).__name__}: {exc}") from None
    if not isinstance(release, dict):
        raise ReleaseError("not a release as Helm stores it: the JSON is not an object")
    return release


def revision_of(item: Obj) -> Revision:
    meta = item.get("metadata") or {}
    labels = meta.get("labels") or {}
    version = str(labels.get("version") or "")
    return Revision(
        str(meta.get("namespace") or ""),
        str(labels.get("name") or ""),
        int(version) if version.isdigit() else 0,
        str(labels.get("status") or "unknown"),
        str(meta.get("name") or ""),
    )


def flux_owners(items: list[Obj]) -> dict[tuple[str, str], FluxOwner]:
    """(storage namespace, release name) -> the Flux HelmRelease that installs it."""
    out: dict[tuple[str, str], FluxOwner] = {}
    for item in items:
        name = str(get(item, "metadata", "name", default=""))
        namespace = str(get(item, "metadata", "namespace", default=""))
        target = str(get(item, "spec", "targetNamespace", default=""))
        release = str(get(item, "spec", "releaseName", default="")) or (f"{target}-{name}" if target else name)
        storage = str(get(item, "spec", "storageNamespace", default="")) or namespace
        out[(storage, release)] = FluxOwner("helmrelease", namespace, name)
    return out


class Storage:
    """Helm's storage on one cluster, read lazily and once."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._flux: dict[tuple[str, str], FluxOwner] | None = None
        self._others: list[Stored] | None = None

    def history(self, target: HelmTarget) -> list[Revision]:
        path, labels = release_secrets_path(target)
        return sorted((revision_of(i) for i in self.kube.metadata_list(path, labels)), key=lambda r: r.version)

    def read(self, rev: Revision) -> Stored:
        secret = self.kube.read(f"/api/v1/namespaces/{rev.namespace}/secrets/{rev.secret}")
        data = get(secret, "data", "release")
        if not isinstance(data, str):
            raise ReleaseError(f"Secret {rev.namespace}/{rev.secret} has no data key release")
        release = decode_release(data)
        return Stored(
            rev,
            str(get(release, "chart", "metadata", "name", default="")),
            str(get(release, "chart", "metadata", "version", default="")),
            str(release.get("namespace") or rev.namespace),
            dict(release.get("config") or {}),
        )

    def flux(self, storage_namespace: str, release: str) -> FluxOwner | None:
        if self._flux is None:
            try:
                self._flux = flux_owners(list((self.kube.read(FLUX_RELEASES) or {}).get("items") or []))
            except KubeError:
                self._flux = {}  # no Flux, or not readable: the releases are still judged
        return self._flux.get((storage_namespace, release))

    def others(self, exclude: set[tuple[str, str]]) -> list[Stored]:
        """The latest deployed revision of every other release of the cluster, read back."""
        if self._others is None:
            latest: dict[tuple[str, str], Revision] = {}
            for item in self.kube.metadata_list("/api/v1/secrets", "owner=helm,status=deployed"):
                rev = revision_of(item)
                key = (rev.namespace, rev.release)
                if key not in exclude and (key not in latest or latest[key].version < rev.version):
                    latest[key] = rev
            found = []
            for key in sorted(latest):
                try:
                    found.append(self.read(latest[key]))
                except ReleaseError:
                    continue  # not a release Helm wrote: not one of the charts looked for
            self._others = found
        return self._others


def _where(stored: Stored) -> str:
    return f"{stored.revision.namespace}/{stored.revision.release}"


def _helm(exp: Expected, namespace: str, args: str) -> str:
    return f"helm --kube-context {exp.context} -n {namespace} {args}"


def _uninstall(exp: Expected, stored: Stored, owner: FluxOwner | None) -> str:
    steps = [owner.suspend(exp.context)] if owner else []
    steps.append(_helm(exp, stored.revision.namespace, f"uninstall {stored.revision.release}"))
    return "; ".join(steps)


def _elsewhere(exp: Expected, target: HelmTarget, other: Stored, owner: FluxOwner | None) -> Finding:
    by = f" ({owner.label})" if owner else ""
    return blocked(
        RELEASES,
        target.label,
        f"chart {other.chart_label} runs as Helm release {_where(other)}{by}; the program installs it as "
        f"{target.namespace}/{target.name}, and Helm cannot rename a release",
        f"an import under another name or namespace is a replace: uninstall + install ({ADOPTING}). Uninstall "
        f"it before `pulumi up`, knowing that what it runs stops until up has installed {target.name}: "
        f"{_uninstall(exp, other, owner)}; then run adopt again (up installs {target.namespace}/{target.name})",
        (owner,) if owner else (),
    )


def _several_elsewhere(target: HelmTarget, others: list[Stored]) -> Finding:
    """The chart runs as several releases (one per DNS provider, say): which one the program
    replaces is the user's call, so no uninstall command is offered."""
    names = ", ".join(_where(o) for o in others)
    return blocked(
        RELEASES,
        target.label,
        f"chart {others[0].chart} runs as {len(others)} Helm releases ({names}); the program "
        f"installs it as {target.namespace}/{target.name}, and Helm cannot rename a release",
        f"an import under another name or namespace is a replace: uninstall + install ({ADOPTING}). Decide which "
        f"of them {target.name} replaces, uninstall that one before `pulumi up` (what it runs stops until up has "
        f"installed {target.name}), then run adopt again",
    )


def judge(
    exp: Expected,
    target: HelmTarget,
    want: tuple[str, str],
    history: list[Revision],
    stored: Stored | None,
    owner: FluxOwner | None,
    known: Known | None = None,
) -> Finding:
    """One release of the program: ``want`` is (chart, version); ``history`` its revisions in its
    namespace, oldest first; ``stored`` the latest deployed one read back."""
    chart, version = want
    owners = (owner,) if owner else ()
    by = f", {owner.label}" if owner else ""
    latest = history[-1]
    if latest.status.startswith("pending-"):
        return blocked(
            RELEASES,
            target.label,
            f"revision {latest.version} is {latest.status}: Helm refuses an upgrade while an operation is in progress",
            f"wait for it to end ({_helm(exp, target.namespace, f'history {target.name}')}), or roll it back "
            f"({_helm(exp, target.namespace, f'rollback {target.name}')}); then run adopt again",
            owners,
        )
    if stored is None:
        flux = f"flux --context {exp.context} reconcile helmrelease"
        reconcile = f"{flux} {owner.name} -n {owner.namespace}, or " if owner else ""
        return blocked(
            RELEASES,
            target.label,
            f"no deployed revision (the latest, {latest.version}, is {latest.status}): Helm upgrades no such release",
            f"get it deployed first ({reconcile}{_helm(exp, target.namespace, f'rollback {target.name}')}), or "
            "uninstall it; then run adopt again",
            owners,
        )
    if stored.namespace != target.namespace:
        return blocked(
            RELEASES,
            target.label,
            f"stored in {target.namespace} for a release in namespace {stored.namespace}: an import reads the release "
            "in its own namespace",
            f"an import in another namespace is a replace: uninstall + install ({ADOPTING}); "
            f"{_uninstall(exp, stored, owner)}, then run adopt again",
            owners,
        )
    if stored.chart != chart:
        return blocked(
            RELEASES,
            target.label,
            f"runs chart {stored.chart_label}{by}; the program installs chart {chart}",
            f"an import would upgrade it to another chart: uninstall it first ({_uninstall(exp, stored, owner)}), "
            "knowing that what it runs stops until up has installed it again; then run adopt again",
            owners,
        )
    rev = stored.revision
    changes = [f"chart: {stored.chart_label} -> {chart} {version}"] if stored.chart_version != version else []
    changes += [f"values.{line}" for line in value_changes(stored.config, dict(target.values), known)]
    fix = (
        "the first up upgrades it (helm upgrade with the program's values: a value only the running release has "
        "is dropped)" + (f"; suspend {owner.label} first (below)" if owner else "")
        if changes
        else ""
    )
    return importable(
        RELEASES,
        target.label,
        Entry(target.resource, HELM_RELEASE, f"{target.namespace}/{target.name}"),
        f"revision {rev.version} deployed, chart {stored.chart_label}{by}",
        tuple(changes),
        fix,
        owners,
        f"{target.label} (revision {rev.version}, chart {stored.chart_label})",
    )


def release_findings(exp: Expected, kube: Kube, plan: Plan, targets: list[HelmTarget], known: Known) -> list[Finding]:
    """A finding for every ``helm.v3.Release`` of the plan."""
    storage = Storage(kube)
    mine = {(t.namespace, t.name) for t in targets}
    out = []
    for target in targets:
        inputs = next(r.plain_inputs for r in plan.resources if r.name == target.resource and r.type == HELM_RELEASE)
        want = (chart_name(str(inputs.get("chart") or "")), str(inputs.get("version") or ""))
        try:
            history = storage.history(target)
            if not history:
                candidates = [o for o in storage.others(mine) if o.chart == want[0]]
                if not candidates:
                    out.append(absent_release(target))
                elif len(candidates) > 1:
                    out.append(_several_elsewhere(target, candidates))
                else:
                    other = candidates[0]
                    owner = storage.flux(other.revision.namespace, other.revision.release)
                    out.append(_elsewhere(exp, target, other, owner))
                continue
            deployed = [r for r in history if r.status == "deployed"]
            stored = storage.read(deployed[-1]) if deployed else None
            owner = storage.flux(target.namespace, target.name)
            out.append(judge(exp, target, want, history, stored, owner, known))
        except (KubeError, ReleaseError) as exc:
            out.append(unknown(RELEASES, target.label, f"cannot read it: {exc}", exp.read_access))
    return out


def absent_release(target: HelmTarget) -> Finding:
    secret = f"{HELM_STORAGE_TYPE}.{target.name}.v*"
    return absent(RELEASES, target.label, f"up installs it (no Secret {secret}, no release of its chart)")
