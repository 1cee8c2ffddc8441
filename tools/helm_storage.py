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
* helm/helm pkg/chart/chart.go @ v3.20.2 ``Chart``: ``Raw`` is ``json:"-"``; ``metadata``, ``lock``,
  ``templates``, ``values``, ``schema`` ([]byte), ``files`` (no omitempty: ``null`` when nil);
  ``parent`` and ``dependencies`` are unexported: subcharts are not stored.
* helm/helm pkg/chart/file.go @ v3.20.2 ``File``: ``name``, ``data`` ([]byte) and nothing else
  (no modtime). Go's encoding/json writes a []byte as standard base64 (``null`` when nil).
* helm/helm pkg/chart/metadata.go @ v3.20.2 ``Metadata``: name, home, sources, version, description,
  keywords, maintainers (name, email, url), icon, apiVersion, condition, tags, appVersion,
  deprecated, annotations, kubeVersion, dependencies, type, all ``omitempty``; ``Validate`` runs
  ``sanitizeString`` (a space for every whitespace rune, non-printable runes dropped) over
  name, description, home, icon, condition, tags, appVersion, kubeVersion, sources, keywords and
  the maintainers' fields.
* helm/helm pkg/chart/dependency.go @ v3.20.2 ``Dependency``: ``name``, ``version,omitempty``,
  ``repository``, ``condition,omitempty``, ``tags,omitempty``, ``enabled,omitempty``,
  ``import-values,omitempty``, ``alias,omitempty``; ``Lock``: ``generated`` (a stdlib ``time.Time``),
  ``digest``, ``dependencies``.
* helm/helm pkg/chart/loader/archive.go @ v3.20.2 ``LoadArchiveFiles``: every regular entry of the
  tar, its first path element dropped, ``path.Clean``-ed, a leading UTF-8 BOM trimmed; no
  ``.helmignore`` here (it is applied by ``helm package``, so a package's ``.helmignore`` itself is a
  file).
* helm/helm pkg/chart/loader/load.go @ v3.20.2 ``LoadFiles``: ``Chart.yaml`` -> metadata (apiVersion
  ``v1`` when missing), ``Chart.lock`` -> lock, ``values.yaml`` -> values, ``values.schema.json`` ->
  schema, ``templates/`` -> templates, ``charts/`` -> subcharts (a ``.prov`` there -> files), anything
  else (``crds/``, README, LICENSE, ``.helmignore``...) -> files, in archive order.
* helm/helm pkg/chartutil/dependencies.go @ v3.20.2 ``ProcessDependenciesWithMerge`` (called by
  ``Install.RunWithContext`` before the release is made): every dependency gets ``Enabled = true``,
  then tags and ``condition`` (first bool found) decide; disabled ones leave ``Metadata.Dependencies``
  (``nil`` when none is left); when some remain, ``processImportValues`` sets ``c.Values =
  MergeTables(MergeValues(c, nil), imports)``: the stored values then hold each enabled subchart's
  values under its name.
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
* Go encoding/json (``json.Marshal``): struct fields in declaration order, map keys sorted, ``<``,
  ``>``, ``&``, U+2028 and U+2029 escaped as ``\\u003c``, ``\\u003e``, ``\\u0026``, ``\\u2028``, ``\\u2029``;
  ``\\b`` and ``\\f`` short since Go 1.22; a float64 (every YAML or JSON number in a values map) in
  the shortest form, exponent only below 1e-6 or from 1e21 up.

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
import io
import json
import posixpath
import re
import tarfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

#: kubernetes pkg/apis/core/types.go ``MaxSecretSize``: the most a Secret's data may hold.
LIMIT = 1024 * 1024
#: How far the estimate may be from the size Helm's Go gzip gives (see the module docstring).
UNCERTAINTY = 0.03
HELM_STORAGE_TYPE = "sh.helm.release.v1"
#: A time as ``cfg.Now()`` marshals it, of the longest form (nanoseconds and a zone offset).
DEPLOYED = "2026-12-06T11:13:46.123456789+01:00"
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _GoYAML(_BASE_LOADER):
    """YAML as sigs.k8s.io/yaml (its go-yaml v2 fork) reads a chart's files: YAML 1.1, where
    ``y``/``n`` are booleans too and ``1e3`` a number (PyYAML keeps both strings)."""


_GoYAML.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))
#: go-yaml v2's float form: an exponent needs no dot (``1e3`` is 1000; PyYAML keeps it a string)
_GoYAML.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$"), list("-+0123456789")
)
_GoYAML.add_constructor(
    "tag:yaml.org,2002:bool",
    lambda loader, node: str(loader.construct_scalar(node)).lower() in ("y", "yes", "true", "on"),
)
_LOADER: Any = _GoYAML
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


class StorageError(Exception):
    """A chart package or a rendering that cannot be read as Helm would; the message says which."""


# ---------------------------------------------------------------------------------------------
# Go's encoding/json


def go_string(text: str) -> str:
    """``text`` as Go's json.Marshal writes a string (HTML-safe escaping)."""
    out = json.dumps(text, ensure_ascii=False)
    return (
        out.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def go_float(number: float) -> str:
    """A float64 as Go's json.Marshal writes it (``1``, ``0.5``, ``1e+21``, ``1e-7``)."""
    if number != number or number in (float("inf"), float("-inf")):
        raise StorageError(f"json: unsupported value: {number}")
    if number == 0:
        return "-0" if str(number).startswith("-") else "0"
    if 1e-6 <= abs(number) < 1e21:
        text = format(Decimal(repr(number)).normalize(), "f")
        return text
    text = repr(number)
    mantissa, _, exponent = text.partition("e")
    sign = exponent[0] if exponent[0] in "+-" else "+"
    digits = exponent.lstrip("+-").lstrip("0") or "0"
    if sign == "+" and len(digits) < 2:
        digits = digits.rjust(2, "0")
    return f"{mantissa}e{sign}{digits}"


def go_value(value: Any) -> str:
    """A values tree (``map[string]interface{}`` with float64 numbers) as Go marshals it."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return go_float(float(value))
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_string(value)
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{go_string(k)}:{go_value(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_value(v) for v in value) + "]"
    raise StorageError(f"json: unsupported type {type(value).__name__}")


def go_bytes(data: bytes | None) -> str:
    """A Go ``[]byte``: standard base64 in quotes, ``null`` when nil."""
    return "null" if data is None else '"' + base64.b64encode(data).decode() + '"'


def _object(fields: Iterable[tuple[str, str | None]]) -> str:
    """A Go struct: its fields in order, those given as None (omitempty and empty) left out."""
    return "{" + ",".join(f'"{k}":{v}' for k, v in fields if v is not None) + "}"


def _omit_empty_str(text: str | None) -> str | None:
    return go_string(text) if text else None


def _omit_empty_list(items: Sequence[Any] | None, encode: Callable[[Any], str] = go_string) -> str | None:
    return "[" + ",".join(encode(i) for i in items) + "]" if items else None


def go_time(text: str) -> str:
    """An RFC 3339 time as Go's time.Time.MarshalJSON re-writes it (RFC3339Nano: trailing zeros
    of the fraction dropped, ``Z`` for a zero offset)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)", text.strip())
    if m is None:
        raise StorageError(f"not an RFC 3339 time: {text!r}")
    base, frac, zone = m.groups()
    frac = (frac or "")[:9].rstrip("0")
    zone = "Z" if zone in ("Z", "z", "+00:00", "-00:00") else zone
    return f"{base.replace('t', 'T').replace(' ', 'T')}{'.' + frac if frac else ''}{zone}"


# ---------------------------------------------------------------------------------------------
# the chart, as helm's loader reads a package


@dataclass
class LoadedChart:
    """What of a chart package Helm stores (and its subcharts, which it does not)."""

    metadata: dict[str, Any]
    lock: dict[str, Any] | None
    templates: list[tuple[str, bytes | None]]
    values: dict[str, Any] | None
    schema: bytes | None
    files: list[tuple[str, bytes | None]]
    subcharts: list[LoadedChart] = field(default_factory=list)

    @property
    def name(self) -> str:
        return _sanitize(_meta(self.metadata, "name"))


def _yaml(data: bytes | None, what: str) -> Any:
    try:
        return _plain(yaml.load(data or b"", Loader=_LOADER))
    except yaml.YAMLError as exc:
        raise StorageError(f"cannot load {what}: {exc}") from None


def _plain(value: Any) -> Any:
    """A YAML tree as sigs.k8s.io/yaml hands it to Go: string keys, times as their text."""
    if isinstance(value, dict):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _key(key: Any) -> str:
    if key is True or key is False:
        return str(key).lower()
    if key is None:
        return "null"
    if isinstance(key, float):
        return go_float(key)
    return str(key)


def _files_of(package: bytes) -> list[tuple[str, bytes | None]]:
    """(path inside the chart, data) of every file, in archive order (``LoadArchiveFiles``)."""
    out: list[tuple[str, bytes | None]] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(package), mode="r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                delimiter = "\\" if "\\" in member.name else "/"
                name = posixpath.normpath("/".join(member.name.split(delimiter)[1:]))
                raw = b""
                if member.isfile():
                    extracted = tar.extractfile(member)
                    raw = extracted.read() if extracted is not None else b""
                raw = raw.removeprefix(b"\xef\xbb\xbf")
                out.append((name, raw or None))  # an empty file is a nil slice: "data":null
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise StorageError(f"not a chart package: {exc}") from None
    return out


def load_chart(package: Path | bytes) -> LoadedChart:
    """A chart package as helm/helm pkg/chart/loader (v3.20.2) loads it."""
    raw = package if isinstance(package, bytes) else Path(package).read_bytes()
    return _load_files(_files_of(raw))


def _load_files(files: list[tuple[str, bytes | None]]) -> LoadedChart:
    metadata: dict[str, Any] | None = None
    lock: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    schema: bytes | None = None
    templates: list[tuple[str, bytes | None]] = []
    others: list[tuple[str, bytes | None]] = []
    subcharts: dict[str, list[tuple[str, bytes | None]]] = {}
    for name, data in files:
        if name == "Chart.yaml":
            metadata = _yaml(data, "Chart.yaml") or {}
    if metadata is None:
        raise StorageError("Chart.yaml file is missing")
    for name, data in files:
        if name == "Chart.yaml":
            continue
        if name in ("Chart.lock", "requirements.lock"):
            lock = _yaml(data, name)
            if name == "requirements.lock" and _meta(metadata, "apiVersion") in ("", "v1"):
                others.append((name, data))
        elif name == "values.yaml":
            values = _yaml(data, "values.yaml") or {}
        elif name == "values.schema.json":
            schema = data
        elif name == "requirements.yaml":
            metadata = {**metadata, **(_yaml(data, name) or {})}
            if _meta(metadata, "apiVersion") in ("", "v1"):
                others.append((name, data))
        elif name.startswith("templates/"):
            templates.append((name, data))
        elif name.startswith("charts/"):
            if name.endswith(".prov"):
                others.append((name, data))
                continue
            rest = name.removeprefix("charts/")
            subcharts.setdefault(rest.split("/", 1)[0], []).append((rest, data))
        else:
            others.append((name, data))
    chart = LoadedChart(metadata, lock, templates, values, schema, others)
    for sub, sub_files in subcharts.items():
        if sub[:1] in ("_", "."):
            continue
        if sub.endswith(".tgz"):
            chart.subcharts.append(load_chart(sub_files[0][1] or b""))
        else:
            inner = [(n.split("/", 1)[1], d) for n, d in sub_files if "/" in n]
            chart.subcharts.append(_load_files(inner))
    return chart


def _meta(metadata: Mapping[str, Any], key: str) -> Any:
    """A Chart.yaml field as Go's json.Unmarshal finds it: exact key first, else any case."""
    if key in metadata:
        return metadata[key]
    return next((v for k, v in metadata.items() if k.lower() == key.lower()), None)


def _text(value: Any) -> str:
    """A YAML scalar read into a Go string field (``off`` is ``false``, ``1.0`` is ``1``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def _sanitize(text: Any) -> str:
    """helm's ``sanitizeString``: whitespace runes become spaces, non-printable runes go."""
    return "".join(" " if c.isspace() else c for c in _text(text) if c.isspace() or c.isprintable())


# ---------------------------------------------------------------------------------------------
# dependencies: what ProcessDependenciesWithMerge leaves in the stored chart


def _path_value(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _merge(dest: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``dest`` with every key of ``defaults`` it lacks (maps merged, dest wins), nulls kept."""
    for key, value in defaults.items():
        if key not in dest:
            dest[key] = _copy(value)
        elif isinstance(dest[key], dict) and isinstance(value, Mapping):
            _merge(dest[key], value)
    return dest


def _with_subchart_values(chart: LoadedChart, enabled: Sequence[tuple[str, LoadedChart]]) -> dict[str, Any]:
    """``MergeValues(c, nil)``: the chart's values, each enabled subchart's under its name (its
    alias) with a ``global`` table (``coalesceGlobals``: the parent's globals win, tables merged)."""
    merged: dict[str, Any] = _copy(chart.values or {})
    found = merged.get("global")
    parent_globals: dict[str, Any] = found if isinstance(found, dict) else {}
    for name, sub in enabled:
        own = merged.setdefault(name, {})
        if not isinstance(own, dict) or not isinstance(own.setdefault("global", {}), dict):
            continue
        globals_ = own["global"]
        for key, value in parent_globals.items():
            if isinstance(value, dict):
                globals_[key] = (
                    _merge(_copy(value), globals_[key]) if isinstance(globals_.get(key), dict) else _copy(value)
                )
            elif not isinstance(globals_.get(key), dict):
                globals_[key] = value
        merged[name] = _merge(own, _with_subchart_values(sub, [(s.name, s) for s in sub.subcharts]))
    return merged


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _dependencies(
    chart: LoadedChart, user_values: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(the metadata's dependencies as stored, the chart's values as stored)."""
    declared = [d for d in (_meta(chart.metadata, "dependencies") or []) if isinstance(d, Mapping)]
    if not declared:
        return [], chart.values
    values = _merge(_copy(dict(user_values)), chart.values or {})
    tags = values.get("tags") if isinstance(values.get("tags"), Mapping) else None
    kept: list[dict[str, Any]] = []
    for dep in declared:
        enabled = True
        if tags is not None:
            found = [tags[t] for t in dep.get("tags") or [] if isinstance(tags.get(t), bool)]
            enabled = not (found and not any(found))
        for condition in _text(dep.get("condition")).strip().split(","):
            found = _path_value(values, condition) if condition else None
            if isinstance(found, bool):
                enabled = found
                break
        if enabled:
            kept.append({**dep, "enabled": True})
    if not kept:
        return [], chart.values
    # subcharts Chart.yaml does not declare stay enabled; a declared one is found by its name and
    # goes by its alias (``getAliasDependency``)
    declared_names = {_text(d.get("name")) for d in declared}
    enabled = [(s.name, s) for s in chart.subcharts if s.name not in declared_names]
    for dep in kept:
        sub = next((s for s in chart.subcharts if s.name == _text(dep.get("name"))), None)
        if sub is not None:
            enabled.append((_text(dep.get("alias") or dep.get("name")), sub))
    return [{**d, "name": d.get("alias") or d.get("name")} for d in kept], _with_subchart_values(chart, enabled)


def _dependency_json(dep: Mapping[str, Any]) -> str:
    imports = dep.get("import-values") or []
    normalized = [
        {"child": str(i.get("child")), "parent": str(i.get("parent"))}
        if isinstance(i, Mapping)
        else {"child": f"exports.{i}", "parent": "."}
        for i in imports
    ]
    return _object(
        [
            ("name", go_string(_sanitize(dep.get("name")))),
            ("version", _omit_empty_str(_sanitize(dep.get("version")))),
            ("repository", go_string(_sanitize(dep.get("repository")))),
            ("condition", _omit_empty_str(_sanitize(dep.get("condition")))),
            ("tags", _omit_empty_list([_sanitize(t) for t in dep.get("tags") or []])),
            ("enabled", "true" if dep.get("enabled") else None),
            ("import-values", _omit_empty_list(normalized, go_value)),
            ("alias", _omit_empty_str(_text(dep.get("alias")))),
        ]
    )


def _metadata_json(md: Mapping[str, Any], dependencies: Sequence[Mapping[str, Any]]) -> str:
    def text(key: str, sanitize: bool = True) -> str | None:
        value = _meta(md, key)
        return _omit_empty_str(_sanitize(value) if sanitize else _text(value))

    def strings(key: str) -> str | None:
        return _omit_empty_list([_sanitize(s) for s in _meta(md, key) or []])

    maintainers = [
        _object(
            [
                ("name", _omit_empty_str(_sanitize(m.get("name")))),
                ("email", _omit_empty_str(_sanitize(m.get("email")))),
                ("url", _omit_empty_str(_sanitize(m.get("url")))),
            ]
        )
        for m in _meta(md, "maintainers") or []
        if isinstance(m, Mapping)
    ]
    annotations = _meta(md, "annotations") or {}
    return _object(
        [
            ("name", text("name")),
            ("home", text("home")),
            ("sources", strings("sources")),
            ("version", text("version", sanitize=False)),
            ("description", text("description")),
            ("keywords", strings("keywords")),
            ("maintainers", _omit_empty_list(maintainers, str)),
            ("icon", text("icon")),
            ("apiVersion", go_string(_text(_meta(md, "apiVersion")) or "v1")),
            ("condition", text("condition")),
            ("tags", text("tags")),
            ("appVersion", text("appVersion")),
            ("deprecated", "true" if _meta(md, "deprecated") else None),
            ("annotations", go_value({k: _text(v) for k, v in annotations.items()}) if annotations else None),
            ("kubeVersion", text("kubeVersion")),
            ("dependencies", _omit_empty_list(dependencies, _dependency_json)),
            ("type", text("type", sanitize=False)),
        ]
    )


def _lock_json(lock: Mapping[str, Any] | None) -> str:
    if lock is None:
        return "null"
    generated = lock.get("generated")
    deps = [d for d in lock.get("dependencies") or [] if isinstance(d, Mapping)]
    return _object(
        [
            ("generated", go_string(go_time(_text(generated)) if generated else "0001-01-01T00:00:00Z")),
            ("digest", go_string(_text(lock.get("digest")))),
            ("dependencies", "[" + ",".join(_dependency_json(d) for d in deps) + "]" if deps else "null"),
        ]
    )


def _files_json(files: Sequence[tuple[str, bytes | None]]) -> str:
    if not files:
        return "null"
    return "[" + ",".join(_object([("name", go_string(n)), ("data", go_bytes(d))]) for n, d in files) + "]"


def chart_json(chart: LoadedChart, user_values: Mapping[str, Any]) -> str:
    """The ``chart`` of the stored release: the top chart only."""
    dependencies, values = _dependencies(chart, user_values)
    return _object(
        [
            ("metadata", _metadata_json(chart.metadata, dependencies)),
            ("lock", _lock_json(chart.lock)),
            ("templates", _files_json(chart.templates)),
            ("values", go_value(values)),
            ("schema", go_bytes(chart.schema)),
            ("files", _files_json(chart.files)),
        ]
    )


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
        return _object(
            [
                ("name", _omit_empty_str(self.name)),
                ("kind", _omit_empty_str(self.kind)),
                ("path", _omit_empty_str(self.path)),
                ("manifest", _omit_empty_str(self.manifest)),
                ("events", _omit_empty_list(self.events)),
                ("last_run", '{"started_at":"","completed_at":"","phase":""}'),
                ("weight", str(self.weight) if self.weight else None),
                ("delete_policies", _omit_empty_list(self.delete_policies)),
                ("output_log_policies", _omit_empty_list(self.output_log_policies)),
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
    return tuple(p.strip().lower() for p in _text(annotations[key]).split(","))


def _hook(path: str, content: str) -> Hook | bool | None:
    """The hook a document is, None for an unknown hook event (Helm drops it), False for none."""
    if "helm.sh/hook" not in content:
        return False
    try:
        head = yaml.load(content, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise StorageError(f"YAML parse error on {path}: {exc}") from None
    meta = head.get("metadata") if isinstance(head, Mapping) else None
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    if not isinstance(annotations, Mapping) or "helm.sh/hook" not in annotations:
        return False
    events = []
    for event in _text(annotations["helm.sh/hook"]).split(","):
        known = _HOOK_EVENTS.get(event.strip().lower())
        if known is None:
            return None
        events.append(known)
    return Hook(
        name=_text(meta.get("name")) if isinstance(meta, Mapping) else "",
        kind=_text(head.get("kind")),
        path=path,
        manifest=content,
        events=tuple(events),
        weight=_atoi(_text(annotations.get("helm.sh/hook-weight"))),
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
    info = _object(
        [
            ("first_deployed", go_string(go_time(deployed))),
            ("last_deployed", go_string(go_time(deployed))),
            ("deleted", '""'),
            ("description", go_string("Initial install underway")),
            ("status", go_string("pending-install")),
            ("notes", _omit_empty_str(notes)),
        ]
    )
    text = _object(
        [
            ("name", _omit_empty_str(release)),
            ("info", info),
            ("chart", chart_json(chart, values)),
            ("config", go_value(values) if values else None),
            ("manifest", _omit_empty_str(manifest)),
            ("hooks", "[" + ",".join(h.json() for h in hooks) + "]" if hooks else None),
            ("version", "1"),
            ("namespace", _omit_empty_str(namespace)),
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
