"""The mutation score per module, from the last `make mutate` (mutmut's files in mutants/).

`python -m realtime.testing.mutation` prints one line per mutated module (killed, survived,
score) and then every surviving mutant's name; `mutmut show NAME` prints its diff. A
timeout (the mutant hung the tests, which a test run notices) counts in the score as
killed, and is shown in its own column. With `--survivors` it prints only the names of
the mutants not killed, on one line, for `make mutate MUTANTS=...`: mutmut keeps a
verdict until the code of its function changes, so a survivor meets a new test only
when it is named.
"""

import json
import sys
from collections import Counter
from pathlib import Path

MUTANTS = Path("mutants")
# mutmut's exit codes per mutant (mutmut/stats.py): 1 and 3 are a failed test run.
KILLED = {1, 3, 37}
# -9: mutmut killed the test run after its time limit (a mutant that spins; mutmut's own
# results call it "segfault").
TIMEOUT = {36, 24, -24, 152, 255, -9}
SURVIVED = {0}
NO_TESTS = {5, 33}


def verdicts(root: Path = MUTANTS) -> dict[str, dict[str, int | None]]:
    """Exit code by mutant name, per module (dotted path), for every module mutmut mutated."""
    modules = {}
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if codes:
            module = meta.relative_to(root).with_suffix("").with_suffix("")
            modules[".".join(module.parts)] = codes
    return modules


def tally(codes: dict[str, int | None]) -> Counter:
    counts = Counter()
    for code in codes.values():
        if code in KILLED:
            counts["killed"] += 1
        elif code in TIMEOUT:
            counts["timeout"] += 1
        elif code in SURVIVED:
            counts["survived"] += 1
        elif code in NO_TESTS:
            counts["no tests"] += 1
        elif code is None:
            counts["not run"] += 1
        else:
            counts["other"] += 1
    return counts


def score(counts: Counter) -> float | None:
    detected = counts["killed"] + counts["timeout"]
    checked = detected + counts["survived"] + counts["no tests"] + counts["other"]
    return 100 * detected / checked if checked else None


def report(root: Path = MUTANTS) -> str:
    modules = verdicts(root)
    if not modules:
        return "No mutation results: run `make mutate` first.\n"
    lines = [
        f"{'module':<28} {'killed':>6} {'timeout':>7} {'survived':>8} {'no tests':>8} "
        f"{'not run':>7}  score"
    ]
    total = Counter()
    for module, codes in modules.items():
        counts = tally(codes)
        total += counts
        lines.append(_row(module, counts))
    lines.append(_row("total", total))
    survivors = not_killed(modules)
    if survivors:
        lines += ["", "Not killed (`mutmut show NAME` prints the change):"]
        lines += [f"  {name}" for name in survivors]
    return "\n".join(lines) + "\n"


def not_killed(modules: dict[str, dict[str, int | None]]) -> list[str]:
    """The mutants that survived, or that no test calls."""
    return [
        name
        for codes in modules.values()
        for name, code in codes.items()
        if code in SURVIVED or code in NO_TESTS
    ]


def _row(name: str, counts: Counter) -> str:
    value = score(counts)
    shown = "-" if value is None else f"{value:.1f} %"
    return (
        f"{name:<28} {counts['killed']:>6} {counts['timeout']:>7} {counts['survived']:>8} "
        f"{counts['no tests']:>8} {counts['not run']:>7}  {shown}"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--survivors"]:
        sys.stdout.write(" ".join(not_killed(verdicts())) + "\n")  # one line, for make
    else:
        sys.stdout.write(report())
