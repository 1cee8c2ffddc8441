"""A chart package as Helm's loader reads it, and the ``chart`` of the release Helm stores.

homelab/plan/helm_storage.py sizes the release Secret Helm writes; this is the chart part of that release
JSON: the top chart's metadata, lock, templates, values, schema and files, after
``ProcessDependenciesWithMerge`` (subcharts are loaded, for their values, but not stored).

What the sources say (``helm/helm`` at v3.20.2, the version pulumi-kubernetes v4.32.0 vendors):

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
"""

from __future__ import annotations

import base64
import io
import json
import posixpath
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from homelab.plan.helm_go_encoding import (
    GO_YAML,
    StorageError,
    go_bytes,
    go_float,
    go_string,
    go_struct,
    go_time,
    go_value,
    omit_empty_list,
    omit_empty_str,
    string_field,
)

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
        return _plain(yaml.load(data or b"", Loader=GO_YAML))
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


def _sanitize(text: Any) -> str:
    """helm's ``sanitizeString``: whitespace runes become spaces, non-printable runes go."""
    return "".join(" " if c.isspace() else c for c in string_field(text) if c.isspace() or c.isprintable())


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
        for condition in string_field(dep.get("condition")).strip().split(","):
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
    declared_names = {string_field(d.get("name")) for d in declared}
    enabled = [(s.name, s) for s in chart.subcharts if s.name not in declared_names]
    for dep in kept:
        sub = next((s for s in chart.subcharts if s.name == string_field(dep.get("name"))), None)
        if sub is not None:
            enabled.append((string_field(dep.get("alias") or dep.get("name")), sub))
    return [{**d, "name": d.get("alias") or d.get("name")} for d in kept], _with_subchart_values(chart, enabled)


def _dependency_json(dep: Mapping[str, Any]) -> str:
    imports = dep.get("import-values") or []
    normalized = [
        {"child": str(i.get("child")), "parent": str(i.get("parent"))}
        if isinstance(i, Mapping)
        else {"child": f"exports.{i}", "parent": "."}
        for i in imports
    ]
    return go_struct(
        [
            ("name", go_string(_sanitize(dep.get("name")))),
            ("version", omit_empty_str(_sanitize(dep.get("version")))),
            ("repository", go_string(_sanitize(dep.get("repository")))),
            ("condition", omit_empty_str(_sanitize(dep.get("condition")))),
            ("tags", omit_empty_list([_sanitize(t) for t in dep.get("tags") or []])),
            ("enabled", "true" if dep.get("enabled") else None),
            ("import-values", omit_empty_list(normalized, go_value)),
            ("alias", omit_empty_str(string_field(dep.get("alias")))),
        ]
    )


def _metadata_json(md: Mapping[str, Any], dependencies: Sequence[Mapping[str, Any]]) -> str:
    def text(key: str, sanitize: bool = True) -> str | None:
        value = _meta(md, key)
        return omit_empty_str(_sanitize(value) if sanitize else string_field(value))

    def strings(key: str) -> str | None:
        return omit_empty_list([_sanitize(s) for s in _meta(md, key) or []])

    maintainers = [
        go_struct(
            [
                ("name", omit_empty_str(_sanitize(m.get("name")))),
                ("email", omit_empty_str(_sanitize(m.get("email")))),
                ("url", omit_empty_str(_sanitize(m.get("url")))),
            ]
        )
        for m in _meta(md, "maintainers") or []
        if isinstance(m, Mapping)
    ]
    annotations = _meta(md, "annotations") or {}
    return go_struct(
        [
            ("name", text("name")),
            ("home", text("home")),
            ("sources", strings("sources")),
            ("version", text("version", sanitize=False)),
            ("description", text("description")),
            ("keywords", strings("keywords")),
            ("maintainers", omit_empty_list(maintainers, str)),
            ("icon", text("icon")),
            ("apiVersion", go_string(string_field(_meta(md, "apiVersion")) or "v1")),
            ("condition", text("condition")),
            ("tags", text("tags")),
            ("appVersion", text("appVersion")),
            ("deprecated", "true" if _meta(md, "deprecated") else None),
            ("annotations", go_value({k: string_field(v) for k, v in annotations.items()}) if annotations else None),
            ("kubeVersion", text("kubeVersion")),
            ("dependencies", omit_empty_list(dependencies, _dependency_json)),
            ("type", text("type", sanitize=False)),
        ]
    )


def _lock_json(lock: Mapping[str, Any] | None) -> str:
    if lock is None:
        return "null"
    generated = lock.get("generated")
    deps = [d for d in lock.get("dependencies") or [] if isinstance(d, Mapping)]
    return go_struct(
        [
            ("generated", go_string(go_time(string_field(generated)) if generated else "0001-01-01T00:00:00Z")),
            ("digest", go_string(string_field(lock.get("digest")))),
            ("dependencies", "[" + ",".join(_dependency_json(d) for d in deps) + "]" if deps else "null"),
        ]
    )


def _files_json(files: Sequence[tuple[str, bytes | None]]) -> str:
    if not files:
        return "null"
    return "[" + ",".join(go_struct([("name", go_string(n)), ("data", go_bytes(d))]) for n, d in files) + "]"


def chart_json(chart: LoadedChart, user_values: Mapping[str, Any]) -> str:
    """The ``chart`` of the stored release: the top chart only."""
    dependencies, values = _dependencies(chart, user_values)
    return go_struct(
        [
            ("metadata", _metadata_json(chart.metadata, dependencies)),
            ("lock", _lock_json(chart.lock)),
            ("templates", _files_json(chart.templates)),
            ("values", go_value(values)),
            ("schema", go_bytes(chart.schema)),
            ("files", _files_json(chart.files)),
        ]
    )
