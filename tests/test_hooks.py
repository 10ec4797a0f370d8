"""The pre- and post-generation hooks, through the cookiecutter command line."""

import json
import subprocess
from pathlib import Path

import pytest

import baking
from baking import bake


def cookiecutter_cli(tmp_path: Path, *options: str) -> subprocess.CompletedProcess:
    """Generate into `tmp_path`, run from there."""
    return baking.cookiecutter_cli(tmp_path, *options)


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("my-project", "is not a valid identifier"),
        ("1st_project", "is not a valid identifier"),
        ("_private", "is not a valid identifier"),
        ("café", "is not a valid identifier"),
        ("MyProject", "must be lowercase"),
    ],
)
def test_an_invalid_slug_is_rejected_with_a_one_line_reason(tmp_path, slug, reason):
    result = cookiecutter_cli(tmp_path, f"project_slug={slug}")
    assert result.returncode != 0
    # What a person sees in the terminal: cookiecutter logs to stdout, the hook to stderr.
    seen = result.stdout + result.stderr
    error_lines = [line for line in seen.splitlines() if line.startswith("ERROR:")]
    assert len(error_lines) == 1, seen
    assert f"project_slug '{slug}' {reason}" in error_lines[0]
    assert "Traceback" not in seen, "cookiecutter's own FailedHookException traceback is dropped"
    assert sorted(seen.strip().splitlines()) == [
        error_lines[0],
        "Hook script failed (exit status: 1)",
    ]
    assert not any(tmp_path.iterdir()), "nothing is generated"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Realtime Django", "realtime_django"),
        ("Acme Live!", "acme_live"),
        ("Acme.Live", "acme_live"),
        ("Café Chat", "cafe_chat"),  # transliterated: the slug names a folder and a database
        ("  My-Project  ", "my_project"),
        # A package name cannot start with a digit: the slug keeps the name's words after
        # a neutral prefix rather than dropping or reordering them.
        ("3D Chat", "project_3d_chat"),
        ("!!!", "project"),
    ],
)
def test_every_reasonable_name_gives_a_valid_default_slug(tmp_path, name, slug):
    result = cookiecutter_cli(tmp_path, f"project_name={name}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [path.name for path in tmp_path.iterdir()] == [slug]
    assert f"cd {slug} && make run" in result.stdout


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("timezone=Mars/Olympus", "timezone 'Mars/Olympus' is not an IANA time zone name"),
        ("use_chat=maybe", "use_chat must be 'y' or 'n'"),
        # Choice options: cookiecutter itself refuses a value outside the list.
        ("database=mysql", "mysql provided for choice variable database"),
        ("channel_layer=rabbitmq", "rabbitmq provided for choice variable channel_layer"),
        ("ci=jenkins", "jenkins provided for choice variable ci"),
        ('project_name=Acme "Live"', "project_name must be non-empty and contain no double quote"),
    ],
)
def test_other_invalid_options_are_rejected(tmp_path, option, message):
    result = cookiecutter_cli(tmp_path, option)
    assert result.returncode != 0
    assert message in result.stderr


def test_post_gen_writes_a_fresh_secret_key_and_prints_the_next_commands(tmp_path):
    result = cookiecutter_cli(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "cd realtime_django && make run" in result.stdout
    assert "cd realtime_django && make test" in result.stdout
    first = (tmp_path / "realtime_django" / ".env").read_text()
    second = (bake(tmp_path / "again") / ".env").read_text()
    keys = [
        line
        for text in (first, second)
        for line in text.splitlines()
        if line.startswith("SECRET_KEY=")
    ]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert all(len(key) > 60 and "change-me" not in key for key in keys)


@pytest.mark.parametrize("slug", ["realtime", "chat", "test"])
def test_a_slug_named_like_a_module_is_fine_now_that_settings_live_in_config(
    tmp_path, project_python, slug
):
    """The slug only names the folder: the settings package is always `config`."""
    project = bake(tmp_path, project_slug=slug)
    assert (project / "config" / "settings.py").is_file()
    check = subprocess.run(  # noqa: S603
        [str(project_python), "manage.py", "check"], cwd=project, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


def test_switched_off_apps_leave_no_folder(tmp_path):
    project = bake(tmp_path, use_chat="n", use_notifications="n", use_game="n")
    for app in ("chat", "notifications", "game"):
        assert not (project / app).exists()
    # No app left: no picture; the protocol document keeps the core's part only.
    assert [path.name for path in (project / "docs").iterdir()] == ["asyncapi.json"]
    protocol = json.loads((project / "docs" / "asyncapi.json").read_text(encoding="utf-8"))
    assert protocol["channels"] == {} and protocol["components"] == {"schemas": {}}
    assert (project / "realtime").is_dir() and (project / "accounts").is_dir()
