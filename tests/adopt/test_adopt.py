"""``homelab adopt`` against the loopback fakes (tests/support/fakes.py, the Flux homelab in
tests/support/adopt_support.py): the command, its report, the import plan it writes, and its
refusals (another stack's import plan, an unreachable cluster, the wrong context).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from homelab.config.imports import read_import_plan
from homelab.doctor.kube import METADATA
from tests.support import adopt_support, preflight_support
from tests.support.adopt_support import Adopt, Run
from tests.support.fakes import closed_port, write_kubeconfig

# the shared fixtures: pytest finds them under these names (module-scoped: one server per module)
loopback_only = preflight_support.loopback_only
server = adopt_support.server
adopt = adopt_support.adopt

#: ``homelab adopt --stack main`` against Flux's homelab, everything adoptable ({url}: the fake's).
REPORT = [
    "homelab adopt: stack main (context main, domain example.com, zone example.com)",
    "",
    "Access",
    "  PASS  cluster main                                  {url}, Kubernetes v1.35.0",
    "  PASS  cluster identity                              Cilium calls this cluster main (cluster-id 1)",
    "  PASS  Cloudflare API                                token from $CLOUDFLARE_API_TOKEN, accepted",
    "  PASS  account                                       0123456789abcdef0123456789abcdef: zone "
    "example.com is 023e105f4ecef8ad9ca31a8372d0c353",
    "",
    "Helm releases",
    "  PASS  Helm release cert-manager/cert-manager        importable as cert-manager/cert-manager: "
    "revision 2 deployed, chart cert-manager v1.21.1, Flux HelmRelease cert-manager/cert-manager",
    "  WARN  Helm release kube-system/cilium               importable as kube-system/cilium: "
    "revision 2 deployed, chart cilium 1.19.1, Flux HelmRelease kube-system/cilium; the first up "
    "changes 3 fields (below)",
    "                                                      fix: the first up upgrades it (helm "
    "upgrade with the program's values: a value only the running release has is dropped); suspend "
    "Flux HelmRelease kube-system/cilium first (below)",
    "  PASS  Helm release kube-system/coredns              importable as kube-system/coredns: "
    "revision 2 deployed, chart coredns 1.46.2, Flux HelmRelease kube-system/coredns",
    "  PASS  Helm release network/envoy-gateway            importable as network/envoy-gateway: "
    "revision 2 deployed, chart gateway-helm v1.9.0, Flux HelmRelease network/envoy-gateway",
    "  WARN  Helm release network/external-dns-cloudflare  importable as "
    "network/external-dns-cloudflare: revision 2 deployed, chart external-dns 1.21.1, Flux "
    "HelmRelease network/external-dns-cloudflare; the first up changes 4 fields (below)",
    "                                                      fix: the first up upgrades it (helm "
    "upgrade with the program's values: a value only the running release has is dropped); suspend "
    "Flux HelmRelease network/external-dns-cloudflare first (below)",
    "",
    "Kubernetes objects",
    "  PASS  Namespace cert-manager                        importable as cert-manager: Flux "
    "Kustomization flux-system/cluster-apps",
    "  PASS  Namespace home-automation                     importable as home-automation: Flux "
    "Kustomization flux-system/cluster-apps",
    "  PASS  Namespace network                             importable as network: Flux Kustomization "
    "flux-system/cluster-apps",
    "  PASS  Namespace observability                       importable as observability: Flux "
    "Kustomization flux-system/cluster-apps",
    "  PASS  BackendTrafficPolicy network/envoy            importable as network/envoy: Flux "
    "Kustomization flux-system/cluster-apps",
    "  PASS  Certificate network/wildcard-tls              importable as network/wildcard-tls: Flux "
    "Kustomization flux-system/cluster-apps",
    "  PASS  CiliumL2AnnouncementPolicy l2-policy          importable as l2-policy: Flux "
    "Kustomization flux-system/cluster-apps",
    "  PASS  CiliumLoadBalancerIPPool main-pool            importable as main-pool: Flux "
    "Kustomization flux-system/cluster-apps",
    "  PASS  ClientTrafficPolicy network/envoy             importable as network/envoy: Flux "
    "Kustomization flux-system/cluster-apps",
    "  WARN  ClusterIssuer letsencrypt-prod                importable as letsencrypt-prod: Flux "
    "Kustomization flux-system/cluster-apps; the first up changes 1 field (below)",
    "                                                      fix: kustomize-controller owns fields up "
    'changes: a server-side apply conflict unless pulumi.com/patchForce: "true" (or the provider\'s '
    'enablePatchForce) takes them over (DESIGN.md "Adopting a running homelab")',
    "  PASS  ClusterIssuer letsencrypt-staging             importable as letsencrypt-staging: Flux "
    "Kustomization flux-system/cluster-apps",
    "  WARN  Deployment network/cloudflared                importable as network/cloudflared: Helm "
    "release network/cloudflared of Flux HelmRelease network/cloudflared; the first up changes 2 "
    "fields (below)",
    "                                                      fix: Helm release network/cloudflared "
    "made it: a revision without it, or an uninstall, deletes it; keep it with kubectl --context "
    "main -n network annotate deployments.apps cloudflared helm.sh/resource-policy=keep; "
    "helm-controller owns fields up changes: a server-side apply conflict unless "
    'pulumi.com/patchForce: "true" (or the provider\'s enablePatchForce) takes them over (DESIGN.md '
    '"Adopting a running homelab")',
    "  PASS  EnvoyProxy network/envoy                      importable as network/envoy: Flux "
    "Kustomization flux-system/cluster-apps",
    "  PASS  Gateway network/envoy-external                importable as network/envoy-external: "
    "Flux Kustomization flux-system/cluster-apps",
    "  PASS  Gateway network/envoy-internal                importable as network/envoy-internal: "
    "Flux Kustomization flux-system/cluster-apps",
    "  PASS  GatewayClass envoy                            importable as envoy: Flux Kustomization "
    "flux-system/cluster-apps",
    "  PASS  HTTPRoute home-automation/home-assistant      importable as "
    "home-automation/home-assistant: Flux Kustomization flux-system/cluster-apps",
    "  PASS  HTTPRoute network/https-redirect              importable as network/https-redirect: "
    "Flux Kustomization flux-system/cluster-apps",
    "  PASS  HTTPRoute observability/grafana               importable as observability/grafana: Flux "
    "Kustomization flux-system/cluster-apps",
    "  PASS  PodDisruptionBudget network/cloudflared       importable as network/cloudflared: Flux "
    "Kustomization flux-system/cluster-apps",
    "  WARN  Secret cert-manager/cloudflare-api-token      importable as "
    "cert-manager/cloudflare-api-token: Flux Kustomization flux-system/cluster-apps",
    "                                                      fix: kustomize-controller owns fields up "
    'changes: a server-side apply conflict unless pulumi.com/patchForce: "true" (or the provider\'s '
    'enablePatchForce) takes them over (DESIGN.md "Adopting a running homelab"); its data is not read here: '
    "the first up writes the stack's own into it",
    "  WARN  Secret network/cloudflared-tunnel             importable as network/cloudflared-tunnel: "
    "Flux Kustomization flux-system/cluster-apps",
    "                                                      fix: kustomize-controller owns fields up "
    'changes: a server-side apply conflict unless pulumi.com/patchForce: "true" (or the provider\'s '
    'enablePatchForce) takes them over (DESIGN.md "Adopting a running homelab"); its data is not read here: '
    "the first up writes the stack's own into it",
    "  WARN  Secret network/external-dns-cloudflare        importable as "
    "network/external-dns-cloudflare: Flux Kustomization flux-system/cluster-apps",
    "                                                      fix: kustomize-controller owns fields up "
    'changes: a server-side apply conflict unless pulumi.com/patchForce: "true" (or the provider\'s '
    'enablePatchForce) takes them over (DESIGN.md "Adopting a running homelab"); its data is not read here: '
    "the first up writes the stack's own into it",
    "  WARN  objects of Chart network/envoy-gateway-crds   2 of 2 objects there (no owner label): a "
    "helm.v4.Chart's objects cannot take the import option from this program",
    "                                                      fix: the first `pulumi up` needs "
    "PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true: the provider then applies each with server-side apply "
    "instead of failing 'already exists' (unconfirmed for a helm.v4.Chart's objects); a field "
    "another manager owns with another value is a conflict (pulumi.com/patchForce; DESIGN.md "
    '"Adopting a running homelab"); never delete a CRD to make room: that deletes every object of '
    "its kind",
    "",
    "Cloudflare objects",
    "  PASS  tunnel homelab-main                           absent: up creates it, remotely managed, in account "
    "0123456789abcdef0123456789abcdef",
    "  PASS  tunnel configuration homelab-main             absent: up creates it with the tunnel",
    "  WARN  record external.example.com                   importable as "
    "023e105f4ecef8ad9ca31a8372d0c353/372e67954025e0ba6aaa6d586b9e0b59: CNAME to "
    "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com, proxied; the first up changes 2 fields "
    "(below)",
    "                                                      fix: external-dns owns it: TXT "
    "k8s.cname-external.example.com (owner default); delete the TXT record(s) in the dashboard (DNS "
    "> Records of example.com) right after the import, so only Pulumi manages it",
    "",
    "36 checks: 27 PASS, 9 WARN, 0 FAIL",
    "",
    "What the first up changes on what runs (program's value on the right; secrets never shown)",
    "  Helm release kube-system/cilium (revision 2, chart cilium 1.19.1)",
    "    chart: cilium 1.19.1 -> cilium 1.20.0",
    "    values.bgpControlPlane.enabled: (unset) -> false",
    "    values.hubble.enabled: true -> (unset)",
    "  Helm release network/external-dns-cloudflare (revision 2, chart external-dns 1.21.1)",
    "    values.env[0].value: [secret] -> (unset)",
    '    values.env[0].valueFrom.secretKeyRef.key: (unset) -> "api-token"',
    '    values.env[0].valueFrom.secretKeyRef.name: (unset) -> "external-dns-cloudflare"',
    "    values.podAnnotations.checksum/cloudflare-token: (unset) -> [known at up]",
    "  ClusterIssuer letsencrypt-prod",
    '    spec.acme.email: "me@old.example.com" -> "admin@example.com"',
    "  Deployment network/cloudflared",
    "    spec.replicas: 1 -> 2",
    "    spec.template.metadata.annotations.checksum/tunnel-token: (unset) -> [known at up]",
    "  objects of Chart network/envoy-gateway-crds, taken over with server-side apply",
    "    CustomResourceDefinition gatewayclasses.gateway.networking.k8s.io",
    "    CustomResourceDefinition envoyproxies.gateway.envoyproxy.io",
    "  record external.example.com",
    '    comment: null -> "Cloudflare Tunnel homelab-main (managed by Pulumi, homelab)"',
    '    content: "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415.cfargotunnel.com" -> "<the new tunnel\'s id>.cfargotunnel.com"',
    "",
    "Import plan: wrote main.imports.yaml: 29 imports (the lines 'importable as' above). Next:",
    "  1. review it and the changes above, then commit it",
    "  2. before `pulumi up`, stop Flux reconciling what is imported (a suspended HelmRelease "
    "deleted later leaves its release and objects; mark what is kept kustomize.toolkit.fluxcd.io/prune: "
    'disabled before removing it from the Git repository Flux syncs, README "Adopting a running homelab"):',
    "       flux --context main suspend helmrelease cert-manager -n cert-manager",
    "       flux --context main suspend helmrelease cilium -n kube-system",
    "       flux --context main suspend helmrelease coredns -n kube-system",
    "       flux --context main suspend helmrelease cloudflared -n network",
    "       flux --context main suspend helmrelease envoy-gateway -n network",
    "       flux --context main suspend helmrelease external-dns-cloudflare -n network",
    "       flux --context main suspend kustomization cluster-apps -n flux-system",
    "  3. the first `pulumi up` needs PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true: objects of Chart "
    "network/envoy-gateway-crds (above)",
    "  4. make plan STACK=main, then pulumi preview --stack main: it should import 29 resources and "
    "change only what is listed above; if preview fails an imported release with 'non-absolute URLs "
    "should be in form of repo_name/path_to_chart', that is pulumi-kubernetes#3502 (open; DESIGN.md "
    '"Adopting a running homelab")',
    "",
]

#: The import plan it writes, byte for byte.
IMPORT_PLAN = [
    "# Written by `homelab adopt --stack main`: the resources the next `pulumi up` imports instead of",
    '# creating (README "Adopting a running homelab"). Review it, commit it, check it with',
    "# `make plan STACK=main` and `pulumi preview --stack main`, then `pulumi up`. Once that update has",
    "# run, delete this file: the imported resources are in the stack's state.",
    "stack: main",
    "imports:",
    "  - resource: cert-manager-release",
    "    type: kubernetes:helm.sh/v3:Release",
    "    id: cert-manager/cert-manager",
    "  - resource: cilium-release",
    "    type: kubernetes:helm.sh/v3:Release",
    "    id: kube-system/cilium",
    "  - resource: coredns-release",
    "    type: kubernetes:helm.sh/v3:Release",
    "    id: kube-system/coredns",
    "  - resource: envoy-gateway-release",
    "    type: kubernetes:helm.sh/v3:Release",
    "    id: network/envoy-gateway",
    "  - resource: external-dns-release",
    "    type: kubernetes:helm.sh/v3:Release",
    "    id: network/external-dns-cloudflare",
    "  - resource: cert-manager-namespace",
    "    type: kubernetes:core/v1:Namespace",
    "    id: cert-manager",
    "  - resource: home-automation.namespace",
    "    type: kubernetes:core/v1:Namespace",
    "    id: home-automation",
    "  - resource: envoy-gateway-namespace",
    "    type: kubernetes:core/v1:Namespace",
    "    id: network",
    "  - resource: observability.namespace",
    "    type: kubernetes:core/v1:Namespace",
    "    id: observability",
    "  - resource: envoy-gateway-backend-policy",
    "    type: kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy",
    "    id: network/envoy",
    "  - resource: cert-manager-wildcard-certificate",
    "    type: kubernetes:cert-manager.io/v1:Certificate",
    "    id: network/wildcard-tls",
    "  - resource: cilium-l2-policy",
    "    type: kubernetes:cilium.io/v2alpha1:CiliumL2AnnouncementPolicy",
    "    id: l2-policy",
    "  - resource: cilium-pool",
    "    type: kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool",
    "    id: main-pool",
    "  - resource: envoy-gateway-client-policy",
    "    type: kubernetes:gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy",
    "    id: network/envoy",
    "  - resource: cert-manager-letsencrypt-prod",
    "    type: kubernetes:cert-manager.io/v1:ClusterIssuer",
    "    id: letsencrypt-prod",
    "  - resource: cert-manager-letsencrypt-staging",
    "    type: kubernetes:cert-manager.io/v1:ClusterIssuer",
    "    id: letsencrypt-staging",
    "  - resource: cloudflare-tunnel-cloudflared",
    "    type: kubernetes:apps/v1:Deployment",
    "    id: network/cloudflared",
    "  - resource: envoy-gateway-proxy",
    "    type: kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy",
    "    id: network/envoy",
    "  - resource: envoy-gateway-external",
    "    type: kubernetes:gateway.networking.k8s.io/v1:Gateway",
    "    id: network/envoy-external",
    "  - resource: envoy-gateway-internal",
    "    type: kubernetes:gateway.networking.k8s.io/v1:Gateway",
    "    id: network/envoy-internal",
    "  - resource: envoy-gateway-class",
    "    type: kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
    "    id: envoy",
    "  - resource: home-automation.home-assistant-route",
    "    type: kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    "    id: home-automation/home-assistant",
    "  - resource: envoy-gateway-https-redirect",
    "    type: kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    "    id: network/https-redirect",
    "  - resource: observability.grafana-route",
    "    type: kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    "    id: observability/grafana",
    "  - resource: cloudflare-tunnel-pdb",
    "    type: kubernetes:policy/v1:PodDisruptionBudget",
    "    id: network/cloudflared",
    "  - resource: cert-manager-cloudflare-token",
    "    type: kubernetes:core/v1:Secret",
    "    id: cert-manager/cloudflare-api-token",
    "  - resource: cloudflare-tunnel-token",
    "    type: kubernetes:core/v1:Secret",
    "    id: network/cloudflared-tunnel",
    "  - resource: external-dns-cloudflare-token",
    "    type: kubernetes:core/v1:Secret",
    "    id: network/external-dns-cloudflare",
    "  - resource: cloudflare-tunnel-dns",
    "    type: cloudflare:index/dnsRecord:DnsRecord",
    "    id: 023e105f4ecef8ad9ca31a8372d0c353/372e67954025e0ba6aaa6d586b9e0b59",
    "",
]


def test_an_adoptable_homelab_is_reported_and_its_import_plan_written(adopt: tuple[Adopt, Run]) -> None:
    lab, run = adopt
    code, out, err = run("--stack", "main")
    assert (code, err) == (0, "")
    assert out.split("\n") == [line.replace("{url}", lab.api.url) for line in REPORT]
    assert lab.imports.read_text() == "\n".join(IMPORT_PLAN)
    plan = read_import_plan(lab.imports, "main")  # what the program reads back
    assert plan is not None and len(plan.entries) == 29
    # Secrets: the program's read as metadata only, Helm's each deployed revision whole, no other
    whole = sorted(p for _, p in lab.api.requests if "/secrets/" in p and lab.api.accepts[p] != METADATA)
    assert whole == sorted(
        f"/api/v1/namespaces/{ns}/secrets/sh.helm.release.v1.{name}.v2"
        for ns, name in (
            ("cert-manager", "cert-manager"),
            ("kube-system", "cilium"),
            ("kube-system", "coredns"),
            ("network", "envoy-gateway"),
            ("network", "external-dns-cloudflare"),
        )
    )


def test_json_and_a_second_run_that_replaces_its_own_plan(adopt: tuple[Adopt, Run]) -> None:
    lab, run = adopt
    assert run("--stack", "main")[0] == 0
    code, out, err = run("--stack", "main", "--json")
    found = json.loads(out)
    assert (code, err, list(found)) == (0, "", ["checks", "changes", "import_plan"])
    assert all(list(row) == ["group", "check", "status", "evidence", "fix"] for row in found["checks"])
    assert found["checks"][0] == {
        "group": "Access",
        "check": "cluster main",
        "status": "PASS",
        "evidence": f"{lab.api.url}, Kubernetes v1.35.0",
        "fix": None,
    }
    assert found["changes"][0] == {
        "of": "Helm release kube-system/cilium (revision 2, chart cilium 1.19.1)",
        "changes": [
            "chart: cilium 1.19.1 -> cilium 1.20.0",
            "values.bgpControlPlane.enabled: (unset) -> false",
            "values.hubble.enabled: true -> (unset)",
        ],
    }
    plan = found["import_plan"]
    assert (plan["file"], plan["written"], len(plan["imports"])) == ("main.imports.yaml", True, 29)
    assert plan["imports"][0] == {
        "resource": "cert-manager-release",
        "type": "kubernetes:helm.sh/v3:Release",
        "id": "cert-manager/cert-manager",
    }
    assert plan["message"][0] == (
        "Import plan: wrote main.imports.yaml: 29 imports (the lines 'importable as' above), replacing the one "
        "of an earlier run (29 imports). Next:"
    )
    assert lab.imports.read_text() == "\n".join(IMPORT_PLAN)


REFUSED = (
    "homelab adopt writes main.imports.yaml only over an import plan of stack main it can read, and leaves this "
    "one as it is: look at it, then move it away or delete it, and run `make adopt STACK=main` again\n"
)


def test_an_import_plan_of_another_stack_or_unreadable_is_refused_not_overwritten(adopt: tuple[Adopt, Run]) -> None:
    lab, run = adopt
    lab.imports.write_text("stack: staging\nimports: []\n")
    assert run("--stack", "main") == (
        2,
        "",
        "error: main.imports.yaml:1: the import plan of stack 'staging', not of 'main'; each stack has its own "
        f"(main.imports.yaml)\n{REFUSED}",
    )
    assert lab.imports.read_text() == "stack: staging\nimports: []\n"
    lab.imports.unlink()
    lab.imports.mkdir()
    assert run("--stack", "main") == (2, "", f"error: main.imports.yaml: cannot read it: Is a directory\n{REFUSED}")
    assert lab.imports.is_dir() and lab.api.requests == []  # refused before anything is asked


def test_an_unreachable_cluster_fails_within_seconds_and_writes_nothing(
    adopt: tuple[Adopt, Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab, run = adopt
    host = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "config", {"main": host})))
    start = time.monotonic()
    code, out, err = run("--stack", "main")
    assert time.monotonic() - start < 5
    assert (code, err, lab.imports.exists()) == (1, "", False)
    lines = out.split("\n")
    assert lines[3:5] == [
        f"  FAIL  cluster main                       {host}: no answer from the API server: Failed to establish a "
        "new connection: [Errno 111] Connection refused; cluster checks skipped",
        f"                                           fix: is the cluster up, {host} reachable from here and the "
        "context's credentials valid? kubectl --context main get --raw /version",
    ]
    assert lines[-2:] == [
        "Import plan: nothing written: not everything could be judged (cluster main): do what the FAIL lines "
        "above say, then run adopt again",
        "",
    ]


def test_the_wrong_context_is_refused_and_nothing_written(
    adopt: tuple[Adopt, Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab, run = adopt
    config = write_kubeconfig(tmp_path / "config", {"staging": lab.api.url})
    monkeypatch.setenv("KUBECONFIG", str(config))
    code, out, _ = run("--stack", "main")
    assert (code, lab.imports.exists()) == (1, False)
    assert out.split("\n")[3:5] == [
        f"  FAIL  cluster main                       no context 'main' in {config} (contexts there: staging); "
        "cluster checks skipped",
        "                                           fix: homelab:cluster.kubeContext is 'main': add that context to "
        "the kubeconfig, or point KUBECONFIG at the file that has it",
    ]
    # a context that reaches another cluster: its Cilium says which
    monkeypatch.setenv("KUBECONFIG", str(lab.kubeconfig))
    lab.api.kube["/api/v1/namespaces/kube-system/configmaps/cilium-config"]["data"] = {
        "cluster-name": "staging",
        "cluster-id": "2",
    }
    code, out, _ = run("--stack", "main")
    assert (code, lab.imports.exists()) == (1, False)
    lines = out.split("\n")
    assert lines[4:6] == [
        "  FAIL  cluster identity                              Cilium calls this cluster staging (cluster-id 2); "
        "stack main is cluster main (cluster-id 1): nothing written",
        "                                                      fix: is context main the wrong cluster's? Point "
        "homelab:cluster.kubeContext (or the kubeconfig's context main) at cluster main; if this is the cluster, "
        "its Cilium identity would change: see README (clusterId) before adopting it",
    ]
    assert lines[-2] == (
        "Import plan: nothing written: not everything could be judged (cluster identity): do what the FAIL lines "
        "above say, then run adopt again"
    )


def test_the_offline_plan_imports_what_adopt_wrote(
    adopt: tuple[Adopt, Run], capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's 'done when': adopt's import plan, read by the program, shows as imports."""
    lab, run = adopt
    assert run("--stack", "main")[0] == 0
    outcome = lab.project.plan("main", capsys=capsys)
    assert outcome.code == 0, outcome.err
    imported = {(r.type, r.name): r.import_id for r in outcome.registered if r.import_id}
    assert len(imported) == 29
    assert imported[("kubernetes:helm.sh/v3:Release", "cilium-release")] == "kube-system/cilium"
    assert imported[("cloudflare:index/dnsRecord:DnsRecord", "cloudflare-tunnel-dns")] == (
        "023e105f4ecef8ad9ca31a8372d0c353/372e67954025e0ba6aaa6d586b9e0b59"
    )
    assert outcome.out.splitlines()[0] == "stack main: 45 resources (29 imported, the rest created)"


def test_an_earlier_plan_left_in_place_is_named_when_nothing_could_be_judged(
    adopt: tuple[Adopt, Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: the program keeps importing what it lists, so the user must hear of it."""
    lab, run = adopt
    assert run("--stack", "main")[0] == 0
    before = lab.imports.read_text()
    monkeypatch.setenv(
        "KUBECONFIG", str(write_kubeconfig(tmp_path / "config", {"main": f"http://127.0.0.1:{closed_port()}"}))
    )
    code, out, _ = run("--stack", "main")
    assert (code, lab.imports.read_text()) == (1, before)
    assert out.split("\n")[-3:] == [
        "Import plan: nothing written: not everything could be judged (cluster main): do what the FAIL lines "
        "above say, then run adopt again",
        "main.imports.yaml of an earlier run is still there (29 imports) and the program imports what it lists: "
        "delete it if it no longer holds",
        "",
    ]
