"""preflight: read-only, everything on the live cluster and at Cloudflare that would make the
first ``pulumi up`` of a stack fail.

    homelab preflight --stack main [--json]     (or: make preflight STACK=main)

What ``up`` would create comes from the program itself: its plan under the SDK's mocks (as ``make
plan``), with each ``helm.v4.Chart`` rendered from the pinned chart. Then, through the stack's
kubeconfig context and Cloudflare token (as doctor finds them): the API server answers; kube-proxy
and other CNIs are gone; the distribution's CoreDNS does not hold the names or the address the
coredns chart wants; no Helm release of a name the program installs, and no object it creates,
is there already (the provider creates, it does not upsert); every namespace its objects live in
exists or is the program's; the token may make each Cloudflare call ``up`` makes; the tunnel and
the DNS records it creates do not exist yet. Nothing is ever written.

Exit 0 when nothing FAILs, 1 when something does, 2 for bad input (unknown stack, invalid config,
a plan the program refuses).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from homelab.doctor import checks_preflight_cloudflare, credentials, report
from homelab.doctor.checks_preflight import (
    BUILTIN_NAMESPACES,
    GROUPS,
    NAMESPACES,
    NETWORKING,
    OBJECTS,
    RELEASES,
    UPSERT_ENV,
    check_absent,
    check_cni,
    check_dns_deployment,
    check_dns_service,
    check_existing,
    check_kube_proxy,
    check_namespace,
    check_release,
    coredns_release,
    release_secrets_path,
)
from homelab.doctor.command import stack_parser
from homelab.doctor.expected import Expected, load
from homelab.doctor.kube import Kube, KubeError, Obj, guarded
from homelab.doctor.preflight_plan import (
    KubeTarget,
    Renderer,
    RenderUnavailableError,
    Wanted,
    chart_objects,
    chart_renderer,
    wanted,
)
from homelab.doctor.report import Check, failed, warned
from homelab.doctor.runner import Options, open_cluster, run_parts
from homelab.errors import HomelabError
from homelab.plan import mockrun
from homelab.plan.mockrun import Plan

TITLE = "homelab preflight: stack {stack} (context {context}, domain {domain}, zone {zone})"


def _items(found: Obj | None) -> list[Obj]:
    items = (found or {}).get("items")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _once(read: Callable[[], Any]) -> Callable[[], Any]:
    """One read shared by several checks: its answer, or its failure, for each of them."""
    memo: list[Any] = []

    def call() -> Any:
        if not memo:
            try:
                memo.append((read(), None))
            except KubeError as exc:
                memo.append((None, exc))
        value, error = memo[0]
        if error is not None:
            raise error
        return value

    return call


def _networking(exp: Expected, kube: Kube, want: Wanted) -> list[Check]:
    access = exp.read_access
    daemonsets = _once(lambda: _items(kube.read("/apis/apps/v1/daemonsets")))
    out = [
        guarded(NETWORKING, "kube-proxy", lambda: check_kube_proxy(exp, daemonsets()), access),
        guarded(NETWORKING, "other CNI", lambda: check_cni(exp, daemonsets()), access),
    ]
    release = coredns_release(want.releases, exp.coredns_ip)
    if release is None:
        return out
    values = dict(release.values)
    svc = str((values.get("service") or {}).get("name") or release.name)
    dep = str(values.get("fullnameOverride") or release.name)
    base = f"/namespaces/{release.namespace}"
    out.append(
        guarded(
            NETWORKING,
            f"Service {release.namespace}/{svc}",
            lambda: check_dns_service(
                exp,
                release,
                kube.read(f"/api/v1{base}/services/{svc}"),
                _items(kube.read("/api/v1/services")),
            ),
            access,
        )
    )
    out.append(
        guarded(
            NETWORKING,
            f"Deployment {release.namespace}/{dep}",
            lambda: check_dns_deployment(exp, release, kube.metadata(f"/apis/apps/v1{base}/deployments/{dep}")),
            access,
        )
    )
    return out


#: A namespace preflight could not read: what is in it is read object by object.
UNKNOWN: Obj = {}


def _namespaces(kube: Kube, names: set[str]) -> dict[str, Obj | None]:
    out: dict[str, Obj | None] = {}
    for name in sorted(names - BUILTIN_NAMESPACES):
        try:
            found = kube.metadata(f"/api/v1/namespaces/{name}")
        except KubeError:
            found = UNKNOWN
        out[name] = None if found is None else found if found is UNKNOWN else found.get("metadata") or {}
    return out


def _objects(
    exp: Expected, kube: Kube, title: str, targets: list[KubeTarget], spaces: dict[str, Obj | None], upsert: bool
) -> list[Check]:
    lines: list[Check] = []
    present = 0
    for target in targets:
        if target.namespace and target.namespace in spaces and spaces[target.namespace] is None:
            continue  # its namespace is not there: neither is it
        known = spaces.get(target.name) if target.kind == "Namespace" and target.name in spaces else UNKNOWN
        try:
            meta = known if known is not UNKNOWN else (kube.metadata(target.path) or {}).get("metadata")
        except KubeError as exc:
            lines.append(failed(OBJECTS, target.label, f"cannot read it: {exc}", exp.read_access))
            continue
        if meta is None or meta is UNKNOWN:
            continue
        present += 1
        lines.append(check_existing(exp, target, meta, upsert))
    return [check_absent(OBJECTS, title, len(targets), present), *lines]


def cluster_checks(exp: Expected, kube: Kube, want: Wanted, render: Renderer, upsert: bool) -> list[Check]:
    out = _networking(exp, kube, want)
    created = {t.name: t for t in want.objects if t.kind == "Namespace"}
    apps = {app.namespace for app in exp.apps}
    spaces = _namespaces(kube, set(want.namespaces) | set(created))
    for release in want.releases:
        if not release.stored:
            continue
        path, labels = release_secrets_path(release)
        absent = spaces.get(release.namespace, UNKNOWN) is None
        out.append(
            guarded(
                RELEASES,
                release.label,
                lambda release=release, path=path, labels=labels, absent=absent: check_release(
                    exp, release, [] if absent else kube.metadata_list(path, labels)
                ),
                exp.read_access,
            )
        )
    program = [t for t in want.objects if not (t.kind == "Namespace" and t.name in apps)]
    out += _objects(exp, kube, "objects of the program", program, spaces, upsert)
    for chart in want.charts:
        title = f"objects of {chart.label}"
        try:
            targets = chart_objects(chart, render(chart))
        except RenderUnavailableError as exc:
            fix = "make charts (the pinned chart packages; online once), then run preflight again"
            out.append(warned(OBJECTS, title, f"not checked: {exc}", fix))
            continue
        out += _objects(exp, kube, title, targets, spaces, upsert)
    for namespace, needed_by in want.namespaces.items():
        if namespace in BUILTIN_NAMESPACES or (namespace in created and namespace not in apps):
            continue  # the cluster's own, or the stack's (its line is above, with the objects)
        meta = spaces.get(namespace)
        if meta is UNKNOWN:
            out.append(failed(NAMESPACES, f"namespace {namespace}", "cannot read it", exp.read_access))
            continue
        out.append(check_namespace(exp, namespace, needed_by, created.get(namespace), meta, upsert))
    return out


def upsert_on(env: Mapping[str, str]) -> bool:
    """The provider reads ``$PULUMI_K8S_UPSERT_EXISTING_OBJECTS`` as a boolean."""
    return str(env.get(UPSERT_ENV, "")).strip().lower() in ("1", "true")


def run(exp: Expected, want: Wanted, opts: Options, render: Renderer) -> list[Check]:
    def cluster_part(exp: Expected, opts: Options) -> list[Check]:
        with open_cluster(exp, opts.kubeconfig) as (access, kube):
            if kube is None:
                return [access]
            return [access, *cluster_checks(exp, kube, want, render, upsert_on(opts.env))]

    def cloudflare_part(exp: Expected, opts: Options) -> list[Check]:
        token = credentials.find_token(exp.stack, opts.root, opts.env, opts.which)
        checks = checks_preflight_cloudflare.cloudflare_checks(exp, want, token, opts.cloudflare_api)
        return report.redact(checks, [token.value or ""])

    return run_parts((("cluster", cluster_part), ("Cloudflare", cloudflare_part)), exp, opts, "preflight")


def plan_of(stack: str, root: Path) -> Plan:
    """The program's plan for ``stack`` (homelab/plan/mockrun.py, as ``make plan`` runs it)."""
    config = mockrun.read_stack_config(stack, mockrun.stack_file(stack, root))
    return mockrun.run(stack, config, root=root)


def main(argv: list[str] | None = None) -> int:
    args = stack_parser("homelab preflight", __doc__, "preflight").parse_args(argv)
    try:
        exp = load(args.stack, args.root)
        plan = plan_of(args.stack, args.root)
    except HomelabError as exc:  # bad input: the config, a stack file, the gate
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: one line unless asked for more
        if args.debug:
            raise
        print(f"error: the plan failed: {type(exc).__name__}: {exc} (re-run with --debug)", file=sys.stderr)
        return 2
    opts = Options.live(args.root, args.debug)
    checks = report.redact(
        run(exp, wanted(plan), opts, chart_renderer(plan)), [opts.env.get(credentials.TOKEN_ENV, "")]
    )
    cf = exp.cluster.cloudflare
    title = TITLE.format(stack=exp.stack, context=exp.context, domain=exp.cluster.domain, zone=cf.zone)
    return report.show(checks, title, args.json, GROUPS)


if __name__ == "__main__":
    sys.exit(main())
