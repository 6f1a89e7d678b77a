"""SelectFiles and Sink: nipype's SelectFiles/DataGrabber and DataSink as flowmill
nodes (issue 16). Both always run, since what they read or write is outside the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmill import File, Node, SelectFiles, Sink, Workflow, WorkflowError


def measure(scan: File) -> int:
    return len(Path(scan).read_text())


def report(scan: File, size: int) -> File:
    """Writes report.txt beside the scan."""
    out = Path(scan).parent / "report.txt"
    out.write_text(f"{Path(scan).name}: {size}\n")
    return File(out)


def data(tmp_path: Path) -> Path:
    for subject, text in (("sub-01", "aaaa"), ("sub-02", "bb")):
        (tmp_path / "data" / subject / "anat").mkdir(parents=True)
        (tmp_path / "data" / subject / "anat" / "T1w.nii").write_text(text)
    return tmp_path / "data"


def pipeline(tmp_path: Path) -> Workflow:
    wf = Workflow("study", base_dir=tmp_path / "work")
    select = SelectFiles({"anat": "{subject}/anat/*.nii"}, name="select", base_directory=tmp_path / "data",
                         iterables=("subject", ["sub-01", "sub-02"]))
    size = Node(measure, name="size")
    summary = Node(report, name="summary")
    sink = Sink(["reports", "scans"], name="sink", base_directory=tmp_path / "out", container="study")
    wf.connect([(select, size, [("anat", "scan")]), (select, summary, [("anat", "scan")]),
                (size, summary, [("out", "size")]), (summary, sink, [("out", "reports")]),
                (select, sink, [("anat", "scans")])])
    return wf


def test_select_and_sink_build_a_tidy_tree_named_by_the_iterables(tmp_path: Path) -> None:
    data(tmp_path)
    res = pipeline(tmp_path).run()
    assert [e.outputs.out for e in res["size"]] == [4, 2]
    tree = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert tree == ["study/select.subject-sub-01/reports/report.txt", "study/select.subject-sub-01/scans/T1w.nii",
                    "study/select.subject-sub-02/reports/report.txt", "study/select.subject-sub-02/scans/T1w.nii"]
    assert (tmp_path / "out/study/select.subject-sub-02/reports/report.txt").read_text() == "T1w.nii: 2\n"


def test_selection_and_sink_always_run_and_are_never_stale(tmp_path: Path) -> None:
    data(tmp_path)
    pipeline(tmp_path).run()
    (tmp_path / "out" / "study" / "select.subject-sub-01" / "scans" / "T1w.nii").unlink()
    (tmp_path / "data" / "sub-02" / "anat" / "T1w.nii").write_text("cccccc")
    again = pipeline(tmp_path).run()
    assert sorted(again.executed) == sorted([
        "select[select.subject='sub-01']", "select[select.subject='sub-02']",
        "sink[select.subject='sub-01']", "sink[select.subject='sub-02']",
        "size[select.subject='sub-02']", "summary[select.subject='sub-02']"])
    assert (tmp_path / "out" / "study" / "select.subject-sub-01" / "scans" / "T1w.nii").is_file()
    assert (tmp_path / "out/study/select.subject-sub-02/reports/report.txt").read_text() == "T1w.nii: 6\n"


def test_select_with_no_match_fails_naming_the_pattern(tmp_path: Path) -> None:
    wf = Workflow("missing", base_dir=tmp_path)
    select = SelectFiles({"anat": "{subject}/anat/*.nii"}, name="select", base_directory=tmp_path)
    select.inputs.subject = "sub-99"
    wf.add_nodes([select])
    with pytest.raises(WorkflowError, match=r"no file matches '.*sub-99/anat/\*\.nii' \(output 'anat'\)"):
        wf.run()


def test_select_several_matches_are_a_sorted_list(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt"):
        (tmp_path / name).write_text(name)
    wf = Workflow("several", base_dir=tmp_path / "work")
    wf.add_nodes([SelectFiles({"texts": "*.txt"}, name="select", base_directory=tmp_path)])
    assert [p.name for p in wf.run()["select"].texts] == ["a.txt", "b.txt"]
