"""What actually runs: every release rendered by helm from the pinned charts, for both stacks.

The expected values are the seed's and DESIGN.md's, written out. The plan behind ``planned`` is
`homelab plan --stack <stack>` exactly as a newcomer runs it (rendering and validation on).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import coredns, envoy_gateway
from homelab.plan import charts, helm, mockrun, render, render_check
from homelab.plan import command as plan_cmd
from tests.conftest import STACKS, PlanRun, Project, RunProgram, need_helm, stack_config

NET = {"main": "10.11", "staging": "10.12"}
POD_CIDR = {"main": "10.201.0.0/16", "staging": "10.202.0.0/16"}
DOMAIN = {"main": "example.com", "staging": "example.net"}
OWNER = {"main": "homelab", "staging": "homelab-staging"}
CLUSTER_ID = {"main": "1", "staging": "2"}


def container(deployment: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if name is None or c["name"] == name)


@pytest.mark.parametrize("stack", STACKS)
def test_plan_renders_and_validates_every_release(planned: dict[str, PlanRun], stack: str) -> None:
    run = planned[stack]
    assert run.code == 0, run.err
    assert "rendered with helm (objects per release):" in run.out
    for release, package in [
        ("cert-manager", "cert-manager-v1.21.1.tgz"),
        ("cilium", "cilium-1.20.0.tgz"),
        ("coredns", "coredns-1.46.2.tgz"),
        ("envoy-gateway", "gateway-helm-v1.9.0.tgz"),
        ("envoy-gateway-crds", "gateway-crds-helm-v1.9.0.tgz"),
        ("external-dns-cloudflare", "external-dns-1.21.1.tgz"),
    ]:
        line = next((ln for ln in run.out.splitlines() if ln.split()[:2] == [release, package]), None)
        assert line is not None, f"no object count for {release}"
        assert int(line.split()[-1]) > 0
    assert "rendered objects: every one matches Kubernetes 1.35" in run.out


@pytest.mark.parametrize("stack", STACKS)
def test_cilium_config_carries_the_seed_s_features(planned: dict[str, PlanRun], stack: str) -> None:
    data = planned[stack].load("cilium/chart/ConfigMap-kube-system-cilium-config.yaml")["data"]
    expected = {
        "kube-proxy-replacement": "true",
        "bpf-lb-mode": "dsr",
        "bpf-lb-algorithm": "maglev",
        "datapath-mode": "netkit",
        "enable-bbr": "true",
        "routing-mode": "native",
        "ipv4-native-routing-cidr": POD_CIDR[stack],
        "enable-l2-announcements": "true",
        "l2-announcements-lease-duration": "15s",
        "l2-announcements-renew-deadline": "5s",
        "l2-announcements-retry-period": "2s",
        "k8s-client-qps": "50",
        "k8s-client-burst": "100",
        "cluster-name": stack,
        "cluster-id": CLUSTER_ID[stack],
    }
    assert {k: data.get(k) for k in expected} == expected


@pytest.mark.parametrize("stack", STACKS)
def test_cilium_agent_talks_to_the_stack_s_api_server(planned: dict[str, PlanRun], stack: str) -> None:
    agent = planned[stack].load("cilium/chart/DaemonSet-kube-system-cilium.yaml")
    env = {e["name"]: e.get("value") for e in container(agent, "cilium-agent")["env"]}
    assert (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]) == (f"{NET[stack]}.0.10", "6443")


@pytest.mark.parametrize("stack", STACKS)
def test_kube_dns_and_the_corefile(planned: dict[str, PlanRun], stack: str) -> None:
    run = planned[stack]
    service = run.load("coredns/chart/Service-kube-system-kube-dns.yaml")
    assert service["spec"]["clusterIP"] == "10.200.0.10"
    corefile = run.load("coredns/chart/ConfigMap-kube-system-coredns.yaml")["data"]["Corefile"]
    assert corefile == (
        "dns://.:53 {\n"
        "    errors\n"
        "    health {\n        lameduck 5s\n    }\n"
        "    ready\n"
        "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
        "        pods verified\n        fallthrough in-addr.arpa ip6.arpa\n    }\n"
        "    autopath @kubernetes\n"
        "    forward . /etc/resolv.conf\n"
        "    cache {\n        prefetch 20\n        serve_stale\n    }\n"
        "    loop\n    reload\n    loadbalance\n"
        "    prometheus 0.0.0.0:9153\n"
        "}"
    )
    pod = run.load("coredns/chart/Deployment-kube-system-coredns.yaml")["spec"]["template"]["spec"]
    assert (pod["serviceAccountName"], pod["priorityClassName"]) == ("coredns", "system-cluster-critical")


@pytest.mark.parametrize("stack", STACKS)
def test_external_dns_arguments(planned: dict[str, PlanRun], stack: str) -> None:
    deployment = planned[stack].load("external-dns/chart/Deployment-network-external-dns-cloudflare.yaml")
    c = container(deployment)
    args = c["args"]
    for arg in [
        f"--txt-owner-id={OWNER[stack]}",
        "--txt-prefix=k8s.",
        "--cloudflare-proxied",
        "--source=gateway-httproute",
        "--annotation-prefix=external-dns.alpha.kubernetes.io/",
        f"--domain-filter={DOMAIN[stack]}",
        "--gateway-name=envoy-external",
        "--policy=sync",
        "--provider=cloudflare",
    ]:
        assert arg in args, arg
    assert [a for a in args if a.startswith("--exclude-domains")] == []
    assert {
        "name": "CF_API_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "external-dns-cloudflare", "key": "api-token"}},
    } in c["env"]


@pytest.mark.parametrize("stack", STACKS)
def test_envoy_gateway_config_and_certgen_hook(planned: dict[str, PlanRun], stack: str) -> None:
    run = planned[stack]
    config = yaml.safe_load(
        run.load("envoy-gateway/chart/ConfigMap-network-envoy-gateway-config.yaml")["data"]["envoy-gateway.yaml"]
    )
    assert config["provider"]["kubernetes"]["deploy"] == {"type": "GatewayNamespace"}
    job = run.load("envoy-gateway/chart/Job-network-envoy-gateway-gateway-helm-certgen.yaml")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install, pre-upgrade"
    assert run.load("envoy-gateway/chart/Deployment-network-envoy-gateway.yaml")["spec"]["replicas"] == 2
    pdb = run.load("envoy-gateway/chart/PodDisruptionBudget-network-envoy-gateway.yaml")
    assert pdb["spec"]["minAvailable"] == 1
    for crd in ("gateways.gateway.networking.k8s.io", "envoyproxies.gateway.envoyproxy.io"):
        assert (
            run.load(f"envoy-gateway/chart/CustomResourceDefinition-{crd}.yaml")["kind"] == "CustomResourceDefinition"
        )


@pytest.mark.parametrize("stack", STACKS)
def test_cert_manager_crds_and_dns01_nameservers(planned: dict[str, PlanRun], stack: str) -> None:
    run = planned[stack]
    for crd in ("certificates", "clusterissuers", "issuers", "certificaterequests"):
        obj = run.load(f"cert-manager/chart/CustomResourceDefinition-{crd}.cert-manager.io.yaml")
        assert obj["spec"]["group"] == "cert-manager.io"
    args = container(run.load("cert-manager/chart/Deployment-cert-manager-cert-manager.yaml"))["args"]
    assert "--dns01-recursive-nameservers-only=true" in args
    assert "--dns01-recursive-nameservers=https://1.1.1.1:443/dns-query,https://1.0.0.1:443/dns-query" in args


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_chart_secrets_hold_no_key_material(planned: dict[str, PlanRun], stack: str) -> None:
    """Cilium's chart generates a CA and Hubble certificates on every render: not written."""
    ca = planned[stack].load("cilium/chart/Secret-kube-system-cilium-ca.yaml")
    assert ca["data"] == {"ca.crt": "[Secret data: not written]", "ca.key": "[Secret data: not written]"}


def test_a_changed_value_reaches_the_rendered_object(run_program: RunProgram) -> None:
    """Change the pod CIDR in config: Cilium's rendered ConfigMap routes natively for it."""
    need_helm()
    cfg = stack_config("staging")
    cfg["homelab:cluster"]["network"]["podCidr"] = "10.222.0.0/16"
    plan = run_program("staging", cfg)
    (spec,) = [s for s in render.release_specs(plan) if s.release == "cilium"]
    rendered = render.render_one(spec, helm.find(), charts.locate(spec.chart), "1.35")
    config = next(o for o in rendered.objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "cilium-config")
    assert config["data"]["ipv4-native-routing-cidr"] == "10.222.0.0/16"


def test_rendered_objects_are_validated_against_kubernetes_and_the_crds(gateway_crds: list[render.Rendered]) -> None:
    """The validator the plan runs catches what the API server would refuse (a wrong type in a
    built-in kind, an unknown field in a custom resource of a rendered CRD)."""
    need_helm()
    crds = render_check.crd_validators(gateway_crds)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "replicas": "two",
            "selector": {},
            "template": {"spec": {"containers": [{"name": "c", "imagee": "x"}]}},
        },
    }
    found = [str(p) for p in render_check.validate_rendered(deployment, "1.35", crds, "d")]
    assert "d  spec.replicas  'two' is not of type 'integer', 'null'" in found
    assert (
        "d  spec.template.spec.containers[0].imagee  Additional properties are not allowed ('imagee' was unexpected)"
        in found
    )
    gateway = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "g"},
        "spec": {"gatewayClassName": "envoy", "listeners": [{"name": "h", "port": 80, "protocol": "HTTP", "tsl": {}}]},
    }
    assert [str(p) for p in render_check.validate_rendered(gateway, "1.35", crds, "g")] == [
        "g  spec.listeners[0].tsl  Additional properties are not allowed ('tsl' was unexpected)"
    ]


def test_a_missing_chart_stops_the_plan(
    project: Project, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline, with no pinned package anywhere: exit 2 naming the chart and version, nothing written."""
    need_helm()
    for name in ("SHARED", "CACHE"):
        monkeypatch.setattr(charts, name, tmp_path / name.lower())
    monkeypatch.delenv("HOMELAB_CHARTS", raising=False)
    capsys.readouterr()
    code = plan_cmd.main(["--stack", "staging", "--root", str(project.root), "--no-validate"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: chart cert-manager v1.21.1 (https://charts.jetstack.io/cert-manager) is not in " in err
    assert "(--no-render plans without rendering the charts)" in err
    assert not (project.rendered / "staging").exists()
    assert project.plan("staging", capsys=capsys).code == 0  # --no-render: on purpose, fine


def test_chart_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chart = charts.Chart("cilium", "1.20.0", "https://helm.cilium.io/")
    mine, env = tmp_path / "mine", tmp_path / "env"
    for folder in (mine, env):
        folder.mkdir()
        (folder / "cilium-1.20.0.tgz").write_bytes(b"not really a chart")
    monkeypatch.setenv("HOMELAB_CHARTS", str(env))
    unrecorded: charts.Lock = {"registry": {}, "shared": {}}  # the order, not the digests, is tested here
    assert charts.locate(chart, mine, unrecorded) == mine / "cilium-1.20.0.tgz"  # --charts first
    assert charts.locate(chart, None, unrecorded) == env / "cilium-1.20.0.tgz"  # then $HOMELAB_CHARTS
    monkeypatch.delenv("HOMELAB_CHARTS")
    if charts.SHARED.is_dir():
        assert charts.locate(chart, None, unrecorded) == charts.SHARED / "cilium-1.20.0.tgz"  # then ../shared/charts
    missing = charts.Chart("cilium", "9.9.9", "https://helm.cilium.io/")
    with pytest.raises(charts.ChartError) as err:
        charts.locate(missing, mine)
    assert "chart cilium 9.9.9 (https://helm.cilium.io/cilium) is not in " in str(err.value)
    assert "run `make charts` online" in str(err.value)


def test_pull_commands_per_source() -> None:
    oci = charts.Chart("oci://docker.io/envoyproxy/gateway-helm", "v1.9.0")
    repo = charts.Chart("external-dns", "1.21.1", "https://kubernetes-sigs.github.io/external-dns/")
    assert oci.file == "gateway-helm-v1.9.0.tgz"
    assert oci.pull_command("helm", Path("/c")) == [
        "helm",
        "pull",
        "oci://docker.io/envoyproxy/gateway-helm",
        "--version",
        "v1.9.0",
        "--destination",
        "/c",
    ]
    assert repo.pull_command("helm", Path("/c")) == [
        "helm",
        "pull",
        "external-dns",
        "--version",
        "1.21.1",
        "--destination",
        "/c",
        "--repo",
        "https://kubernetes-sigs.github.io/external-dns/",
    ]


def test_an_old_helm_is_refused_with_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "helm"
    old.write_text("#!/bin/sh\necho v3.12.3\n")
    old.chmod(0o755)
    monkeypatch.setenv("HELM", str(old))
    with pytest.raises(helm.HelmError) as err:
        helm.find()
    assert f"HELM={old} is helm 3.12.3; the plan needs at least 3.17.0" in str(err.value)


def test_make_charts_records_digests_and_refuses_a_changed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make charts`'s bookkeeping, with a stand-in for `helm pull` that copies a package from a
    folder (the registries cannot be reached here: the real pull is unproven)."""
    served = tmp_path / "registry"
    served.mkdir()
    (served / "coredns-1.46.2.tgz").write_bytes(b"package as first served")
    stand_in = tmp_path / "helm"
    stand_in.write_text(
        f'#!/bin/sh\n# helm pull <chart> --version <v> --destination <dir> ...\ncp "{served}/coredns-$4.tgz" "$6/"\n'
    )
    stand_in.chmod(0o755)
    cache, lock = tmp_path / "charts", tmp_path / "charts.lock"
    chart = charts.Chart("coredns", "1.46.2", "https://coredns.github.io/helm")

    (line,) = charts.pull([chart], stand_in, cache, lock)
    digest = "c3a6b65dba4a85d297f2dce2e4f4e042be57e4e91b356a522d43dce188a70a85"  # sha256 of the bytes served
    assert line.split() == ["coredns-1.46.2.tgz", digest, "https://coredns.github.io/helm/coredns"]
    assert charts.read_lock(lock) == {"registry": {"coredns-1.46.2.tgz": digest}, "shared": {}}
    # a cached package that no longer matches the lock is refused by the plan
    monkeypatch.setattr(charts, "SHARED", tmp_path / "no-shared")
    monkeypatch.setattr(charts, "CACHE", cache)
    monkeypatch.delenv("HOMELAB_CHARTS", raising=False)
    recorded = {"registry": {"coredns-1.46.2.tgz": digest}, "shared": {}}
    assert charts.locate(chart, None, recorded) == cache / "coredns-1.46.2.tgz"
    (cache / "coredns-1.46.2.tgz").write_bytes(b"tampered")
    with pytest.raises(charts.ChartError, match=r"is not the .* that charts.lock recorded"):
        charts.locate(chart, None, recorded)

    # the registry republishes the same version with other bytes: refused, cache untouched
    (cache / "coredns-1.46.2.tgz").unlink()
    (served / "coredns-1.46.2.tgz").write_bytes(b"a republished package")
    with pytest.raises(charts.ChartError, match=r"the registry now serves sha256 .*, charts.lock recorded"):
        charts.pull([chart], stand_in, cache, lock)
    assert not (cache / "coredns-1.46.2.tgz").exists()


def test_a_rendered_object_kubernetes_refuses_fails_the_plan(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value the chart accepts but renders into something the API server refuses: exit 1,
    the object, the path and the message, and the rendering marked."""
    need_helm()
    real = coredns.helm_values
    monkeypatch.setattr(coredns, "helm_values", lambda cluster: {**real(cluster), "replicaCount": "two"})
    capsys.readouterr()
    code = plan_cmd.main(["--stack", "staging", "--root", str(project.root)])
    err = capsys.readouterr().err
    assert code == 1
    assert "coredns: Deployment/kube-system/coredns  spec.replicas  'two' is not of type 'integer', 'null'" in err
    assert (project.rendered / "staging" / "SCHEMA-PROBLEMS.txt").is_file()


def test_helm_command_is_the_release_as_the_program_passes_it(tmp_path: Path) -> None:
    spec = render.ReleaseSpec(
        "external-dns", "external-dns-cloudflare", "network", charts.Chart("external-dns", "1.21.1"), {}, True
    )
    assert render.helm_command("helm", spec, Path("/c/external-dns-1.21.1.tgz"), Path("/v.json"), "1.35") == [
        "helm", "template", "external-dns-cloudflare", "/c/external-dns-1.21.1.tgz", "--namespace", "network",
        "--values", "/v.json", "--kube-version", "1.35", "--include-crds",
    ]  # fmt: skip
    skipping = render.ReleaseSpec(
        "envoy-gateway", "envoy-gateway", "network", charts.Chart("gateway-helm", "v1.9.0"), {}, False
    )
    assert render.helm_command("helm", skipping, Path("/p.tgz"), Path("/v.json"), "1.34")[-3:] == [
        "--kube-version", "1.34", "--skip-crds"
    ]  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_crds_a_release_installs_are_rendered(planned: dict[str, PlanRun], stack: str) -> None:
    """external-dns's chart ships its DNSEndpoint CRD in crds/: the release installs it."""
    crd = planned[stack].load("external-dns/chart/CustomResourceDefinition-dnsendpoints.externaldns.k8s.io.yaml")
    assert crd["spec"]["group"] == "externaldns.k8s.io"


def test_rendering_twice_writes_the_same_files() -> None:
    """Cilium's chart generates new certificates on every render; the files must not change."""
    need_helm()
    plan = mockrun.run("main")
    (spec,) = [s for s in render.release_specs(plan) if s.release == "cilium"]
    once, twice = (render.render_one(spec, helm.find(), charts.locate(spec.chart), "1.35") for _ in range(2))
    assert render.rendered_files([once], plan_cmd._dump) == render.rendered_files([twice], plan_cmd._dump)


def test_a_program_resource_the_rendered_crd_refuses_is_a_problem(
    monkeypatch: pytest.MonkeyPatch, gateway_crds: list[render.Rendered], run_program: RunProgram
) -> None:
    """The program's custom resources are validated against the CRDs the charts render, not
    only against ../shared/schemas."""
    real = envoy_gateway.client_traffic_policy_spec
    monkeypatch.setattr(envoy_gateway, "client_traffic_policy_spec", lambda c: {**real(c), "tsl": {}})
    problems = render_check.problems(gateway_crds, run_program("staging"), "1.35")
    # only the Envoy Gateway CRDs were rendered here: cert-manager's objects have no schema
    assert [p for p in problems if not p.startswith(("ClusterIssuer/", "Certificate/"))] == [
        "ClientTrafficPolicy/network/envoy (envoy-gateway-client-policy)  spec.tsl  "
        "Additional properties are not allowed ('tsl' was unexpected)"
    ]


@pytest.fixture(scope="module")
def gateway_crds() -> list[render.Rendered]:
    """The Gateway API and Envoy Gateway CRDs as gateway-crds-helm renders them."""
    need_helm()
    (spec,) = [s for s in render.release_specs(mockrun.run("staging")) if s.release == "envoy-gateway-crds"]
    return [render.render_release(spec, helm.find(), charts.locate(spec.chart), "1.35")]


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ({"type": "Hostname", "value": "gw.example.com"}, None),
        ({"type": "IPAddress", "value": "10.0.0.1"}, None),
        ({"type": "NamedAddress", "value": "pool-a"}, None),
        ({"type": "IPAddress", "value": "not-an-ip"}, "spec.addresses[0].value"),
    ],
)
def test_rendered_crd_schemas_are_closed_but_not_inside_one_of(
    address: dict[str, str], problem: str | None, gateway_crds: list[render.Rendered]
) -> None:
    """Strict field validation closes objects, but a oneOf branch only constrains fields its
    siblings declare: valid Gateway addresses pass, a bad IP does not."""
    crds = render_check.crd_validators(gateway_crds)
    gateway = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "g"},
        "spec": {
            "gatewayClassName": "envoy",
            "addresses": [address],
            "listeners": [{"name": "h", "port": 80, "protocol": "HTTP"}],
        },
    }
    found = [p.path for p in render_check.validate_rendered(gateway, "1.35", crds, "g")]
    assert found == ([] if problem is None else [problem])


@pytest.mark.parametrize("stack", STACKS)
def test_doctor_s_recorded_cilium_config_is_what_the_chart_renders(planned: dict[str, PlanRun], stack: str) -> None:
    """tests/doctor_fixtures holds the cilium-config doctor's fake cluster serves; after a chart
    bump it must be re-recorded, or doctor would be tested against a ConfigMap no cluster has."""
    recorded = json.loads((Path(__file__).parents[1] / "doctor_fixtures" / f"cilium-config.{stack}.json").read_text())
    rendered = planned[stack].load("cilium/chart/ConfigMap-kube-system-cilium-config.yaml")
    assert recorded["data"] == rendered["data"]


def test_an_app_namespace_a_chart_creates_is_refused(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """Cilium's chart creates the namespace `cilium-secrets`: an app must not create it too."""
    need_helm()
    app = {
        "name": "whoami",
        "namespace": "cilium-secrets",
        "hostnames": ["whoami.example.net"],
        "service": "whoami",
        "port": 80,
        "exposure": "internal",
        "createNamespace": True,
    }
    project.change("staging", lambda cfg: cfg.update({"homelab:apps": [app]}))
    capsys.readouterr()
    code = plan_cmd.main(["--stack", "staging", "--root", str(project.root), "--no-validate"])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        "Namespace cilium-secrets (core) is written by cilium-secrets.namespace "
        "(kubernetes:core/v1:Namespace) and the cilium chart (cilium-1.20.0.tgz)"
    ) in err
    assert not (project.rendered / "staging").exists()


def test_the_shared_packages_are_the_ones_the_lock_records(tmp_path: Path) -> None:
    """charts.lock's `shared` digests are ../shared/charts/README.md's; a changed package there, or
    one of your own that matches no record, is refused."""
    lock = charts.read_lock()
    assert lock["shared"] == {
        "cert-manager-v1.21.1.tgz": "a8cd66ff9f8a185ad95acc56ce933d740a3957902e7c3054016f9b9779f6006e",
        "cilium-1.20.0.tgz": "c5f013912360d1a334f44ef25f36da59ba3414cdb48f466ee12d0c4fdff27883",
        "coredns-1.46.2.tgz": "7bf92026a0a80861688066d93a08844d2c8e6d3f6eebe9e66847f19cb2ade242",
        "external-dns-1.21.1.tgz": "392aa2b288ffb36f17da83785a0beabe64a564d5f9bcba982ad36f0934ddc668",
        "gateway-crds-helm-v1.9.0.tgz": "0a8f0e18478603bd5ee3062397e9e9565605f46bc142bda6db17777cb5f458a1",
        "gateway-helm-v1.9.0.tgz": "00d2905a659fc930c67d0053fefb10948bdc5cf2ddca00e06f6abea95db5eb64",
    }
    if charts.SHARED.is_dir():
        for name in lock["shared"]:
            chart = charts.Chart(name.rsplit("-", 1)[0], name.rsplit("-", 1)[1].removesuffix(".tgz"))
            assert charts.locate(chart) == charts.SHARED / name  # verified, not refused
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "coredns-1.46.2.tgz").write_bytes(b"a package of my own")
    with pytest.raises(charts.ChartError, match=r"is none of the digests charts.lock records for coredns-1.46.2.tgz"):
        charts.locate(charts.Chart("coredns", "1.46.2"), mine)
    (mine / "coredns-9.9.9.tgz").write_bytes(b"unrecorded: yours to trust")
    assert charts.locate(charts.Chart("coredns", "9.9.9"), mine) == mine / "coredns-9.9.9.tgz"


def test_a_pull_that_never_ends_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make charts` against a registry that never answers: helm's deadline, as for every call."""
    stand_in = tmp_path / "helm"
    stand_in.write_text("#!/bin/sh\nsleep 30\n")
    stand_in.chmod(0o755)
    monkeypatch.setenv("HOMELAB_HELM_TIMEOUT", "0.2")
    chart = charts.Chart("coredns", "1.46.2", "https://coredns.github.io/helm")
    with pytest.raises(helm.HelmError) as err:
        charts.pull([chart], stand_in, tmp_path / "charts", tmp_path / "charts.lock")
    assert str(err.value) == (
        f"helm pull https://coredns.github.io/helm/coredns 1.46.2: {stand_in} did not finish within 0.2 s and was "
        "stopped (a chart downloads in seconds); check that binary (HELM= names another), or on a slower machine "
        "raise HOMELAB_HELM_TIMEOUT=<seconds>"
    )
    assert not (tmp_path / "charts" / "coredns-1.46.2.tgz").exists()
