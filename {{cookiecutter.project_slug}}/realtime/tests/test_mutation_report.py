"""The `make mutate` report (realtime/testing/mutation.py), from mutmut's result files."""

import json

from realtime.testing.mutation import not_killed, report, verdicts


def test_the_report_scores_each_module_and_names_what_was_not_killed(tmp_path):
    meta = tmp_path / "game" / "rules.py.meta"
    meta.parent.mkdir()
    codes = {"game.rules.x_a__mutmut_1": 1, "game.rules.x_a__mutmut_2": 0,
             "game.rules.x_a__mutmut_3": 36, "game.rules.x_b__mutmut_1": 33,
             "game.rules.x_b__mutmut_2": None}  # fmt: skip
    meta.write_text(json.dumps({"exit_code_by_key": codes}))

    modules = verdicts(tmp_path)
    assert not_killed(modules) == ["game.rules.x_a__mutmut_2", "game.rules.x_b__mutmut_1"]
    lines = report(tmp_path).splitlines()
    # killed, timeout, survived, no tests, not run; the score counts a timeout as killed
    assert lines[1].split() == ["game.rules", "1", "1", "1", "1", "1", "50.0", "%"]
    assert lines[-2:] == ["  game.rules.x_a__mutmut_2", "  game.rules.x_b__mutmut_1"]
