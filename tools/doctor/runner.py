"""Runs every check of one stack: the cluster, Cloudflare and public DNS side by side.

The three sources do not depend on each other, so they run in parallel threads: the slowest
bounds the run (an unreachable cluster costs its connect timeout once, whatever else is slow).
A source that cannot be reached at all is one FAIL line in the Access group and its checks are
skipped; an unexpected failure inside one source is one FAIL line too, never a traceback (unless
``debug``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tools.doctor import checks_cloudflare, checks_dns, credentials
from tools.doctor.checks_cluster import cluster_checks
from tools.doctor.expected import Expected
from tools.doctor.kube import Kube, KubeconfigError, KubeError, connect
from tools.doctor.report import ACCESS, Check, failed, passed, redact


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Options:
    """Where doctor looks. Every default is the real one; tests point each at the loopback."""

    root: Path
    kubeconfig: str
    env: Mapping[str, str]
    nameservers: Sequence[tuple[str, int]] = ((checks_dns.DEFAULT_NAMESERVER, 53),)
    probe: bool = False
    cloudflare_api: str | None = None
    prober: Callable[[str], checks_dns.Probe] = checks_dns.probe
    which: Callable[[str], str | None] = shutil.which
    now: Callable[[], datetime] = field(default=_now)
    debug: bool = False


def cluster_part(exp: Expected, opts: Options) -> list[Check]:
    name = f"cluster {exp.context}"
    try:
        api_client, host = connect(exp.context, opts.kubeconfig)
    except KubeconfigError as exc:
        return [
            failed(
                ACCESS,
                name,
                f"{exc}; cluster checks skipped",
                f"homelab:cluster.kubeContext is {exp.context!r}: add that context to the kubeconfig, "
                "or point KUBECONFIG at the file that has it",
            )
        ]
    try:
        kube = Kube(api_client)
        try:
            version = kube.version()
        except KubeError as exc:
            return [
                failed(
                    ACCESS,
                    name,
                    f"{host}: {exc}; cluster checks skipped",
                    f"is the cluster up, {host} reachable from here and the context's credentials valid? "
                    f"{exp.kubectl('get --raw /version')}",
                )
            ]
        out = [passed(ACCESS, name, f"{host}, Kubernetes {version.get('gitVersion', '?')}")]
        return out + cluster_checks(exp, kube, opts.now())
    finally:
        api_client.close()


def cloudflare_part(exp: Expected, opts: Options) -> list[Check]:
    token = credentials.find_token(exp.stack, opts.root, opts.env, opts.which)
    return redact(checks_cloudflare.cloudflare_checks(exp, token, opts.cloudflare_api), [token.value or ""])


def public_part(exp: Expected, opts: Options) -> list[Check]:
    out = checks_dns.public_dns_checks(exp, opts.nameservers)
    if opts.probe:
        out += checks_dns.probe_checks(exp, opts.prober)
    return out


def _guard(what: str, part: Callable[[Expected, Options], list[Check]], exp: Expected, opts: Options) -> list[Check]:
    try:
        return part(exp, opts)
    except Exception as exc:
        if opts.debug:
            raise
        return [
            failed(
                ACCESS,
                what,
                f"doctor stopped: {type(exc).__name__}: {exc}",
                "a bug in doctor or an answer it does not understand: re-run with --debug for the traceback",
            )
        ]


def run(exp: Expected, opts: Options) -> list[Check]:
    parts = (("cluster", cluster_part), ("Cloudflare", cloudflare_part), ("public DNS", public_part))
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        futures = [pool.submit(_guard, what, part, exp, opts) for what, part in parts]
        return [check for future in futures for check in future.result()]
