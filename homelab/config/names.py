"""Names other objects refer to. Each is written once here, so a reference can't drift.

The seed names these objects; nothing that points at them may be auto-named.
"""

from __future__ import annotations

#: Namespace of the gateways, external-dns, cloudflared and the wildcard certificate.
NETWORK_NAMESPACE = "network"
#: Namespace this program creates for cert-manager.
CERT_MANAGER_NAMESPACE = "cert-manager"
#: Where Cilium and CoreDNS run (the cluster's own namespace).
SYSTEM_NAMESPACE = "kube-system"
#: Namespaces every cluster brings itself.
CLUSTER_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
#: Namespaces no app may create: the program's own and the cluster's.
OWNED_NAMESPACES = (NETWORK_NAMESPACE, CERT_MANAGER_NAMESPACE, *CLUSTER_NAMESPACES)

#: The HTTPRoute (in NETWORK_NAMESPACE) that answers both gateways' port 80 with a redirect.
REDIRECT_ROUTE = "https-redirect"

GATEWAY_CLASS = "envoy"
#: The EnvoyProxy the GatewayClass points at, and the name of both traffic policies.
ENVOY_PROXY = "envoy"
EXTERNAL_GATEWAY = "envoy-external"
INTERNAL_GATEWAY = "envoy-internal"
HTTPS_LISTENER = "https"
HTTP_LISTENER = "http"

#: Secret the Certificate writes and both HTTPS listeners read.
WILDCARD_TLS_SECRET = "wildcard-tls"

#: external-dns annotation prefix. Chart 1.21 (app 0.21) reads `external-dns.alpha.kubernetes.io/`;
#: app 0.22 changed the default, and with `policy: sync` a silent change deletes live records.
#: The Gateways' target annotations and external-dns's `--annotation-prefix` both use this.
EXTERNAL_DNS_ANNOTATION_PREFIX = "external-dns.alpha.kubernetes.io/"
EXTERNAL_DNS_TARGET_ANNOTATION = EXTERNAL_DNS_ANNOTATION_PREFIX + "target"

#: Cilium LB-IPAM: the Service of a Gateway asks for its fixed IP with this annotation.
LB_IPS_ANNOTATION = "lbipam.cilium.io/ips"


#: Cluster-scoped kinds among those the program and its charts create: a chart's object of any
#: other kind rendered without a namespace lands in the chart's; an import id of one of these
#: is ``<name>``, of any other ``<namespace>/<name>``.
CLUSTER_SCOPED = frozenset(
    {
        "APIService",
        # cilium pkg/k8s/apis/cilium.io (lbipam_types.go, l2announcement_types.go):
        # `+kubebuilder:resource:...,scope="Cluster"`
        "CiliumL2AnnouncementPolicy",
        "CiliumLoadBalancerIPPool",
        "ClusterIssuer",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "GatewayClass",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "PriorityClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
    }
)


def service_fqdn(name: str, namespace: str) -> str:
    """In-cluster DNS name of a Service (GatewayNamespace mode names it after its Gateway)."""
    return f"{name}.{namespace}.svc.cluster.local"
