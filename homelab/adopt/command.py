"""adopt: what of a stack already runs, and the import plan that lets ``pulumi up`` take it over.

    homelab adopt --stack main [--json]     (or: make adopt STACK=main)

For every resource the stack's first ``pulumi up`` would create (the program's own plan under
mocks, as preflight reads it), what runs in its place, through the stack's kubeconfig context
and Cloudflare token (as doctor finds them): Kubernetes objects by kind, namespace and name; Helm
releases in Helm's storage (the latest deployed revision: chart, version, values); the tunnel
by name in the account; the DNS records by name and type in the zone. Each is absent (up creates
it), importable (its import id, and what the first up changes on it), or not adoptable as is
(why, and the way out). Then it writes ``<stack>.imports.yaml`` beside the stack file,
listing every importable resource, and says what to do next. Nothing is ever written to the
cluster or to Cloudflare.

Exit 0 when nothing FAILs, 1 when something does, 2 for bad input (unknown stack, invalid
config, a plan the program refuses, an import file there that is another stack's or unreadable).
"""

from __future__ import annotations

import sys
from dataclasses import replace

from homelab.adopt import cloudflare, output
from homelab.adopt.changes import Known
from homelab.adopt.findings import Finding, noted, ordered, unknown
from homelab.adopt.objects import chart_findings, identity, object_findings
from homelab.adopt.releases import release_findings
from homelab.config.imports import ImportFileError, import_file, read_import_plan
from homelab.config.reader import stack_file
from homelab.doctor import credentials, report
from homelab.doctor.checks_cloudflare import with_api
from homelab.doctor.cloudflare_api import Api
from homelab.doctor.command import stack_parser
from homelab.doctor.expected import Expected, load
from homelab.doctor.kube import Kube, KubeError
from homelab.doctor.preflight import plan_of
from homelab.doctor.preflight_plan import Renderer, Wanted, chart_renderer, wanted
from homelab.doctor.report import ACCESS, Check, Status, failed
from homelab.doctor.runner import Options, open_cluster, run_parts
from homelab.errors import HomelabError
from homelab.plan.mockrun import Plan

TITLE = "homelab adopt: stack {stack} (context {context}, domain {domain}, zone {zone})"
REFUSED = (
    "homelab adopt writes {name} only over an import plan of stack {stack} it can read, and leaves this one as it "
    "is: look at it, then move it away or delete it, and run `make adopt STACK={stack}` again"
)


def cluster_findings(
    exp: Expected, kube: Kube, plan: Plan, want: Wanted, render: Renderer, known: Known
) -> list[Finding]:
    try:
        found = [identity(exp, kube)]
    except KubeError as exc:
        found = [unknown(ACCESS, "cluster identity", f"cannot read it: {exc}", exp.read_access)]
    found += release_findings(exp, kube, plan, [r for r in want.releases if r.stored], known)
    found += object_findings(exp, kube, plan, list(want.objects), known)
    return found + chart_findings(exp, kube, list(want.charts), render)


def _no_cloudflare(line: Check) -> Finding:
    """Cloudflare not read (no token, a rejected one, no answer): adopt cannot judge its side."""
    if line.status is Status.FAIL:
        return noted(line)
    return noted(failed(line.group, line.name, f"{line.evidence}; nothing written", line.fix))


def _redacted(findings: list[Finding], secrets: list[str]) -> list[Finding]:
    """No secret reaches the output, whatever an error message echoed (doctor's redaction)."""
    checks = report.redact([f.check for f in findings], secrets)
    return [replace(f, check=c) for f, c in zip(findings, checks, strict=True)]


def run(exp: Expected, want: Wanted, plan: Plan, opts: Options, render: Renderer) -> list[Finding]:
    """Every finding: the cluster and Cloudflare side by side (doctor's runner). A part that
    stopped on a bug is its one FAIL line (no import plan then)."""
    known = Known()
    found: dict[str, list[Finding]] = {}

    def cluster_part(exp: Expected, opts: Options) -> list[Check]:
        with open_cluster(exp, opts.kubeconfig) as (access, kube):
            more = [] if kube is None else cluster_findings(exp, kube, plan, want, render, known)
        found["cluster"] = [noted(access), *more]
        return [f.check for f in found["cluster"]]

    def cloudflare_part(exp: Expected, opts: Options) -> list[Check]:
        collected: list[Finding] = []
        try:
            token = credentials.find_token(exp.stack, opts.root, opts.env, opts.which)

            def checks(api: Api) -> list[Check]:
                collected.extend(cloudflare.findings(exp, want, plan, api, token, known))
                return [f.check for f in collected]

            fix = credentials.token_fix(exp, "adopt")
            lines = with_api(token, opts.cloudflare_api, "the token is wrong, expired or revoked", fix, checks)
        finally:
            known.provide({})  # whatever happened: the cluster's side must not wait for it
        if [f.check for f in collected] != lines:  # no token, a rejected one, no answer
            collected = [_no_cloudflare(line) for line in lines]
        found["Cloudflare"] = _redacted(collected, [token.value or ""])
        return [f.check for f in found["Cloudflare"]]

    parts = (("cluster", cluster_part), ("Cloudflare", cloudflare_part))
    lines = run_parts(parts, exp, opts, "adopt")
    out = [f for what, _ in parts for f in found.get(what, [])]
    stopped = [noted(c) for c in lines if c.group == ACCESS and c.name in {w for w, _ in parts} - set(found)]
    return ordered(out + stopped)


def main(argv: list[str] | None = None) -> int:
    args = stack_parser("homelab adopt", __doc__, "adopt").parse_args(argv)
    try:
        exp = load(args.stack, args.root)
        path = import_file(stack_file(args.root, args.stack))
        try:
            previous = read_import_plan(path, args.stack)
        except ImportFileError as exc:  # the reader's way out is "run adopt again": not from adopt itself
            said = str(exc).removesuffix(f"; run `make adopt STACK={args.stack}` again, or delete {path.name}")
            print(f"error: {said}\n{REFUSED.format(name=path.name, stack=args.stack)}", file=sys.stderr)
            return 2
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
    findings = _redacted(
        run(exp, wanted(plan), plan, opts, chart_renderer(plan)), [opts.env.get(credentials.TOKEN_ENV, "")]
    )
    outcome = output.conclude(exp, findings, path, previous)
    cf = exp.cluster.cloudflare
    title = TITLE.format(stack=exp.stack, context=exp.context, domain=exp.cluster.domain, zone=cf.zone)
    print(output.as_json(findings, outcome, path) if args.json else output.text(findings, title, outcome))
    return report.exit_code([f.check for f in findings])


if __name__ == "__main__":
    sys.exit(main())
