"""Ruffus' own account of what it will run: pipeline_printout and the flowchart,
written before a run or instead of it (dry run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmill.testing._workflows import diamond


def test_dry_run_writes_printout_and_flowchart_and_runs_nothing(tmp_path: Path) -> None:
    printout, flowchart = tmp_path / "plan.txt", tmp_path / "plan.dot"
    result = diamond(tmp_path).run(plugin="ruffus", dry_run=True, printout=str(printout),
                                   flowchart=str(flowchart))
    assert sorted(result.pending) == ["bottom", "left", "right", "top"]
    assert result.executed == [] and result.failed == []
    assert not (tmp_path / "diamond" / "top" / "result.pkl").exists()
    text = printout.read_text()
    assert "Tasks which will be run:" in text
    for task in ("top", "left (+1 more)", "bottom"):
        assert f"::{task}'" in text
    assert "Job  = [(start)" in text and "-> top]" in text
    assert "[top" in text and "-> left]" in text and "-> right]" in text
    assert "[left, right" in text and "-> bottom]" in text
    dot = flowchart.read_text()
    assert dot.lstrip().startswith("digraph")
    assert 'label="top"' in dot and 'label="left (+1 more)"' in dot and 'label="bottom"' in dot
    assert dot.count(" -> ") == 2


def test_printout_lists_only_what_flowmill_will_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = diamond(tmp_path).run(plugin="ruffus", printout="-")
    assert sorted(first.executed) == ["bottom", "left", "right", "top"]
    assert "-> bottom]" in capsys.readouterr().out
    wf = diamond(tmp_path)
    wf.get_node("right").inputs.step = 5
    second = wf.run(plugin="ruffus", printout="-")
    out = capsys.readouterr().out
    assert sorted(second.executed) == ["bottom", "right"]
    assert "Task = 'diamond-" in out and "::right -> bottom'" in out
    assert "-> right -> bottom]" in out
    assert "::top" not in out and "left" not in out
    assert second["bottom"].out == 22 + 16


def test_dry_run_does_not_touch_the_cache(tmp_path: Path) -> None:
    diamond(tmp_path).run(plugin="ruffus", dry_run=True, printout=str(tmp_path / "p.txt"))
    result = diamond(tmp_path).run(plugin="ruffus")
    assert sorted(result.executed) == ["bottom", "left", "right", "top"]
    again = diamond(tmp_path).run(plugin="ruffus", dry_run=True, printout=str(tmp_path / "p.txt"))
    assert sorted(again.cached) == ["bottom", "left", "right", "top"] and again.pending == []
