"""What goes wrong with real tools: hostile values, missing tools, files and outputs,
failing exits and tools that never end."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from flowmill import CommandNode, File, ValidationError, Workflow, WorkflowError

from .pipeline import failing_gunzip, process_alive

HOSTILE = [
    "a; touch {canary}",
    "$(touch {canary})",
    "`touch {canary}`",
    "a && touch {canary}",
    "a | touch {canary}",
    "a\ntouch {canary}",
    "'; touch {canary}; echo '",
    "\"; touch {canary}; echo \"",
    "--version",
]


def crash_of(tmp_path: Path, workflow: str, node: str) -> dict:
    return json.loads((tmp_path / "work" / workflow / node / "crash.json").read_text())


@pytest.mark.parametrize("shell", [False, True], ids=["argv", "shell"])
def test_hostile_values_are_literal_arguments(tmp_path: Path, shell: bool) -> None:
    canary = tmp_path / "canary"
    values = [value.format(canary=canary) for value in HOSTILE]
    wf = Workflow("inject", base_dir=tmp_path / "work")
    for i, value in enumerate(values):
        command = "printf '%s\\n' {message}" if shell else ["printf", "%s\\n", "{message}"]
        node = CommandNode(command, name=f"echo{i}", inputs={"message": str}, outputs={"out": "said.txt"},
                           stdout="out", shell=shell)
        node.inputs.message = value
        wf.add_nodes([node])
    res = wf.run()
    assert not canary.exists()
    for i, value in enumerate(values):
        assert res[f"echo{i}"].out.read_text() == value + "\n"


def test_hostile_file_names_stay_one_argument(tmp_path: Path) -> None:
    source = tmp_path / "my scan; touch canary $(touch canary) `touch canary` 'x'.txt"
    source.write_text("content\n")
    wf = Workflow("names", base_dir=tmp_path / "work")
    node = CommandNode(["cp", "{in_file}", "{out_file}"], inputs={"in_file": File},
                       outputs={"out_file": "copy of {in_file.name}"})
    node.inputs.in_file = source
    wf.add_nodes([node])
    out = wf.run()["cp"].out_file
    assert out.name == "copy of " + source.name and out.read_text() == "content\n"
    assert sorted(path.name for path in out.parent.iterdir()) == sorted(
        [out.name, "command.txt", "stdout.txt", "stderr.txt", "result.pkl"])


def test_missing_executable_fails_validation_before_anything_runs(tmp_path: Path) -> None:
    wf = Workflow("missing", base_dir=tmp_path / "work")
    fine = CommandNode(["true"], name="fine")
    broken = CommandNode(["flowmill-no-such-tool", "-x"], name="broken")
    wf.add_nodes([fine, broken])
    with pytest.raises(ValidationError, match=r"node 'broken': executable 'flowmill-no-such-tool' was not found "
                                              r"on PATH; install it or give its full path"):
        wf.run()
    assert not (tmp_path / "work").exists()


def test_executable_path_that_is_not_executable_fails_validation(tmp_path: Path) -> None:
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\n")
    wf = Workflow("notexec", base_dir=tmp_path / "work")
    wf.add_nodes([CommandNode([str(script)], name="tool")])
    with pytest.raises(ValidationError, match=r"tool.sh' is not an executable file"):
        wf.run()


def test_missing_input_file_fails_validation(tmp_path: Path) -> None:
    wf = Workflow("nofile", base_dir=tmp_path / "work")
    node = CommandNode(["cat", "{in_file}"], inputs={"in_file": File})
    node.inputs.in_file = tmp_path / "absent.txt"
    wf.add_nodes([node])
    with pytest.raises(ValidationError, match=r"node 'cat': input 'in_file': file '.*absent.txt' does not exist"):
        wf.run()


def test_missing_output_fails_the_node_naming_the_file(tmp_path: Path) -> None:
    wf = Workflow("noout", base_dir=tmp_path / "work")
    node = CommandNode(["touch", "made.txt"], name="touch",
                       outputs={"made": "made.txt", "promised": "promised.txt"})
    wf.add_nodes([node])
    with pytest.raises(WorkflowError, match="promised.txt"):
        wf.run()
    crash = crash_of(tmp_path, "noout", "touch")
    assert crash["error_type"] == "CommandError"
    assert "did not create its declared output(s) promised " in crash["error"]
    assert str(tmp_path / "work/noout/touch/promised.txt") in crash["error"]


def test_a_stale_output_of_an_earlier_run_does_not_count(tmp_path: Path) -> None:
    def build(command: list[str]) -> Workflow:
        wf = Workflow("stale", base_dir=tmp_path / "work")
        wf.add_nodes([CommandNode(command, name="make", outputs={"out": "out.txt"})])
        return wf

    assert build(["touch", "out.txt"]).run()["make"].out.exists()
    with pytest.raises(WorkflowError, match="did not create its declared output"):
        build(["touch", "other.txt"]).run()


def test_non_zero_exit_crash_holds_command_status_and_stderr_tail(tmp_path: Path) -> None:
    node, not_gzip = failing_gunzip(tmp_path)
    wf = Workflow("exit", base_dir=tmp_path / "work")
    wf.add_nodes([node])
    with pytest.raises(WorkflowError, match="command exited with status 1"):
        wf.run()
    crash = crash_of(tmp_path, "exit", "gunzip")
    assert crash["error_type"] == "CommandFailed"
    assert f"command exited with status 1: gzip -d -c {not_gzip}" in crash["error"]
    assert "not in gzip format" in crash["error"]
    assert "not in gzip format" in (tmp_path / "work/exit/gunzip/stderr.txt").read_text()
    details = crash["details"]
    assert details["returncode"] == 1 and details["command"] == f"gzip -d -c {not_gzip}"
    assert "not in gzip format" in details["stderr_tail"]


def test_crash_keeps_only_the_tail_of_a_long_stderr(tmp_path: Path) -> None:
    wf = Workflow("tail", base_dir=tmp_path / "work")
    node = CommandNode("for i in $(seq 1 500); do echo line $i >&2; done; exit 7", name="noisy", shell=True)
    wf.add_nodes([node])
    with pytest.raises(WorkflowError):
        wf.run()
    error = crash_of(tmp_path, "tail", "noisy")["error"]
    assert "exited with status 7" in error and "line 500" in error and "line 480" not in error


def test_a_tool_killed_by_a_signal_says_which(tmp_path: Path) -> None:
    wf = Workflow("signal", base_dir=tmp_path / "work")
    wf.add_nodes([CommandNode(["sh", "-c", "echo going >&2; kill -TERM $$"], name="killed")])
    with pytest.raises(WorkflowError, match="command was killed by signal SIGTERM: sh -c"):
        wf.run()
    assert crash_of(tmp_path, "signal", "killed")["error"].endswith("going")


def test_timeout_kills_the_tool_and_everything_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    wf = Workflow("slow", base_dir=tmp_path / "work")
    node = CommandNode(f"sleep 60 & echo $! > {pid_file}; wait", name="slow", shell=True, timeout=1)
    wf.add_nodes([node])
    started = time.monotonic()
    with pytest.raises(WorkflowError, match="timed out after 1s"):
        wf.run()
    assert time.monotonic() - started < 10
    assert crash_of(tmp_path, "slow", "slow")["error_type"] == "CommandTimeout"
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while process_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(child), "the tool's child process survived the timeout"


def test_independent_branches_finish_when_a_command_fails(tmp_path: Path) -> None:
    wf = Workflow("branches", base_dir=tmp_path / "work")
    bad = CommandNode(["false"], name="bad", outputs={"out": "never.txt"})
    after = CommandNode(["cat", "{in_file}"], name="after", inputs={"in_file": File}, outputs={"o": "o"},
                        stdout="o")
    good = CommandNode(["echo", "fine"], name="good", outputs={"o": "o"}, stdout="o")
    wf.connect(bad, "out", after, "in_file")
    wf.add_nodes([good])
    with pytest.raises(WorkflowError) as info:
        wf.run()
    res = info.value.result
    assert res.failed == ["bad"] and res.skipped == ["after"] and res.executed == ["good"]


def test_a_tool_gone_by_the_time_the_job_runs_fails_naming_host_and_path(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "vanishing"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    wf = Workflow("vanish", base_dir=tmp_path / "work")
    remove = CommandNode(["rm", str(tool)], name="remove", outputs={"log": "log"}, stdout="log")
    use = CommandNode([str(tool), "{after}"], name="use", inputs={"after": File})
    wf.connect(remove, "log", use, "after")
    with pytest.raises(WorkflowError, match=r"cannot start '.*/bin/vanishing' on host \S+: No such file or "
                                            r"directory \(PATH="):
        wf.run()
