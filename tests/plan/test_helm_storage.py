"""Helm's release Secret: its size, as Helm encodes a release, and the plan's refusal over 1 MiB.

The expected JSON below was checked field by field against what helm v4.1.4 prints for the same
chart (``helm install --dry-run=client -o json``: the same structure, plus v4's own ``modtime``
and ``apply_method`` fields that Helm 3 does not have).
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import tarfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from components.envoy_gateway import crds_values
from homelab.plan import command as plan_cmd
from homelab.plan import helm, helm_storage, render
from homelab.plan.charts import Chart
from tests.conftest import STACKS, PlanRun, need_helm

SHARED = Path(__file__).resolve().parents[3] / "shared" / "charts"
CRDS_PACKAGE = SHARED / "gateway-crds-helm-v1.9.0.tgz"

CRDS_REFUSAL = (
    "envoy-gateway-crds: Helm would store this release in a 2,287,360-byte Secret "
    "(sh.helm.release.v1.envoy-gateway-crds.v1); the API server refuses Secrets over 1,048,576 bytes "
    "(1 MiB). Install a chart this large without a release Secret: as helm.v4.Chart (client-side "
    "render, one resource per object)."
)


@pytest.fixture(scope="module")
def crds_release() -> render.Rendered:
    """gateway-crds-helm v1.9.0 rendered as a helm.v3.Release with the program's values."""
    need_helm()
    spec = render.ReleaseSpec(
        component="envoy-gateway",
        release="envoy-gateway-crds",
        namespace="network",
        chart=Chart("oci://docker.io/envoyproxy/gateway-crds-helm", "v1.9.0"),
        values=crds_values(),
        include_crds=True,
    )
    return render.render_release(spec, helm.find(), CRDS_PACKAGE, "1.35")


def test_gateway_crds_as_a_release_is_refused(crds_release: render.Rendered) -> None:
    """The size and the refusal; the plan's own path through ``check`` is the test below."""
    assert crds_release.package == CRDS_PACKAGE
    assert crds_release.text.startswith("---\n# Source: gateway-crds-helm/templates/")
    spec = crds_release.spec
    found = helm_storage.stored(CRDS_PACKAGE, spec.release, spec.namespace, spec.values, crds_release.text)
    assert found.secret == "sh.helm.release.v1.envoy-gateway-crds.v1"
    assert found.size == 2_287_360
    verdict = helm_storage.verdict(spec.release, found.size)
    assert verdict.refused
    assert verdict.line == CRDS_REFUSAL

    release = json.loads(found.json)
    assert len(found.json) == 10_876_908
    assert [t["name"] for t in release["chart"]["templates"]] == [
        "templates/experimental-gatewayapi-crds.yaml",
        "templates/generated/gateway.envoyproxy.io_backends.yaml",
        "templates/generated/gateway.envoyproxy.io_backendtrafficpolicies.yaml",
        "templates/generated/gateway.envoyproxy.io_clienttrafficpolicies.yaml",
        "templates/generated/gateway.envoyproxy.io_envoyextensionpolicies.yaml",
        "templates/generated/gateway.envoyproxy.io_envoypatchpolicies.yaml",
        "templates/generated/gateway.envoyproxy.io_envoyproxies.yaml",
        "templates/generated/gateway.envoyproxy.io_httproutefilters.yaml",
        "templates/generated/gateway.envoyproxy.io_securitypolicies.yaml",
        "templates/standard-gatewayapi-crds.yaml",
    ]
    assert [f["name"] for f in release["chart"]["files"]] == [".helmignore", "README.md", "values.tmpl.yaml"]
    assert release["config"] == crds_values()
    assert "hooks" not in release
    # 21 CRDs, a ValidatingAdmissionPolicy and its binding, and a document of comments only
    assert release["manifest"].count("---\n# Source: gateway-crds-helm/templates/") == 24
    assert release["manifest"].count("\nkind: CustomResourceDefinition\n") == 21


def test_a_helm_v4_chart_is_not_checked(crds_release: render.Rendered) -> None:
    assert helm_storage.check([crds_release], is_stored=lambda spec: False) == []
    assert helm_storage.stored_by_helm(SimpleNamespace(stored=False)) is False
    assert helm_storage.stored_by_helm(SimpleNamespace(stored=True)) is True


def test_the_plan_refuses_a_release_over_the_limit(
    crds_release: render.Rendered, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(render, "render", lambda *args, **kwargs: [crds_release])
    code = plan_cmd.main(["--stack", "staging", "--out", str(tmp_path), "--no-validate"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"error: a Helm release cannot be stored:\n  - {CRDS_REFUSAL}\n" in err
    assert "nothing written" in err
    assert not (tmp_path / "staging").exists()


#: Each release of the checked-in stacks: what Helm stores, in bytes (cilium's chart makes new
#: certificates on every render, so its size moves by a few hundred bytes).
STACK_SIZES = {
    "cert-manager": (470_000, 480_000),
    "cilium": (395_000, 410_000),
    "coredns": (40_000, 42_000),
    "envoy-gateway": (27_500, 29_000),
    "external-dns-cloudflare": (48_000, 50_000),
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_release_of_the_stacks_fits(planned: dict[str, PlanRun], stack: str) -> None:
    run = planned[stack]
    assert run.code == 0, run.err
    lines = run.out.split("\nHelm release Secrets (estimated; the API server refuses over 1,048,576 bytes):\n")[1]
    sizes: dict[str, int] = {}
    for line in lines.split("\n\n")[0].splitlines():
        release, size, unit, share = line.split()
        assert unit == "bytes"
        sizes[release] = int(size.replace(",", ""))
        assert float(share.rstrip("%")) < 97.0
    assert sizes.keys() == STACK_SIZES.keys()  # envoy-gateway-crds is a helm.v4.Chart: no Secret
    for release, (low, high) in STACK_SIZES.items():
        assert low <= sizes[release] <= high, release
    assert "warning:" not in run.err


# ---------------------------------------------------------------------------------------------
# the release JSON, byte for byte, for a chart built here


def package(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


TINY = [
    (
        "tiny/Chart.yaml",
        b"apiVersion: v2\nname: tiny\nversion: 0.1.0\ndescription: |\n  A tiny\n  chart\n"
        b"annotations:\n  b: two\n  a: one\n"
        b'dependencies:\n- name: sub\n  version: 0.1.0\n  repository: ""\n  condition: sub.enabled\n',
    ),
    ("tiny/values.yaml", b'\xef\xbb\xbfgreeting: "<hi> & bye"\nratio: 1.0\nn: off\nsub:\n  enabled: true\n'),
    ("tiny/values.schema.json", b'{"type": "object"}\n'),
    ("tiny/templates/_helpers.tpl", b'{{- define "tiny.name" -}}tiny{{- end }}\n'),
    (
        "tiny/templates/cm.yaml",
        b'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include "tiny.name" . }}\n'
        b"data:\n  greeting: {{ .Values.greeting | quote }}\n",
    ),
    (
        "tiny/templates/hook.yaml",
        b"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: setup\n  annotations:\n"
        b'    helm.sh/hook: Pre-Install, test-success\n    helm.sh/hook-weight: "-5"\n'
        b"    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded\nspec: {}\n",
    ),
    ("tiny/templates/NOTES.txt", b"Installed {{ .Release.Name }}.\n"),
    ("tiny/crds/crd.yaml", b"kind: CustomResourceDefinition\n"),
    ("tiny/README.md", b"# tiny \xe2\x80\xa8\n"),
    ("tiny/.helmignore", b"*.tmp\n"),
    ("tiny/charts/sub/Chart.yaml", b"apiVersion: v2\nname: sub\nversion: 0.1.0\n"),
    ("tiny/charts/sub/values.yaml", b"size: 3\n"),
    (
        "tiny/charts/sub/templates/s.yaml",
        b'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n  size: "{{ .Values.size }}"\n',
    ),
]

TINY_JSON = (
    '{"name":"rel","info":{"first_deployed":"2026-12-06T11:13:46.123456789+01:00",'
    '"last_deployed":"2026-12-06T11:13:46.123456789+01:00","deleted":"","description":"Initial install underway",'
    '"status":"pending-install","notes":"Installed {{ .Release.Name }}.\\n"},'
    '"chart":{"metadata":{"name":"tiny","version":"0.1.0","description":"A tiny chart ","apiVersion":"v2",'
    '"annotations":{"a":"one","b":"two"},'
    '"dependencies":[{"name":"sub","version":"0.1.0","repository":"","condition":"sub.enabled","enabled":true}]},'
    '"lock":null,'
    '"templates":[{"name":"templates/_helpers.tpl","data":"e3stIGRlZmluZSAidGlueS5uYW1lIiAtfX10aW55e3stIGVuZCB9fQo="},'
    '{"name":"templates/cm.yaml","data":"YXBpVmVyc2lvbjogdjEKa2luZDogQ29uZmlnTWFwCm1ldGFkYXRhOgogIG5hbWU6IHt7IGluY2x1'
    'ZGUgInRpbnkubmFtZSIgLiB9fQpkYXRhOgogIGdyZWV0aW5nOiB7eyAuVmFsdWVzLmdyZWV0aW5nIHwgcXVvdGUgfX0K"},'
    '{"name":"templates/hook.yaml","data":"YXBpVmVyc2lvbjogYmF0Y2gvdjEKa2luZDogSm9iCm1ldGFkYXRhOgogIG5hbWU6IHNldHVwC'
    "iAgYW5ub3RhdGlvbnM6CiAgICBoZWxtLnNoL2hvb2s6IFByZS1JbnN0YWxsLCB0ZXN0LXN1Y2Nlc3MKICAgIGhlbG0uc2gvaG9vay13ZWlnaHQ6"
    'ICItNSIKICAgIGhlbG0uc2gvaG9vay1kZWxldGUtcG9saWN5OiBiZWZvcmUtaG9vay1jcmVhdGlvbixob29rLXN1Y2NlZWRlZApzcGVjOiB7fQo="},'
    '{"name":"templates/NOTES.txt","data":"SW5zdGFsbGVkIHt7IC5SZWxlYXNlLk5hbWUgfX0uCg=="}],'
    '"values":{"false":false,"greeting":"\\u003chi\\u003e \\u0026 bye","ratio":1,'
    '"sub":{"enabled":true,"global":{},"size":3}},'
    '"schema":"eyJ0eXBlIjogIm9iamVjdCJ9Cg==",'
    '"files":[{"name":"crds/crd.yaml","data":"a2luZDogQ3VzdG9tUmVzb3VyY2VEZWZpbml0aW9uCg=="},'
    '{"name":"README.md","data":"IyB0aW55IOKAqAo="},{"name":".helmignore","data":"Ki50bXAK"}]},'
    '"config":{"note":"a\\u003cb\\u003e\\u0026c\\u2028d\\u2029","replicas":2},'
    '"manifest":"---\\n# Source: tiny/charts/sub/templates/s.yaml\\napiVersion: v1\\nkind: ConfigMap\\n'
    'metadata:\\n  name: sub\\ndata:\\n  size: \\"3\\"\\n---\\n# Source: tiny/templates/cm.yaml\\napiVersion: v1\\n'
    'kind: ConfigMap\\nmetadata:\\n  name: tiny\\ndata:\\n  greeting: \\"\\u003chi\\u003e \\u0026 bye\\"\\n",'
    '"hooks":[{"name":"setup","kind":"Job","path":"tiny/templates/hook.yaml",'
    '"manifest":"apiVersion: batch/v1\\nkind: Job\\nmetadata:\\n  name: setup\\n  annotations:\\n'
    '    helm.sh/hook: Pre-Install, test-success\\n    helm.sh/hook-weight: \\"-5\\"\\n'
    '    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded\\nspec: {}",'
    '"events":["pre-install","test"],"last_run":{"started_at":"","completed_at":"","phase":""},"weight":-5,'
    '"delete_policies":["before-hook-creation","hook-succeeded"]}],'
    '"version":1,"namespace":"ns"}'
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> render.Rendered:
    """The chart above, rendered by helm as the plan renders a release (with its CRDs)."""
    need_helm()
    path = tmp_path_factory.mktemp("charts") / "tiny-0.1.0.tgz"
    path.write_bytes(package(TINY))
    spec = render.ReleaseSpec(
        component="tiny",
        release="rel",
        namespace="ns",
        chart=Chart("tiny", "0.1.0", "https://example.com/charts"),
        values={"replicas": 2, "note": "a<b>&c\u2028d\u2029"},
        include_crds=True,
    )
    return render.render_one(spec, helm.find(), path, "1.35")


def decoded(secret_data: str) -> str:
    """The release JSON back from the Secret's data: base64, then gunzip."""
    return gzip.decompress(base64.b64decode(secret_data, validate=True)).decode()


def test_release_json_of_a_tiny_chart(tiny: render.Rendered) -> None:
    assert tiny.package is not None
    assert "# Source: tiny/crds/crd.yaml" in tiny.text  # helm printed it; Helm does not store it
    spec = tiny.spec
    data = helm_storage.release_json(
        helm_storage.load_chart(tiny.package), spec.release, spec.namespace, spec.values, tiny.text
    )
    secret = helm_storage.encode(data)
    assert decoded(secret) == TINY_JSON
    assert secret.startswith("H4sI")  # gzip's magic number, in base64
    found = helm_storage.stored(tiny.package, spec.release, spec.namespace, spec.values, tiny.text)
    assert found.size == len(secret) == 1_672
    # the same size from Python's own gzip module at level 9 and base64
    assert len(base64.b64encode(gzip.compress(TINY_JSON.encode(), compresslevel=9))) == 1_672
    release = json.loads(decoded(secret))
    template = release["chart"]["templates"][1]
    assert base64.b64decode(template["data"]) == (
        b'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include "tiny.name" . }}\n'
        b"data:\n  greeting: {{ .Values.greeting | quote }}\n"
    )
    assert release["chart"]["files"][1] == {"name": "README.md", "data": "IyB0aW55IOKAqAo="}
    assert base64.b64decode("IyB0aW55IOKAqAo=").decode() == "# tiny \u2028\n"


def test_rendered_output_splits_into_manifest_and_hooks() -> None:
    text = (
        "---\n# Source: c/crds/a.yaml\nkind: CustomResourceDefinition\n\n"
        "---\n# Source: c/charts/s/crds/b.yaml\nkind: CustomResourceDefinition\n\n"
        "---\n# Source: c/templates/crds/c.yaml\nkind: CustomResourceDefinition\n"
        "---\n# Source: c/templates/t.yaml\nkind: Pod\nmetadata:\n  annotations:\n    other: helm.sh/hook\n"
        "---\n# Source: c/templates/h.yaml\nkind: Pod\nmetadata:\n  name: h\n  annotations:\n"
        "    helm.sh/hook: post-install\n    helm.sh/hook-weight: x\n"
        "    helm.sh/hook-output-log-policy: hook-failed\n"
        "---\n# Source: c/templates/u.yaml\nkind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: on-coffee\n"
    )
    manifest, hooks = helm_storage.split_rendered(text)
    assert manifest == (
        "---\n# Source: c/templates/crds/c.yaml\nkind: CustomResourceDefinition\n"
        "---\n# Source: c/templates/t.yaml\nkind: Pod\nmetadata:\n  annotations:\n    other: helm.sh/hook\n"
    )
    (hook,) = hooks  # the unknown event's document is dropped, as Helm drops it
    assert hook.json() == (
        '{"name":"h","kind":"Pod","path":"c/templates/h.yaml","manifest":"kind: Pod\\nmetadata:\\n  name: h\\n'
        "  annotations:\\n    helm.sh/hook: post-install\\n    helm.sh/hook-weight: x\\n"
        '    helm.sh/hook-output-log-policy: hook-failed","events":["post-install"],'
        '"last_run":{"started_at":"","completed_at":"","phase":""},"output_log_policies":["hook-failed"]}'
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (2, "2"),
        (0.5, "0.5"),
        (-3.25, "-3.25"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (123456789.125, "123456789.125"),
        (
            "<a href='x'>&\u2028\u2029\x08\x0c\x01\"\\\t",
            '"\\u003ca href=\'x\'\\u003e\\u0026\\u2028\\u2029\\b\\f\\u0001\\"\\\\\\t"',
        ),
        ({"b": [True, None], "a": {"é": "ü"}}, '{"a":{"é":"ü"},"b":[true,null]}'),
    ],
)
def test_values_are_written_as_go_writes_them(value: Any, expected: str) -> None:
    assert helm_storage.go_value(value) == expected


def test_chart_yaml_numbers_and_booleans_as_go_yaml_reads_them() -> None:
    loaded = helm_storage.load_chart(
        package(
            [
                ("c/Chart.yaml", b"apiVersion: v2\nname: c\nversion: 1.0.0\n"),
                ("c/values.yaml", b"y: n\nlist: [yes, Off, 1e3, 0x10, 017, 1_000, ~]\n"),
                ("c/templates/empty.yaml", b""),
            ]
        )
    )
    assert helm_storage.go_value(loaded.values) == '{"list":[true,false,1000,16,15,1000,null],"true":false}'
    assert helm_storage.chart_json(loaded, {}).endswith(
        ',"templates":[{"name":"templates/empty.yaml","data":null}],'
        '"values":{"list":[true,false,1000,16,15,1000,null],"true":false},"schema":null,"files":null}'
    )


def test_subcharts_as_install_leaves_them_in_the_stored_chart() -> None:
    """Enabled dependencies stay in the metadata (``enabled: true``, by alias) and their values
    join the chart's with the parent's globals; a disabled one leaves both. ``off`` and ``y`` are
    YAML 1.1 booleans to Go's YAML reader: a chart named ``off`` is named ``false``."""
    loaded = helm_storage.load_chart(
        package(
            [
                (
                    "p/Chart.yaml",
                    b"apiVersion: v2\nname: p\nversion: 0.1.0\ndependencies:\n"
                    b'- name: s\n  version: 0.1.0\n  repository: ""\n  alias: al\n'
                    b'- name: off\n  version: 0.1.0\n  repository: ""\n  condition: off.enabled,x\n'
                    b'- name: gone\n  version: 0.1.0\n  repository: ""\n  condition: gone.enabled\n',
                ),
                (
                    "p/values.yaml",
                    b"global:\n  a: 1\n  t:\n    x: 1\nal:\n  mine: true\noff:\n  enabled: false\n"
                    b"gone:\n  enabled: false\n",
                ),
                ("p/charts/s/Chart.yaml", b"apiVersion: v2\nname: s\nversion: 0.1.0\n"),
                ("p/charts/s/values.yaml", b"global:\n  b: 3\n  t:\n    y: 2\nsize: 3\n"),
                ("p/charts/off/Chart.yaml", b"apiVersion: v2\nname: off\nversion: 0.1.0\n"),
                ("p/charts/off/values.yaml", b"z: 1\n"),
                ("p/charts/gone/Chart.yaml", b"apiVersion: v2\nname: gone\nversion: 0.1.0\n"),
                ("p/charts/gone/values.yaml", b"big: 1\n"),
            ]
        )
    )
    # what helm v4.1.4 `install --dry-run=client -o json` stores for this chart, field for field
    assert helm_storage.chart_json(loaded, {}) == (
        '{"metadata":{"name":"p","version":"0.1.0","apiVersion":"v2","dependencies":['
        '{"name":"al","version":"0.1.0","repository":"","enabled":true,"alias":"al"},'
        '{"name":"false","version":"0.1.0","repository":"","condition":"off.enabled,x","enabled":true}]},'
        '"lock":null,"templates":null,'
        '"values":{"al":{"global":{"a":1,"b":3,"t":{"true":2,"x":1}},"mine":true,"size":3},'
        '"false":{"enabled":false,"global":{"a":1,"t":{"x":1}},"z":1},"global":{"a":1,"t":{"x":1}},'
        '"gone":{"enabled":false}},"schema":null,"files":null}'
    )


# ---------------------------------------------------------------------------------------------
# at the limit


BIG_MANIFEST = "---\n# Source: big/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n"


def big_chart(blob: int) -> bytes:
    """A chart carrying ``blob`` bytes of noise in ``files/``: stored nearly as is."""
    return package(
        [
            ("big/Chart.yaml", b"apiVersion: v2\nname: big\nversion: 1.0.0\n"),
            ("big/templates/cm.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n"),
            ("big/files/blob.bin", random.Random(7).randbytes(blob)),
        ]
    )


@pytest.mark.parametrize(
    ("blob", "size", "refused", "warned"),
    [
        (700_000, 943_292, False, False),
        (778_158, 1_048_576, False, True),  # exactly the limit: the API server takes it
        (778_159, 1_048_584, True, False),
    ],
)
def test_a_chart_just_under_and_just_over_the_limit(blob: int, size: int, refused: bool, warned: bool) -> None:
    found = helm_storage.stored(big_chart(blob), "big", "default", {}, BIG_MANIFEST)
    assert found.size == size
    verdict = helm_storage.verdict("big", found.size)
    assert (verdict.refused, verdict.warned) == (refused, warned)


def test_verdicts_at_the_edges() -> None:
    assert helm_storage.verdict("big", 1_048_577).line == (
        "big: Helm would store this release in a 1,048,577-byte Secret (sh.helm.release.v1.big.v1); the API "
        "server refuses Secrets over 1,048,576 bytes (1 MiB). Install a chart this large without a release "
        "Secret: as helm.v4.Chart (client-side render, one resource per object)."
    )
    assert helm_storage.verdict("big", 1_017_119).line == (
        "big: Helm would store this release in a 1,017,119-byte Secret (sh.helm.release.v1.big.v1), 97.0% of "
        "the API server's 1,048,576-byte limit; the estimate is within 3% of the size Helm's Go gzip gives, so "
        "it may not fit. Every upgrade stores a new revision of the same size: a chart this close to the limit "
        "belongs in helm.v4.Chart."
    )
    assert not helm_storage.verdict("big", 1_017_118).warned
    assert helm_storage.verdict("big", 40_956).line == "big: 40,956 bytes (3.9% of 1 MiB)"
