"""doctor: read-only checks of one stack's live cluster and Cloudflare side.

    homelab doctor --stack main [--json] [--probe]     (or: make doctor STACK=main)

Reads what ``Pulumi.<stack>.yaml`` asks for (with the program's own config models) and checks
that it is there: Cilium, LB-IPAM and L2, cluster DNS, the gateways, routes and policies, the
certificate, external-dns and its records, the Cloudflare Tunnel and public DNS; ``--probe``
adds one HTTPS GET through each public name. Nothing is ever written, to the cluster or to
Cloudflare. Each check is PASS, WARN or FAIL with its evidence and, when not PASS, what to do.

Kubernetes: the context ``homelab:cluster.kubeContext`` of ``$KUBECONFIG`` (or ~/.kube/config).
Cloudflare: ``$CLOUDFLARE_API_TOKEN``, else the stack's ``homelab:cloudflareApiToken`` through
the Pulumi CLI; ``$HOMELAB_CLOUDFLARE_API`` overrides the API URL. Public DNS: 1.1.1.1 unless
``--nameserver`` says otherwise.

Exit 0 when nothing FAILs, 1 when something does, 2 for bad input (unknown stack, invalid config).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from homelab.doctor import report
from homelab.doctor.checks_dns import DEFAULT_NAMESERVER, parse_nameserver
from homelab.doctor.credentials import TOKEN_ENV
from homelab.doctor.expected import BadInputError, load
from homelab.doctor.runner import Options, run
from homelab.paths import ROOT


def stack_parser(prog: str, doc: str | None, tool: str) -> argparse.ArgumentParser:
    """The options doctor and preflight share: the stack, ``--json``, the project, ``--debug``."""
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", required=True, help="stack name (a Pulumi.<stack>.yaml beside Pulumi.yaml)")
    parser.add_argument(
        "--json", action="store_true", help="print a JSON list of {group, check, status, evidence, fix}"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="project directory (default: this one)")
    parser.add_argument("--debug", action="store_true", help=f"show a traceback when {tool} itself fails")
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = stack_parser("homelab doctor", __doc__, "doctor")
    parser.add_argument("--probe", action="store_true", help="also GET https://<name>/ for each public app")
    parser.add_argument(
        "--nameserver",
        action="append",
        metavar="IP[:PORT]",
        help=f"public resolver to ask (repeatable; default {DEFAULT_NAMESERVER})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        nameservers = [parse_nameserver(s) for s in args.nameserver or [DEFAULT_NAMESERVER]]
    except ValueError as exc:
        print(f"error: --nameserver: {exc} (IP, IP:PORT or [IPv6]:PORT)", file=sys.stderr)
        return 2
    try:
        exp = load(args.stack, args.root)
    except BadInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    opts = Options.live(args.root, args.debug, nameservers=nameservers, probe=args.probe)
    checks = report.redact(run(exp, opts), [opts.env.get(TOKEN_ENV, "")])
    cf = exp.cluster.cloudflare
    title = f"homelab doctor: stack {exp.stack} (context {exp.context}, domain {exp.cluster.domain}, zone {cf.zone})"
    return report.show(checks, title, args.json)


if __name__ == "__main__":
    sys.exit(main())
