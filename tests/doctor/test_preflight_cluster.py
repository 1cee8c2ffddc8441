"""preflight against the loopback fakes (tests/support/fakes.py, the lab in tests/support/preflight_support.py): the
cluster's side. What the stack replaces (kube-proxy, another CNI, the distribution's CoreDNS) and
what up creates that is there already (Helm releases, objects, namespaces).
"""

from __future__ import annotations

from typing import Any

from homelab.doctor.checks_preflight import check_namespace
from homelab.doctor.expected import Expected
from homelab.doctor.preflight_plan import HelmTarget, RenderUnavailableError
from tests.support import preflight_support
from tests.support.preflight_support import (
    ADOPTING,
    FLUX,
    FLUX_HELM,
    IN_STATE,
    NET,
    OBJ,
    Lab,
    crd,
    daemon_set,
    daemon_sets,
    gateway_class_and_issuer,
    meta,
    release_secret,
    service,
)

# the shared fixtures (tests/support/preflight_support.py): pytest finds them under these names
loopback_only = preflight_support.loopback_only
server = preflight_support.server
exp = preflight_support.exp
want = preflight_support.want
lab = preflight_support.lab


# ---------------------------------------------------------------------------------------------
# what the stack replaces: kube-proxy, another CNI, the distribution's CoreDNS


def test_kube_proxy_still_running_fails(lab: Lab) -> None:
    daemon_sets(lab).append(daemon_set("kube-proxy", "kube-system", 3, {"k8s-app": "kube-proxy"}))
    assert lab.not_passed() == [
        (
            NET,
            "kube-proxy",
            "FAIL",
            "DaemonSet kube-system/kube-proxy runs on 3 nodes: the stack sets kube-proxy-replacement=true, "
            "which expects kube-proxy gone",
            "kubectl --context main -n kube-system delete daemonset kube-proxy; "
            "kubectl --context main -n kube-system delete configmap kube-proxy; then on each node "
            "`iptables-save | grep -v KUBE | iptables-restore` (Cilium's kube-proxy-free guide), or the "
            "distribution's switch (kubeadm init --skip-phases=addon/kube-proxy, k3s --disable-kube-proxy, "
            "Talos cluster.proxy.disabled: true)",
        )
    ]


def test_another_cni_fails(lab: Lab) -> None:
    daemon_sets(lab).append(daemon_set("kube-flannel-ds", "kube-flannel", 3, {"app": "flannel"}))
    daemon_sets(lab).append(daemon_set("rke2-canal", "kube-system", 2, {"k8s-app": "canal"}))
    assert lab.not_passed() == [
        (
            NET,
            "other CNI",
            "FAIL",
            "DaemonSet kube-flannel/kube-flannel-ds (flannel, 3 nodes), "
            "DaemonSet kube-system/rke2-canal (Canal, 2 nodes): Cilium would share every node with another CNI",
            "kubectl --context main -n kube-flannel delete daemonset kube-flannel-ds; "
            "kubectl --context main -n kube-system delete daemonset rke2-canal, and its file in /etc/cni/net.d on "
            "each node; a distribution's own CNI is switched off in its config (k3s --flannel-backend=none, "
            "Talos cluster.network.cni.name: none)",
        )
    ]


def dns_fix(what: str) -> str:
    return (
        "switch the distribution's CoreDNS off (kubeadm init --skip-phases=addon/coredns, k3s --disable=coredns, "
        f"Talos cluster.coreDNS.disabled: true) or delete it: kubectl --context main -n kube-system delete {what}; "
        "cluster DNS is down from then until up installs the chart"
    )


def test_the_distribution_s_coredns_fails(lab: Lab) -> None:
    """kubeadm's: Service kube-dns on the address the chart wants, Deployment coredns."""
    kube_dns = service("kube-dns", "kube-system", "10.200.0.10", {"k8s-app": "kube-dns"})
    lab.api.kube["/api/v1/namespaces/kube-system/services/kube-dns"] = kube_dns
    lab.api.kube["/api/v1/services"]["items"].append(kube_dns)
    lab.api.kube["/apis/apps/v1/namespaces/kube-system/deployments/coredns"] = {
        "kind": "Deployment",
        "metadata": meta("coredns", "kube-system", {"k8s-app": "kube-dns"}),
    }
    assert lab.not_passed() == [
        (
            NET,
            "Service kube-system/kube-dns",
            "FAIL",
            "would fail: already exists (clusterIP 10.200.0.10, the address homelab:cluster.dns.corednsIp asks for; "
            "no owner label)",
            dns_fix("service kube-dns"),
        ),
        (
            NET,
            "Deployment kube-system/coredns",
            "FAIL",
            "would fail: already exists (no owner label): Helm installs over no object of another owner",
            dns_fix("deployment coredns"),
        ),
    ]


def test_another_service_holding_the_dns_address_fails(lab: Lab) -> None:
    held = service("rke2-coredns-rke2-coredns", "kube-system", "10.200.0.10", {"app.kubernetes.io/managed-by": "Helm"})
    lab.api.kube["/api/v1/services"]["items"].append(held)
    assert lab.not_passed() == [
        (
            NET,
            "Service kube-system/kube-dns",
            "FAIL",
            "would fail: 10.200.0.10 (homelab:cluster.dns.corednsIp) is already the clusterIP of Service "
            "kube-system/rke2-coredns-rke2-coredns (app.kubernetes.io/managed-by: Helm)",
            dns_fix("service rke2-coredns-rke2-coredns"),
        )
    ]


# ---------------------------------------------------------------------------------------------
# what up creates that is there already: Helm releases, objects, namespaces


def test_an_existing_helm_release_of_the_same_name_fails(lab: Lab) -> None:
    secrets = lab.api.kube["/api/v1/namespaces/kube-system/secrets"]["items"]
    secrets += [
        release_secret("cilium", "kube-system", 9, "superseded"),
        release_secret("cilium", "kube-system", 10, "deployed"),
    ]
    assert lab.not_passed() == [
        (
            "Helm releases",
            "Helm release kube-system/cilium",
            "FAIL",
            "would fail: already exists: revision 10 (deployed), Secret sh.helm.release.v1.cilium.v10: "
            "Helm cannot re-use a name that is still in use",
            f"{IN_STATE}; if it does not, import it (`import` option on resource cilium-release, "
            "id kube-system/cilium: the same values and chart version, or the import is an upgrade) or uninstall it: "
            "helm --kube-context main -n kube-system uninstall cilium (a Flux HelmRelease: suspend it, then delete it; "
            f"{ADOPTING})",
        )
    ]


def test_an_existing_namespace_not_pulumi_s_fails_and_what_is_in_it_is_read(lab: Lab) -> None:
    lab.api.kube["/api/v1/namespaces/network"] = {"kind": "Namespace", "metadata": meta("network", labels=FLUX)}
    assert lab.group(OBJ) == [
        (OBJ, "objects of the program", "PASS", "21 objects: 20 not there yet, 1 there (lines below)", ""),
        (
            OBJ,
            "Namespace network",
            "FAIL",
            "would fail: already exists, not Pulumi's (Flux Kustomization flux-system/cluster-apps)",
            "import it for one up (`import` option on resource envoy-gateway-namespace, id network; "
            f"{ADOPTING}), or delete it: kubectl --context main delete namespaces network",
        ),
        (OBJ, "objects of Chart network/envoy-gateway-crds", "PASS", "2 objects, none there yet", ""),
    ]
    assert ("GET", "/apis/gateway.networking.k8s.io/v1/namespaces/network/gateways/envoy-external") in lab.api.requests


def test_existing_gateway_class_and_cluster_issuer_fail(lab: Lab) -> None:
    gateway_class_and_issuer(lab, FLUX_HELM)
    assert lab.group(OBJ) == [
        (OBJ, "objects of the program", "PASS", "21 objects: 19 not there yet, 2 there (lines below)", ""),
        (
            OBJ,
            "ClusterIssuer letsencrypt-prod",
            "FAIL",
            "would fail: already exists, not Pulumi's (Flux Kustomization flux-system/cluster-apps)",
            "import it for one up (`import` option on resource cert-manager-letsencrypt-prod, id letsencrypt-prod; "
            f"{ADOPTING}), or delete it: kubectl --context main delete clusterissuers.cert-manager.io letsencrypt-prod",
        ),
        (
            OBJ,
            "GatewayClass envoy",
            "FAIL",
            "would fail: already exists, not Pulumi's (Helm release network/envoy-gateway of Flux HelmRelease "
            "network/envoy-gateway)",
            "import it for one up (`import` option on resource envoy-gateway-class, id envoy; "
            f"{ADOPTING}), or delete it: kubectl --context main delete gatewayclasses.gateway.networking.k8s.io envoy",
        ),
        (OBJ, "objects of Chart network/envoy-gateway-crds", "PASS", "2 objects, none there yet", ""),
    ]


def test_pulumi_s_own_objects_and_upsert_warn(lab: Lab) -> None:
    """Made by Pulumi: fine if this stack's state holds it. With upsert on: taken over, a WARN."""
    gateway_class_and_issuer(lab, {"app.kubernetes.io/managed-by": "pulumi"})
    assert lab.not_passed() == [
        (
            OBJ,
            "ClusterIssuer letsencrypt-prod",
            "FAIL",
            "would fail: already exists, not Pulumi's (Flux Kustomization flux-system/cluster-apps)",
            "import it for one up (`import` option on resource cert-manager-letsencrypt-prod, id letsencrypt-prod; "
            f"{ADOPTING}), or delete it: kubectl --context main delete clusterissuers.cert-manager.io letsencrypt-prod",
        ),
        (
            OBJ,
            "GatewayClass envoy",
            "WARN",
            "exists, made by Pulumi (Helm release network/envoy-gateway): fine if stack main's state holds it, "
            "else would fail: already exists",
            f"{IN_STATE}; if it does not, import it (`import` option on resource envoy-gateway-class, id envoy) "
            "or delete it: kubectl --context main delete gatewayclasses.gateway.networking.k8s.io envoy",
        ),
    ]
    upsert = lab.not_passed(PULUMI_K8S_UPSERT_EXISTING_OBJECTS="true")
    assert upsert[0] == (
        OBJ,
        "ClusterIssuer letsencrypt-prod",
        "WARN",
        "exists, not Pulumi's (Flux Kustomization flux-system/cluster-apps): $PULUMI_K8S_UPSERT_EXISTING_OBJECTS "
        "is true, so up takes it over with server-side apply",
        "stop its other manager (Flux Kustomization flux-system/cluster-apps) first: a field it owns with another "
        "value is a conflict",
    )
    assert [line[2] for line in upsert] == ["WARN", "WARN"]


CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gatewayclasses.gateway.networking.k8s.io"


def test_an_existing_crd_of_the_chart_fails_with_the_chart_s_way_out(lab: Lab) -> None:
    lab.api.kube[CRD_PATH] = crd("gatewayclasses.gateway.networking.k8s.io")
    assert lab.group(OBJ)[1:] == [
        (
            OBJ,
            "objects of Chart network/envoy-gateway-crds",
            "PASS",
            "2 objects: 1 not there yet, 1 there (lines below)",
            "",
        ),
        (
            OBJ,
            "CustomResourceDefinition gatewayclasses.gateway.networking.k8s.io",
            "FAIL",
            "would fail: already exists, not Pulumi's (no owner label)",
            "let Chart network/envoy-gateway-crds take it over: PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true for the first "
            "up (server-side apply), or delete it (deleting a CRD deletes every object of its kind): "
            "kubectl --context main delete customresourcedefinitions.apiextensions.k8s.io "
            "gatewayclasses.gateway.networking.k8s.io",
        ),
    ]


def test_a_chart_that_cannot_be_rendered_is_a_warning(lab: Lab) -> None:
    def unavailable(chart: HelmTarget) -> list[dict[str, Any]]:
        raise RenderUnavailableError("no chart package gateway-crds-helm-v1.9.0.tgz")

    lab.render = unavailable
    assert lab.not_passed() == [
        (
            OBJ,
            "objects of Chart network/envoy-gateway-crds",
            "WARN",
            "not checked: no chart package gateway-crds-helm-v1.9.0.tgz",
            "make charts (the pinned chart packages; online once), then run preflight again",
        )
    ]


def test_an_existing_app_namespace_would_fail(lab: Lab) -> None:
    """Since pulumi-kubernetes 4.29 an object that exists fails its create: the first up stops."""
    lab.api.kube["/api/v1/namespaces/observability"] = {"kind": "Namespace", "metadata": meta("observability")}
    assert lab.not_passed() == [
        (
            "Namespaces",
            "namespace observability",
            "FAIL",
            "exists, not Pulumi's (no owner label): would fail: already exists",
            "if something else owns it, set createNamespace: false on its apps; else import it for one up "
            "(`import` option on resource observability.namespace, id observability), or let the program adopt "
            "it: PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true for the first up",
        )
    ]
    assert ("GET", "/apis/gateway.networking.k8s.io/v1/namespaces/observability/httproutes/grafana") in lab.api.requests


def test_a_namespace_nothing_creates_must_exist(exp: Expected) -> None:
    """An app with ``createNamespace: false``: the program creates no Namespace for it."""
    needed = "HTTPRoute media/jellyfin"
    missing = check_namespace(exp, "media", needed, None, None, False)
    assert (missing.group, missing.name, missing.status.value, missing.evidence, missing.fix) == (
        "Namespaces",
        "namespace media",
        "FAIL",
        "missing: up creates HTTPRoute media/jellyfin in it and fails (the provider retries NotFound, then gives up)",
        "kubectl --context main create namespace media, or deploy what owns it first",
    )
    there = check_namespace(exp, "media", needed, None, meta("media"), False)
    assert (there.status.value, there.evidence, there.fix) == ("PASS", "exists (HTTPRoute media/jellyfin is in it)", "")
