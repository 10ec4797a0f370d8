"""`make bench` works: one run at tiny size (the figures themselves live in the README)."""

import re
import sys
from pathlib import Path

from baking import run

TEMPLATE_DIR = Path(__file__).resolve().parent.parent


def test_the_benchmark_runs_at_tiny_size_and_loses_nothing(default_project, tmp_path):
    out = tmp_path / "out"
    done = run(
        [
            sys.executable,
            str(TEMPLATE_DIR / "bench" / "run.py"),
            "--tiny",
            "--project",
            str(default_project),
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ],
        cwd=TEMPLATE_DIR,
        timeout=900,
    )
    report = (out / "benchmark.md").read_text()
    assert report in done.stdout  # printed, and written for the README
    rows = [line for line in report.splitlines() if line.startswith("| ") and "---" not in line]
    scenarios = {tuple(cell.strip() for cell in row.split("|")[1:3]) for row in rows[1:]}
    both = {"idle", "chat room", "light load", "small rooms", "join storm", "reconnect storm"}
    assert scenarios == {
        *(
            (consumer, scenario)
            for consumer in ("tutorial ChatConsumer", "generated apps")
            for scenario in both
        ),
        ("generated apps", "announcements"),
        ("generated apps", "game"),
    }
    for row in rows[1:]:
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        if cells[1] == "idle":
            assert re.fullmatch(r"[\d.]+ KB", cells[9]), row  # memory per connection
        else:
            assert cells[7] == "0", f"lost messages: {row}"
            if "storm" not in cells[1]:  # the storms time each socket's return instead
                assert float(cells[3].replace(",", "")) > 0, row  # deliveries/s
    assert re.search(r"the apps deliver [\d.]+x as many messages per second", report)
    assert re.search(r"join storm, .*: every socket's list named everyone after", report)
    assert re.search(r"reconnect storm, .*: every socket back and resumed", report)
    assert (out / "benchmark.png").read_bytes().startswith(b"\x89PNG")
