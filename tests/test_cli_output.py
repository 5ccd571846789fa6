"""Command output is printed as it is: brackets survive, piped YAML parses, bad names exit cleanly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import invariance as A
from invariance.presets import available_presets, preset_text
from invariance.tools.cli import app
from invariance.tools.profile import profile_pipeline, render_report

runner = CliRunner()


def test_help_keeps_brackets_of_install_hints():
    result = runner.invoke(app, ["robustness", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "invariance[plot]" in result.output


def test_error_messages_keep_brackets(tmp_path):
    folder = tmp_path / "data [v2]"
    result = runner.invoke(app, ["robustness", "--data", str(folder), "--model", "numpy:mean"])
    assert result.exit_code == 2
    assert "data [v2]" in result.output


def test_fail_prints_markup_like_text_verbatim(capsys):
    import typer

    from invariance.tools.console import fail

    with pytest.raises(typer.Exit):
        fail("install it: pip install 'invariance[ray]' ([bold]not markup[/bold])")
    err = capsys.readouterr().err
    assert "pip install 'invariance[ray]'" in err
    assert "[bold]not markup[/bold]" in err


def test_validate_shows_the_offending_yaml_line(tmp_path):
    policy = tmp_path / "bad.yaml"
    policy.write_text("transform:\n  transforms: [a, [b\n")
    result = runner.invoke(app, ["validate", str(policy)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert "[a, [b" in result.output or "[b" in result.output


def test_profile_table_shows_bracketed_names_verbatim():
    class Bracketed(A.HorizontalFlip):
        pass

    Bracketed.__name__ = "Flip[red]"
    report = profile_pipeline(A.Compose([Bracketed(p=1.0)]), {"image": np.zeros((8, 8, 3), np.uint8)}, runs=2)
    from invariance.tools.console import console

    with console.capture() as captured:
        console.print(render_report(report, title="policy [v1].yaml"))
    text = captured.get()
    assert "Flip[red]" in text
    assert "policy [v1].yaml" in text


@pytest.mark.parametrize("name", available_presets())
def test_presets_written_to_a_file_is_valid_yaml(name):
    # CliRunner's stdout is not a terminal, like a shell redirection; nothing may wrap at 80 columns.
    result = runner.invoke(app, ["presets", name], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    document = yaml.safe_load(result.output)
    assert document == yaml.safe_load(preset_text(name))
    assert isinstance(A.from_dict(document), A.Compose)


def test_presets_through_a_real_pipe_is_the_file(tmp_path):
    name = max(available_presets(), key=lambda n: max(map(len, preset_text(n).splitlines())))
    completed = subprocess.run(
        [sys.executable, "-c", "from invariance.tools.cli import main; main()", "presets", name],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "80", "PATH": ""},
    )
    assert completed.stdout == preset_text(name)


def test_presets_unknown_name_is_a_clean_error():
    result = runner.invoke(app, ["presets", "nope/x"])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "unknown preset 'nope/x'" in result.output
    assert "Traceback" not in result.output


def test_list_unknown_family_is_a_clean_error():
    result = runner.invoke(app, ["list", "--family", "nonsense"], env={"COLUMNS": "300"})
    assert result.exit_code != 0
    assert "'nonsense'" in result.output and "geometric" in result.output and "pixel" in result.output


def test_list_known_family_still_works():
    result = runner.invoke(app, ["list", "--family", "Mixing"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert "CopyPaste" in result.output and "HorizontalFlip" not in result.output


def test_profile_reports_the_true_share_inside_oneof():
    children = [A.Blur(p=1.0), A.InvertImg(p=1.0), A.ToGray(p=1.0), A.Posterize(p=1.0)]
    pipeline = A.Compose([A.OneOf(children, p=0.4)])
    report = profile_pipeline(pipeline, {"image": np.zeros((16, 16, 3), np.uint8)}, runs=400, warmup=0)
    shares = [step.fired_share(report.runs) for step in report.steps]
    # The block fires on 40% of the calls and picks one of four: each child runs on about 10%.
    assert all(0.04 < share < 0.17 for share in shares), shares
    assert sum(shares) == pytest.approx(sum(s.fired for s in report.steps) / 400)
    from invariance.tools.console import console

    with console.capture() as captured:
        console.print(render_report(report))
    rows = [line for line in captured.get().splitlines() if any(c in line for c in ("Blur", "Invert"))]
    assert len(rows) == 2
    assert all("100%" not in row for row in rows), rows
