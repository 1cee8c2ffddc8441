"""What every component repeats: its opening (:class:`Component`: the type token, children
under it), a pinned Helm release, a token Secret, and the hash of a token a pod template carries
so that a new token rolls the pods."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar

import pulumi
from pulumi_kubernetes.core.v1 import Secret
from pulumi_kubernetes.helm.v3 import Release, ReleaseArgs, RepositoryOptsArgs
from pulumi_kubernetes.helm.v4 import Chart, ChartArgs
from pulumi_kubernetes.helm.v4 import RepositoryOptsArgs as ChartRepositoryOptsArgs
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from homelab.config.catalog import HelmChart
from homelab.config.models import Charts


class Component(pulumi.ComponentResource):
    """A component of the homelab. ``TYPE`` is its type token, ``homelab:<module>:<Class>``,
    written out (never derived): it is part of every child's URN, so a change would replace
    everything the component made (tests/components/test_program.py holds each one)."""

    TYPE: ClassVar[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(self.TYPE, name, None, opts)

    def child(self, after: Sequence[pulumi.Resource] = (), **more: Any) -> pulumi.ResourceOptions:
        """Options of a child: under this component, after ``after``."""
        return pulumi.ResourceOptions(parent=self, depends_on=list(after), **more)


#: Helm release revisions kept for `helm rollback`.
HISTORY = 5

#: The provider's wait when a release names none (pulumi/pulumi-kubernetes v4.32
#: provider/pkg/provider/helm_release.go: ``const defaultTimeoutSeconds = 300``). Helm spends it
#: on each hook and then on waiting for every object (``client.Wait = !SkipAwait``); a release
#: that runs out is failed and everything that depends on it is skipped. Each component names
#: its own, sized for a first install: image pulls over a homelab uplink count against it.
PROVIDER_DEFAULT_TIMEOUT = 300


def helm_release(
    resource_name: str,
    chart: HelmChart,
    charts: Charts,
    *,
    values: pulumi.Input[dict[str, Any]],
    timeout: int,
    opts: pulumi.ResourceOptions,
    skip_crds: bool = False,
) -> Release:
    """A ``helm.v3.Release`` (v4.Chart drops hooks such as Envoy Gateway's certgen Job) of
    ``chart`` as the catalog declares it, at the version ``charts`` pins.

    ``timeout``: seconds Helm may wait, for each hook and then for the release's objects.
    """
    return Release(
        resource_name,
        ReleaseArgs(
            name=chart.release,
            chart=chart.chart,
            version=chart.version(charts),
            namespace=chart.namespace,
            repository_opts=RepositoryOptsArgs(repo=chart.repo) if chart.repo else None,
            values=values,
            skip_crds=skip_crds,
            max_history=HISTORY,
            timeout=timeout,
        ),
        opts=opts,
    )


def client_side_chart(
    resource_name: str,
    chart: HelmChart,
    charts: Charts,
    *,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> Chart:
    """A chart without hooks applied object by object (``helm.v4.Chart``): no release Secret.

    Helm stores a release in one Secret, and the API server refuses Secrets over 1 MiB; a chart
    of CRDs (gateway-crds-helm) is larger than that, so it can never be a ``helm.v3.Release``.
    The provider renders it client-side and registers each object as its own resource named
    ``<resource_name>:<name>`` (``<resource_name>:<namespace>/<name>`` when namespaced), applied
    with server-side apply (pulumi/pulumi-kubernetes v4.32 provider/pkg/provider/yaml/v2/yaml.go
    ``register``: ``resourceName = fmt.Sprintf("%s:%s", opts.ResourcePrefix, resourceName)``).
    Hooks are never run (``cmd.DisableHooks = true`` in provider/pkg/provider/helm/v4/chart.go),
    so only a chart without hooks may come this way. Depending on it waits for every object:
    "the construction of a remote component always waits on the construction of its children"
    (pulumi SDK ``pulumi/runtime/rpc.py`` ``_add_dependency``).
    """
    return Chart(
        resource_name,
        ChartArgs(
            name=chart.release,
            chart=chart.chart,
            version=chart.version(charts),
            namespace=chart.namespace,
            repository_opts=ChartRepositoryOptsArgs(repo=chart.repo) if chart.repo else None,
            values=values,
            resource_prefix=resource_name,
        ),
        opts=opts,
    )


def token_hash(token: str) -> str:
    """What a pod template carries for a token it reads at start: 16 hex digits of its SHA-256
    (nothing of a random token can be learned from it)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def rolling_hash(token: pulumi.Input[str]) -> pulumi.Output[str]:
    """:func:`token_hash` of a secret token, as a plain Output (the hash is not the secret)."""
    return pulumi.Output.unsecret(pulumi.Output.from_input(token).apply(token_hash))


def token_secret(
    resource_name: str, *, name: str, namespace: str, key: str, token: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> Secret:
    """An Opaque Secret holding one token, secret in Pulumi's state too."""
    return Secret(
        resource_name,
        metadata=ObjectMetaArgs(name=name, namespace=namespace),
        type="Opaque",
        string_data={key: pulumi.Output.secret(token)},
        opts=opts,
    )
