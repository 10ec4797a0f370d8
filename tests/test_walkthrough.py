"""The generated README's "Your first consumer": built from its own code blocks in a bake,
checked, linted and tested there, so the walkthrough cannot rot."""

import re
import subprocess
from pathlib import Path

from baking import bake, run

# <!-- walkthrough: TARGET --> then a fenced block: TARGET is `sh` (run it), a file to
# write, or `config/settings.py EXAMPLE_APPS` (the line(s) that replace that statement).
STEP = re.compile(
    r"^<!-- walkthrough: (?P<target>[^>]+?) -->\n```\w*\n(?P<code>.*?)^```$", re.M | re.S
)


def walkthrough_steps(readme: str) -> list[tuple[str, str]]:
    section = readme.split("\n## Your first consumer\n", 1)[1].split("\n## ", 1)[0]
    return [(match["target"], match["code"]) for match in STEP.finditer(section)]


def replace_statement(source: str, name: str, new: str) -> str:
    """Replace the top-level statement that assigns `name` (one or several lines)."""
    pattern = re.compile(rf"^{name} = .*?(?=^\S)", re.M | re.S)
    assert len(pattern.findall(source)) == 1, f"one {name} statement"
    return pattern.sub(lambda _: new, source)


def test_the_first_consumer_walkthrough_builds_a_working_app(tmp_path, project_python: Path):
    project = bake(tmp_path)
    steps = walkthrough_steps((project / "README.md").read_text())
    targets = [target for target, _ in steps]
    assert targets[0] == "sh" and "config/settings.py EXAMPLE_APPS" in targets
    assert "echo/consumers.py" in targets and "echo/tests/test_echo.py" in targets
    for target, code in steps:
        if target == "sh":
            run(["bash", "-euo", "pipefail", "-c", code], cwd=project)
        elif target == "config/settings.py EXAMPLE_APPS":
            settings = project / "config" / "settings.py"
            settings.write_text(replace_statement(settings.read_text(), "EXAMPLE_APPS", code))
        else:
            assert not (project / target).exists(), f"{target} is new"
            (project / target).write_text(code)

    bin_dir = project_python.parent
    run([str(project_python), "manage.py", "check"], cwd=project)
    run([str(bin_dir / "ruff"), "check", "--no-cache", "."], cwd=project)
    run([str(bin_dir / "ruff"), "format", "--no-cache", "--check", "."], cwd=project)
    result = run([str(project_python), "-m", "pytest", "echo", "-q"], cwd=project)
    assert re.search(r"\b4 passed\b", result.stdout), result.stdout
    # It is in the navigation, as its apps.py says.
    home = subprocess.run(  # noqa: S603
        [
            str(project_python),
            "manage.py",
            "shell",
            "-c",
            "from django.test import Client; print(Client(HTTP_HOST='localhost').get('/').content.decode())",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert 'href="/echo/"' in home.stdout
