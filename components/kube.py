"""The Kubernetes shapes every component repeats: a pinned Helm release, a token Secret, and
the hash of a token a pod template carries so that a new token rolls the pods."""

from __future__ import annotations

import hashlib
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
