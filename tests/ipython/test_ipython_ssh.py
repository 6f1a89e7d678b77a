"""Engines on other machines, the way docs/backends/ipython.md tells users to set them
up: ipcluster's ssh engine launcher, key-based login, a shared file system. Here the
"other machine" is an sshd on 127.0.0.1 started by scripts/ipython/ssh_localhost.sh,
so everything is real except the distance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from flowmill import Node, Workflow

from ..fixtures.ipython import IPCluster

pytestmark = pytest.mark.ipython

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ipython" / "ssh_localhost.sh"
HOST = "flowmill-ssh-localhost"


@pytest.fixture(scope="module")
def ssh_config() -> Iterator[str]:
    started = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, f"could not set up ssh to localhost:\n{started.stdout}\n{started.stderr}"
    yield started.stdout.strip().splitlines()[-1]
    subprocess.run(["bash", str(SCRIPT), "stop"], check=True, timeout=60)


@pytest.fixture(scope="module")
def ssh_cluster(tmp_path_factory: pytest.TempPathFactory, ssh_config: str) -> Iterator[IPCluster]:
    profile_dir = tmp_path_factory.mktemp("ssh-profile")
    ssh = ["ssh", "-F", ssh_config]
    scp = ["scp", "-F", ssh_config]
    (profile_dir / "ipcluster_config.py").write_text(f"""\
c = get_config()
c.Cluster.engine_launcher_class = "ssh"
c.SSHEngineSetLauncher.engines = {{{HOST!r}: 2}}
c.SSHLauncher.ssh_cmd = {ssh!r}
c.SSHLauncher.scp_cmd = {scp!r}
c.SSHLauncher.remote_python = {sys.executable!r}
c.SSHLauncher.remote_profile_dir = {str(profile_dir)!r}
c.SSHLauncher.poll_seconds = 1
c.SSHEngineLauncher.to_send = []
""")
    cluster = IPCluster(profile_dir, "ssh", 2)
    cluster.start()
    yield cluster
    assert cluster.stop() == []


def where_am_i(x: int) -> tuple[str | None, int]:
    return os.environ.get("SSH_CONNECTION"), x * x


def test_nodes_run_on_engines_started_over_ssh(tmp_path: Path, ssh_cluster: IPCluster) -> None:
    wf = Workflow("over_ssh", base_dir=tmp_path)
    total = Node(lambda values: sum(values), name="total")
    squares = []
    for i in range(6):
        node = Node(where_am_i, name=f"square{i}", outputs=["ssh", "value"])
        node.inputs.x = i
        squares.append(node)
        wf.add_nodes([node])
    join = Node(lambda **values: sorted(values.values()), name="collect")
    for i, node in enumerate(squares):
        wf.connect(node, "value", join, f"v{i}")
    wf.connect(join, "out", total, "values")
    res = wf.run(plugin="ipython", profile_dir=str(ssh_cluster.profile_dir), cluster_id="ssh")
    assert res["total"].out == sum(i * i for i in range(6))
    for i in range(6):
        assert res[f"square{i}"].ssh and res[f"square{i}"].ssh.split()[-1] != "22", \
            "the node did not run on an engine started through the ssh launcher"
