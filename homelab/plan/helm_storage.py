"""The size of the Secret Helm stores a release in, computed as Helm encodes it.

Every revision of a ``helm.v3.Release`` is written to a Secret ``sh.helm.release.v1.<name>.v<N>``
before any of its objects, and the API server refuses a Secret whose data is over 1 MiB: a chart
that large can never be installed as a release (gateway-crds-helm, DESIGN.md). The plan computes
that Secret's size for every release from the chart package, the values and what ``helm
template`` rendered, and refuses a release over the limit.

What the sources say (``helm/helm`` at v3.20.2, the version pulumi-kubernetes v4.32.0 vendors):

* pulumi/pulumi-kubernetes provider/go.mod @ v4.32.0: ``helm.sh/helm/v3 v3.20.2`` (and ``go 1.26.0``).
* pulumi/pulumi-kubernetes provider/pkg/provider/helm_release.go @ v4.32.0 ``helmCreate``:
  ``client := action.NewInstall(conf)`` ... ``client.SkipCRDs = newRelease.SkipCrds``,
  ``client.SubNotes = newRelease.RenderSubchartNotes``, ``client.Description = newRelease.Description``,
  then ``client.RunWithContext(ctx, c, values)`` with ``values`` from ``getValues``:
  ``helm.MergeMaps(map[string]any{}, release.Values)`` (the user's values, nothing of the chart's).
* helm/helm pkg/storage/storage.go @ v3.20.2: ``HelmStorageType = "sh.helm.release.v1"``;
  ``makeKey``: ``fmt.Sprintf("%s.%s.v%d", HelmStorageType, rlsname, version)``.
* helm/helm pkg/storage/driver/secrets.go @ v3.20.2 ``newSecretsObject``: ``s, err :=
  encodeRelease(rls)`` ... ``Data: map[string][]byte{"release": []byte(s)}``: the one data key holds
  the base64 text itself (its bytes are what the API server counts).
* helm/helm pkg/storage/driver/util.go @ v3.20.2 ``encodeRelease``: ``b, err := json.Marshal(rls)``;
  ``gzip.NewWriterLevel(&buf, gzip.BestCompression)``; ``b64.EncodeToString(buf.Bytes())`` with
  ``var b64 = base64.StdEncoding``.
* helm/helm pkg/release/release.go @ v3.20.2 ``Release``: ``name,omitempty``, ``info,omitempty``,
  ``chart,omitempty``, ``config,omitempty`` (map), ``manifest,omitempty``, ``hooks,omitempty``,
  ``version,omitempty``, ``namespace,omitempty``; ``Labels`` is ``json:"-"``.
* helm/helm pkg/release/info.go @ v3.20.2 ``Info``: ``first_deployed,omitempty``,
  ``last_deployed,omitempty``, ``deleted``, ``description,omitempty``, ``status,omitempty``,
  ``notes,omitempty``, ``resources,omitempty``; the times are ``helm.sh/helm/v3/pkg/time.Time``.
* helm/helm pkg/time/time.go @ v3.20.2 ``MarshalJSON``: ``if t.Time.IsZero() { return
  []byte(emptyString), nil }`` (``""``), else ``t.Time.MarshalJSON()`` (RFC 3339 with nanoseconds).
  (``omitempty`` never drops a struct, so all three times are always written.)
* helm/helm pkg/release/hook.go @ v3.20.2 ``Hook``: ``name,omitempty``, ``kind,omitempty``,
  ``path,omitempty``, ``manifest,omitempty``, ``events,omitempty``, ``last_run,omitempty`` (a struct:
  always written), ``weight,omitempty``, ``delete_policies,omitempty``, ``output_log_policies,omitempty``;
  ``HookExecution``: ``started_at,omitempty``, ``completed_at,omitempty`` (helm times), ``phase``.
  Events: ``pre-install`` ... ``post-rollback``, ``test``.
* The release's ``chart`` (helm/helm pkg/chart, its loader, ``ProcessDependenciesWithMerge``): the
  sources are cited in homelab/plan/helm_chart_load.py; Go's encoding/json and go-yaml v2 in
  homelab/plan/helm_go_encoding.py.
* helm/helm pkg/action/install.go @ v3.20.2 ``RunWithContext``/``createRelease``: ``Config: rawVals``
  (the user's values), ``Version: 1``, ``Info.FirstDeployed = LastDeployed = cfg.Now()``;
  ``rel.Hooks, manifestDoc, rel.Info.Notes, err = i.cfg.renderResources(...)``;
  ``rel.SetStatus(release.StatusPendingInstall, "Initial install underway")``; then
  ``i.cfg.Releases.Create(rel)``: the first Secret is written before any object (CRDs of ``crds/``
  are created before it, by ``installCRDs``, and are not in the manifest).
* helm/helm pkg/action/action.go @ v3.20.2 ``renderResources``: NOTES.txt of the top chart only
  (unless SubNotes) becomes ``Info.Notes`` and leaves the manifest; ``releaseutil.SortManifests``
  splits hooks from the rest; every other manifest is written as ``"---\\n# Source: %s\\n%s\\n"``;
  CRDs only ``if includeCrds`` (``helm template --include-crds``, never an install).
* helm/helm pkg/releaseutil/manifest_sorter.go @ v3.20.2: a document is a hook when its annotation
  ``helm.sh/hook`` is set; events split on ``,``, trimmed, lower-cased (``test-success`` -> ``test``;
  an unknown event drops the document); ``Weight`` from ``helm.sh/hook-weight`` (``strconv.Atoi``,
  0 on error); ``DeletePolicies``/``OutputLogPolicies`` from ``helm.sh/hook-delete-policy`` and
  ``helm.sh/hook-output-log-policy``; ``Path`` is the template's path, ``Manifest`` the document.
* helm/helm pkg/cmd/template.go @ v4.1.4 (the helm the plan renders with): prints
  ``strings.TrimSpace(rel.Manifest)``, then each hook as ``"---\\n# Source: %s\\n%s\\n"``: the same
  blocks as the stored manifest and hooks, which is what :func:`split_rendered` reads back.
* kubernetes/kubernetes pkg/apis/core/validation/validation.go ``ValidateSecret``: ``totalSize +=
  len(value)`` over ``secret.Data``; ``if totalSize > core.MaxSecretSize`` -> ``field.TooLong``;
  pkg/apis/core/types.go: ``const MaxSecretSize = 1 * 1024 * 1024``.

How exact it is. The JSON is byte for byte what Helm marshals (checked against helm v4.1.4's
``install --dry-run=client -o json``, whose release has the same fields plus v4's own), except:
the NOTES.txt template is stored as written (``helm template`` does not print the rendered notes;
each chart here has 0.8-1.4 KB of it, more than it renders to: the estimate errs high), the
timestamp is a fixed one of the longest form, and the values of an enabled subchart's own
subcharts are merged in one pass (Helm goes level by level). Compared with helm v4.1.4 for every
release of the staging stack: chart metadata, lock, templates, values, schema and files, the
config, the manifest (cilium's aside: new certificates each render) and the hooks are equal.
The YAML of a chart's files is read as go-yaml v2 reads it (``y``/``n`` booleans, ``1e3`` a number).

The gzip is not Go's. Python's zlib and Go's compress/flate at level 9 share the lazy-matching
parameters (good 32, lazy 258, nice 258, chain 4096) but not the matcher (Go's shortest match is 4
bytes, zlib's 3) nor the block splitting. Measured with Go 1.19's compress/flate (Debian's
golang-1.19; the provider's go.mod says go 1.26, whose deflate.go is the same classic compressor,
not compared line by line) on the release JSON of every chart here, Go's output was the larger
every time, by 0.26 % (cert-manager, 2.8 MB of JSON) to 1.71 % (coredns, 148 KB):
gateway-crds-helm 2,287,360 bytes here against 2,299,272 in Go (+0.52 %), cilium 401,856 against
406,144 (+1.07 %), envoy-gateway 28,240 against 28,668 (+1.52 %), external-dns 48,912 against
49,660 (+1.53 %), cert-manager 473,856 against 475,084. Go 1.27 replaced compress/flate with a
port of klauspost/compress (another matcher for levels 7-9), not measured here. Hence
:data:`UNCERTAINTY` (3 %): a release within it below the limit is warned about, not refused.
The first revision is sized (``pending-install``); the deployed one differs by tens of bytes
(status, description, each hook's ``last_run``).
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from homelab.plan.helm_chart_load import LoadedChart, chart_json, load_chart
from homelab.plan.helm_go_encoding import (
    GO_YAML,
    StorageError,
    go_string,
    go_struct,
    go_time,
    go_value,
    omit_empty_list,
    omit_empty_str,
    string_field,
)

#: kubernetes pkg/apis/core/types.go ``MaxSecretSize``: the most a Secret's data may hold.
LIMIT = 1024 * 1024
#: How far the estimate may be from the size Helm's Go gzip gives (see the module docstring).
UNCERTAINTY = 0.03
HELM_STORAGE_TYPE = "sh.helm.release.v1"
#: A time as ``cfg.Now()`` marshals it, of the longest form (nanoseconds and a zone offset).
DEPLOYED = "2026-12-06T11:13:46.123456789+01:00"
_HOOK_EVENTS = {
    "pre-install": "pre-install",
    "post-install": "post-install",
    "pre-delete": "pre-delete",
    "post-delete": "post-delete",
    "pre-upgrade": "pre-upgrade",
    "post-upgrade": "post-upgrade",
    "pre-rollback": "pre-rollback",
    "post-rollback": "post-rollback",
    "test": "test",
    "test-success": "test",
}


# ---------------------------------------------------------------------------------------------
# the rendering: manifest and hooks


_SOURCE = re.compile(r"^---\n# Source: (.*)\n", re.MULTILINE)


@dataclass(frozen=True)
class Hook:
    name: str
    kind: str
    path: str
    manifest: str
    events: tuple[str, ...]
    weight: int
    delete_policies: tuple[str, ...]
    output_log_policies: tuple[str, ...]

    def json(self) -> str:
        return go_struct(
            [
                ("name", omit_empty_str(self.name)),
                ("kind", omit_empty_str(self.kind)),
                ("path", omit_empty_str(self.path)),
                ("manifest", omit_empty_str(self.manifest)),
                ("events", omit_empty_list(self.events)),
                ("last_run", '{"started_at":"","completed_at":"","phase":""}'),
                ("weight", str(self.weight) if self.weight else None),
                ("delete_policies", omit_empty_list(self.delete_policies)),
                ("output_log_policies", omit_empty_list(self.output_log_policies)),
            ]
        )


def _is_crd_file(path: str) -> bool:
    """``<chart>/crds/...`` or ``<chart>/charts/<sub>/crds/...``: printed only for --include-crds."""
    return re.fullmatch(r"[^/]+(?:/charts/[^/]+)*/crds/.+", path) is not None


def _atoi(text: str) -> int:
    return int(text) if re.fullmatch(r"[+-]?\d+", text) and abs(int(text)) < 2**63 else 0


def _policies(annotations: Mapping[str, Any], key: str) -> tuple[str, ...]:
    if key not in annotations:
        return ()
    return tuple(p.strip().lower() for p in string_field(annotations[key]).split(","))


def _hook(path: str, content: str) -> Hook | bool | None:
    """The hook a document is, None for an unknown hook event (Helm drops it), False for none."""
    if "helm.sh/hook" not in content:
        return False
    try:
        head = yaml.load(content, Loader=GO_YAML)
    except yaml.YAMLError as exc:
        raise StorageError(f"YAML parse error on {path}: {exc}") from None
    meta = head.get("metadata") if isinstance(head, Mapping) else None
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    if not isinstance(annotations, Mapping) or "helm.sh/hook" not in annotations:
        return False
    events = []
    for event in string_field(annotations["helm.sh/hook"]).split(","):
        known = _HOOK_EVENTS.get(event.strip().lower())
        if known is None:
            return None
        events.append(known)
    return Hook(
        name=string_field(meta.get("name")) if isinstance(meta, Mapping) else "",
        kind=string_field(head.get("kind")),
        path=path,
        manifest=content,
        events=tuple(events),
        weight=_atoi(string_field(annotations.get("helm.sh/hook-weight"))),
        delete_policies=_policies(annotations, "helm.sh/hook-delete-policy"),
        output_log_policies=_policies(annotations, "helm.sh/hook-output-log-policy"),
    )


def split_rendered(text: str) -> tuple[str, list[Hook]]:
    """(``Release.Manifest``, ``Release.Hooks``) from ``helm template`` output: the CRDs of
    ``crds/`` (``--include-crds``) left out, each hook document apart."""
    heads = list(_SOURCE.finditer(text))
    manifest: list[str] = []
    hooks: list[Hook] = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        path, content = head.group(1), text[head.end() : end].removesuffix("\n")
        if _is_crd_file(path):
            continue
        hook = _hook(path, content)
        if hook is False:
            manifest.append(f"---\n# Source: {path}\n{content}\n")
        elif isinstance(hook, Hook):
            hooks.append(hook)
    return "".join(manifest), hooks


# ---------------------------------------------------------------------------------------------
# the release


@dataclass(frozen=True)
class Stored:
    """A release as Helm would store it."""

    release: str
    json: bytes  # json.Marshal(release)
    size: int  # bytes of the Secret's data: base64(gzip(json))

    @property
    def secret(self) -> str:
        return f"{HELM_STORAGE_TYPE}.{self.release}.v1"


def release_json(
    chart: LoadedChart,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
    rendered: str,
    deployed: str = DEPLOYED,
    notes: str | None = None,
) -> bytes:
    """``json.Marshal`` of the release ``Install.RunWithContext`` first stores (revision 1,
    ``pending-install``). ``notes``: the rendered NOTES.txt; by default the template as written."""
    manifest, hooks = split_rendered(rendered)
    if notes is None:
        notes = next((d or b"" for n, d in chart.templates if n == "templates/NOTES.txt"), b"").decode(
            "utf-8", "replace"
        )
    info = go_struct(
        [
            ("first_deployed", go_string(go_time(deployed))),
            ("last_deployed", go_string(go_time(deployed))),
            ("deleted", '""'),
            ("description", go_string("Initial install underway")),
            ("status", go_string("pending-install")),
            ("notes", omit_empty_str(notes)),
        ]
    )
    text = go_struct(
        [
            ("name", omit_empty_str(release)),
            ("info", info),
            ("chart", chart_json(chart, values)),
            ("config", go_value(values) if values else None),
            ("manifest", omit_empty_str(manifest)),
            ("hooks", "[" + ",".join(h.json() for h in hooks) + "]" if hooks else None),
            ("version", "1"),
            ("namespace", omit_empty_str(namespace)),
        ]
    )
    return text.encode()


def encode(release: bytes) -> str:
    """``encodeRelease``: base64 of the gzip (level 9) of the JSON."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    return base64.b64encode(packer.compress(release) + packer.flush()).decode()


def stored(
    package: Path | bytes,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
    rendered: str,
    notes: str | None = None,
) -> Stored:
    """The release Secret Helm would write for this chart, values and ``helm template`` output."""
    data = release_json(load_chart(package), release, namespace, values, rendered, notes=notes)
    return Stored(release, data, len(encode(data)))


# ---------------------------------------------------------------------------------------------
# the plan's check


@dataclass(frozen=True)
class Verdict:
    release: str
    size: int
    refused: bool
    warned: bool
    line: str


def verdict(release: str, size: int) -> Verdict:
    """Refused over :data:`LIMIT`; warned within :data:`UNCERTAINTY` below it."""
    secret = f"{HELM_STORAGE_TYPE}.{release}.v1"
    if size > LIMIT:
        line = (
            f"{release}: Helm would store this release in a {size:,}-byte Secret ({secret}); the API "
            f"server refuses Secrets over {LIMIT:,} bytes (1 MiB). Install a chart this large without "
            "a release Secret: as helm.v4.Chart (client-side render, one resource per object)."
        )
        return Verdict(release, size, True, False, line)
    if size > LIMIT * (1 - UNCERTAINTY):
        line = (
            f"{release}: Helm would store this release in a {size:,}-byte Secret ({secret}), "
            f"{size / LIMIT:.1%} of the API server's {LIMIT:,}-byte limit; the estimate is within "
            f"{UNCERTAINTY:.0%} of the size Helm's Go gzip gives, so it may not fit. Every upgrade "
            "stores a new revision of the same size: a chart this close to the limit belongs in helm.v4.Chart."
        )
        return Verdict(release, size, False, True, line)
    return Verdict(release, size, False, False, f"{release}: {size:,} bytes ({size / LIMIT:.1%} of 1 MiB)")


def stored_by_helm(spec: Any) -> bool:
    """A ``helm.v3.Release`` (``ReleaseSpec.stored``); a ``helm.v4.Chart`` has no release Secret."""
    return bool(getattr(spec, "stored", True))


def check(rendered: Sequence[Any], is_stored: Callable[[Any], bool] = stored_by_helm) -> list[Verdict]:
    """A verdict for every rendered release Helm stores (``is_stored(spec)``: a
    ``helm.v3.Release``, never a ``helm.v4.Chart``). Each needs ``r.text`` and ``r.package``."""
    out = []
    for r in rendered:
        spec = r.spec
        if not is_stored(spec):
            continue
        if r.package is None:
            raise StorageError(f"{spec.release}: no chart package to size its release Secret with")
        found = stored(r.package, spec.release, spec.namespace, spec.values, r.text)
        out.append(verdict(spec.release, found.size))
    return out
