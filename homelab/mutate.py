"""Mutation score of the test suite: small deliberate changes to the code users rely on.

    homelab mutate [PATTERN ...]        (make mutate [ONLY='homelab.config.syntax.*'])

Runs mutmut (pinned in the dev dependencies; its settings are ``[tool.mutmut]`` in
pyproject.toml: ``components/`` and ``homelab/promote/``) on the mutants whose names match the
patterns (fnmatch, e.g. ``homelab.config.rules.*``; default: all), then prints the score and every
surviving mutant. A mutant is *killed* when a test fails, *survived* when every test still
passes; a *timeout* is reported apart and left out of the score (forked test runs under mutmut
are slower than the durations it records, so a mutant the tests catch can time out instead). Mutants listed in
``tests/mutation-equivalents.txt`` (one name per line, ``# why`` after it) change nothing a user
could observe and are left out of the score.

    score = killed / (killed + survived - equivalent survivors)      (timeouts left out)

Not part of `make test` or CI: every mutant reruns the tests that reach its function (the ones
that caught its siblings first, see tests/conftest.py). On this 2-core machine all ~4,250 take
about an hour; a module takes minutes. mutmut keeps its results in ``mutants/`` (git-ignored): a
later run resumes, a verdict stands until the mutant is named again, and
``.venv/bin/mutmut show <name>`` shows a mutant's diff.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from homelab.paths import ROOT

EQUIVALENTS = ROOT / "tests" / "mutation-equivalents.txt"
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"
TARGET = 0.95
_RESULT = re.compile(r"^\s*(?P<name>\S+): (?P<status>.+?)\s*$")


def equivalents(path: Path = EQUIVALENTS) -> set[str]:
    if not path.is_file():
        return set()
    names = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {name for name in names if name}


def results() -> dict[str, str]:
    """Mutant name -> status, as mutmut recorded them."""
    done = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    out = {}
    for line in done.stdout.splitlines():
        match = _RESULT.match(line)
        if match:
            out[match["name"]] = match["status"]
    return out


def score(
    statuses: dict[str, str], patterns: list[str], equivalent: set[str]
) -> tuple[float | None, list[str], Counter[str]]:
    """(score, survivors, counts) over the mutants that match ``patterns``."""
    chosen = {n: s for n, s in statuses.items() if not patterns or any(fnmatch.fnmatch(n, p) for p in patterns)}
    counts = Counter(chosen.values())
    survivors = sorted(n for n, s in chosen.items() if s == "survived" and n not in equivalent)
    # a timeout is not counted as a kill: under mutmut the forked test runs are slower than the
    # durations it recorded, so a mutant the tests would catch can time out instead (seen here)
    killed = counts["killed"]
    judged = killed + len(survivors)
    return (killed / judged if judged else None), survivors, counts


def mutmut_failure(stderr: str, patterns: list[str]) -> str:
    """mutmut's failure in one line (it ends in a traceback of its own)."""
    if "nothing matches" in stderr:
        shown = " ".join(repr(p) for p in patterns)
        return (
            f"no mutant matches {shown}: names look like components.base.x_helm_release__mutmut_1 "
            "(module, x_, function), so a module is 'components.base.*'"
        )
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return f"mutmut failed ({lines[-1]})" if lines else "mutmut failed (the clean test run must pass first)"


#: How the command line names this command.
PROG = "homelab mutate"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("patterns", nargs="*", help="mutant name patterns (fnmatch), e.g. 'homelab.config.syntax.*'")
    parser.add_argument("--report", action="store_true", help="only print the score of what was run before")
    args = parser.parse_args(argv)
    if not MUTMUT.is_file():
        print(f"error: no {MUTMUT}: run `make setup` (mutmut is a dev dependency)", file=sys.stderr)
        return 2
    if not args.patterns and not args.report:
        print("mutating everything: about an hour on 2 cores (see `homelab mutate --help`)")
    if not args.report:
        cmd = [str(MUTMUT), "run", "--max-children", str(os.cpu_count() or 2), *args.patterns]
        done = subprocess.run(cmd, cwd=ROOT, check=False, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            print(f"error: {mutmut_failure(done.stderr, args.patterns)}; no score", file=sys.stderr)
            return 2
    value, survivors, counts = score(results(), args.patterns, equivalents())
    print("\nmutants: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if counts["not checked"]:
        print(f"note: {counts['not checked']} mutants not checked yet: the score covers only the checked ones")
    if survivors:
        print(f"survivors ({len(survivors)}; `.venv/bin/mutmut show <name>` shows each):")
        print("\n".join(f"  {name}" for name in survivors))
    if value is None:
        print("score: nothing checked yet")
        return 1
    print(f"score: {value:.1%} of non-equivalent mutants killed (target {TARGET:.0%})")
    return 0 if value >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
