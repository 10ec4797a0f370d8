from pathlib import Path

import pytest

from baking import bake, run


@pytest.fixture(scope="session")
def default_project(tmp_path_factory) -> Path:
    """The project baked with every default, installed with its own `make install`,
    and a browser for the Playwright tests (`make browser`) of every bake."""
    project = bake(tmp_path_factory.mktemp("default"))
    run(["make", "install", "browser"], cwd=project)
    return project


@pytest.fixture(scope="session")
def project_python(default_project) -> Path:
    """A Python with the generated stack installed, to check other bakes with."""
    return default_project / ".venv" / "bin" / "python"
