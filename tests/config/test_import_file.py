"""The import plan file (homelab/config/imports.py): what `homelab adopt` writes and the program
reads; every way it can be wrong is refused with the file, the line, the entry and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.config.imports import (
    DNS_RECORD,
    HELM_RELEASE,
    TUNNEL,
    Entry,
    ImportFileError,
    ImportPlan,
    import_file,
    import_plan_text,
    read_import_plan,
)

ACCOUNT = "0123456789abcdef0123456789abcdef"
TUNNEL_ID = "2f1c3c5e-8a1b-4c7d-9e2f-0a1b2c3d4e5f"
AGAIN = "run `make adopt STACK=main` again, or delete main.imports.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "main.imports.yaml"
    path.write_text(text)
    return path


def test_the_file_sits_beside_the_stack_file_under_a_name_no_stack_has() -> None:
    assert import_file(Path("/p/Pulumi.main.yaml")) == Path("/p/main.imports.yaml")
    assert import_file(Path("/p/Pulumi.lab.2.yaml")) == Path("/p/lab.2.imports.yaml")


def test_what_adopt_writes_reads_back(tmp_path: Path) -> None:
    plan = ImportPlan(
        "main",
        "main.imports.yaml",
        (
            Entry("cilium-release", HELM_RELEASE, "kube-system/cilium"),
            Entry("envoy-gateway-namespace", "kubernetes:core/v1:Namespace", "network"),
            Entry("cloudflare-tunnel-tunnel", TUNNEL, f"{ACCOUNT}/{TUNNEL_ID}"),
            Entry("cloudflare-tunnel-dns", DNS_RECORD, f"{ACCOUNT}/{'f' * 32}"),
        ),
    )
    text = import_plan_text(plan)
    assert text.endswith(
        "stack: main\n"
        "imports:\n"
        "  - resource: cilium-release\n"
        "    type: kubernetes:helm.sh/v3:Release\n"
        "    id: kube-system/cilium\n"
        "  - resource: envoy-gateway-namespace\n"
        "    type: kubernetes:core/v1:Namespace\n"
        "    id: network\n"
        "  - resource: cloudflare-tunnel-tunnel\n"
        "    type: cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared\n"
        f"    id: {ACCOUNT}/{TUNNEL_ID}\n"
        "  - resource: cloudflare-tunnel-dns\n"
        "    type: cloudflare:index/dnsRecord:DnsRecord\n"
        f"    id: {ACCOUNT}/{'f' * 32}\n"
    )
    assert text.startswith("# Written by `homelab adopt --stack main`")
    back = read_import_plan(write(tmp_path, text), "main")
    assert back is not None
    assert [(e.resource, e.type, e.id) for e in back.entries] == [(e.resource, e.type, e.id) for e in plan.entries]
    assert [e.line for e in back.entries] == [7, 10, 13, 16]


def test_no_file_is_no_plan(tmp_path: Path) -> None:
    assert read_import_plan(tmp_path / "main.imports.yaml", "main") is None


ENTRY = "stack: main\nimports:\n  - resource: {resource}\n    type: {type}\n    id: {id}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", f"main.imports.yaml:1: an import plan is a mapping of `stack:` and `imports:` only; {AGAIN}"),
        (
            "stack: staging\nimports: []\n",
            "main.imports.yaml:1: the import plan of stack 'staging', not of 'main'; each stack has its own "
            f"(main.imports.yaml); {AGAIN}",
        ),
        ("stack: main\nimports: {a: 1}\n", f"main.imports.yaml:2: `imports:` is a mapping; it is a list; {AGAIN}"),
        (
            "stack: main\nimports:\n  - resource: x\n",
            f"main.imports.yaml:3: imports[0]: an entry is a mapping of `resource`, `type` and `id`; {AGAIN}",
        ),
        (
            ENTRY.format(resource="x", type=HELM_RELEASE, id="3"),
            f"main.imports.yaml:3: imports[0]: `resource`, `type` and `id` are text, none empty; {AGAIN}",
        ),
        (
            ENTRY.format(resource="cilium-release", type=HELM_RELEASE, id="cilium"),
            "main.imports.yaml:3: imports[0]: id 'cilium' is not <namespace>/<release> for a "
            f"kubernetes:helm.sh/v3:Release; {AGAIN}",
        ),
        (
            ENTRY.format(resource="envoy-gateway-namespace", type="kubernetes:core/v1:Namespace", id="x/network"),
            "main.imports.yaml:3: imports[0]: id 'x/network' is not <name> for a kubernetes:core/v1:Namespace; "
            f"{AGAIN}",
        ),
        (
            ENTRY.format(resource="r", type="kubernetes:gateway.networking.k8s.io/v1:Gateway", id="envoy-external"),
            "main.imports.yaml:3: imports[0]: id 'envoy-external' is not <namespace>/<name> for a "
            f"kubernetes:gateway.networking.k8s.io/v1:Gateway; {AGAIN}",
        ),
        (
            ENTRY.format(resource="t", type=TUNNEL, id=f"{ACCOUNT}/homelab-main"),
            f"main.imports.yaml:3: imports[0]: id '{ACCOUNT}/homelab-main' is not <account id>/<tunnel id> for a "
            f"{TUNNEL}; {AGAIN}",
        ),
        (
            ENTRY.format(resource="d", type=DNS_RECORD, id="example.com/external"),
            "main.imports.yaml:3: imports[0]: id 'example.com/external' is not <zone id>/<record id> for a "
            f"{DNS_RECORD}; {AGAIN}",
        ),
        (
            ENTRY.format(resource="cloudflare-tunnel-secret", type="random:index/randomBytes:RandomBytes", id="abc"),
            "main.imports.yaml:3: imports[0]: cloudflare-tunnel-secret is a random:index/randomBytes:RandomBytes, "
            "which cannot be imported (its value cannot be read back, or it is not one resource); remove the entry",
        ),
        (
            ENTRY.format(resource="envoy-gateway-crds", type="kubernetes:helm.sh/v4:Chart", id="network/crds"),
            "main.imports.yaml:3: imports[0]: envoy-gateway-crds is a kubernetes:helm.sh/v4:Chart, which cannot be "
            "imported (its value cannot be read back, or it is not one resource); remove the entry",
        ),
        (
            ENTRY.format(resource="cilium-release", type=HELM_RELEASE, id="kube-system/cilium")
            + "  - resource: cilium-release\n    type: kubernetes:helm.sh/v3:Release\n    id: kube-system/cilium\n",
            "main.imports.yaml:6: imports[1]: cilium-release is already imported at line 3; keep one",
        ),
        (
            "stack: main\nimports: [\n",
            "main.imports.yaml:3: not valid YAML: expected the node content, but found '<stream end>' "
            "(while parsing a flow node)",
        ),
    ],
    ids=[
        "not-a-mapping",
        "another-stack",
        "imports-not-a-list",
        "entry-incomplete",
        "id-not-text",
        "release-id",
        "cluster-scoped-id",
        "namespaced-id",
        "tunnel-id",
        "record-id",
        "not-importable",
        "v4-chart",
        "twice",
        "yaml",
    ],
)
def test_an_unusable_import_plan_is_refused_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ImportFileError) as err:
        read_import_plan(write(tmp_path, text), "main")
    assert str(err.value) == message


def test_an_import_plan_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "main.imports.yaml").mkdir()
    with pytest.raises(ImportFileError) as err:
        read_import_plan(tmp_path / "main.imports.yaml", "main")
    assert str(err.value) == "main.imports.yaml: cannot read it: Is a directory"
