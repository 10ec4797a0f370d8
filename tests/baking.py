"""Bake projects from the template and run commands in them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
DEFAULT_SLUG = "realtime_django"
COOKIECUTTER = str(Path(sys.executable).parent / "cookiecutter")


def cookiecutter_cli(
    cwd: Path,
    *extra_context: str,
    options: tuple[str, ...] = ("--no-input",),
    template: str | None = None,
    **env: str,
) -> subprocess.CompletedProcess:
    """`cookiecutter OPTIONS TEMPLATE key=value...` as a person runs it from a shell in
    `cwd` (the shell sets $PWD, which the post-generation hook reads); `env` adds variables."""
    return subprocess.run(  # noqa: S603
        [COOKIECUTTER, *options, template or str(TEMPLATE), *extra_context],
        cwd=cwd,
        env={**os.environ, "PWD": str(cwd), **env},
        capture_output=True,
        text=True,
    )


def bake(output_dir: Path, **extra_context: str) -> Path:
    """Generate a project into `output_dir` without prompts; return its folder."""
    project = cookiecutter(
        str(TEMPLATE), no_input=True, output_dir=str(output_dir), extra_context=extra_context
    )
    return Path(project)


def run(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, failing the test with its output when it fails."""
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, **kwargs)  # noqa: S603
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}",
            pytrace=False,
        )
    return result
