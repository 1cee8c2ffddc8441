"""The two Kubernetes shapes every component repeats: a pinned Helm release and a token Secret."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_kubernetes.core.v1 import Secret
from pulumi_kubernetes.helm.v3 import Release, ReleaseArgs, RepositoryOptsArgs
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

#: Helm release revisions kept for `helm rollback`.
HISTORY = 5


def helm_release(
    resource_name: str,
    *,
    name: str,
    chart: str,
    version: str,
    namespace: str,
    values: pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
    repo: str | None = None,
    skip_crds: bool = False,
) -> Release:
    """A ``helm.v3.Release`` (v4.Chart drops hooks such as Envoy Gateway's certgen Job)."""
    return Release(
        resource_name,
        ReleaseArgs(
            name=name,
            chart=chart,
            version=version,
            namespace=namespace,
            repository_opts=RepositoryOptsArgs(repo=repo) if repo else None,
            values=values,
            skip_crds=skip_crds,
            max_history=HISTORY,
        ),
        opts=opts,
    )


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
