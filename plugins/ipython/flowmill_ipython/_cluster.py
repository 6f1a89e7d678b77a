"""A local cluster that lives exactly as long as one run.

ipyparallel's own ``stop_cluster`` can leave processes behind: the controller's helper
processes share its process group and outlive a dead hub, and each engine and its
nanny are their own session. So the whole process tree is recorded right after start
and whatever survives the orderly stop is killed. A driver that dies without stopping
it (SIGKILL, the OOM killer) leaves that to the cluster's watcher (``_watch``),
started before the cluster.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import ipyparallel
import psutil

_STOP_GRACE = 5.0


class TemporaryCluster:
    """Controller and ``n`` engines under a private profile dir (never the user's
    default profile, so no other run mistakes it for a cluster the user started)."""

    def __init__(self, n_engines: int, cluster_id: str, log: logging.Logger) -> None:
        self.n_engines = n_engines
        self.profile_dir = Path(tempfile.mkdtemp(prefix="flowmill-ipython-"))
        self._log = log
        self._cluster = ipyparallel.Cluster(n=n_engines, profile_dir=str(self.profile_dir), cluster_id=cluster_id,
                                            delay=0, log=self._quiet_log(log))
        self._processes: list[psutil.Process] = []
        self._watcher: subprocess.Popen[bytes] | None = None

    @staticmethod
    def _quiet_log(log: logging.Logger) -> logging.Logger:
        """The cluster's own logger, at ERROR. Left to choose, ipyparallel logs to the
        running Application's log (in a notebook: the cell), and at WARNING it dumps
        each engine's whole log when the engines it stops on purpose exit with status 1
        (ipyparallel's engines answer SIGTERM with "Event loop stopped before Future
        completed")."""
        cluster_log = log.getChild("cluster")
        cluster_log.setLevel(logging.ERROR)
        return cluster_log

    def start(self, engine_timeout: float) -> ipyparallel.Client:
        """Start and connect; on any failure (Ctrl-C included) stop what started. No
        progress bar while engines register (ipyparallel's would print into a notebook cell)."""
        self._watcher = subprocess.Popen([sys.executable, "-m", "flowmill_ipython._watch", str(os.getpid()),
                                          str(self.profile_dir)], stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        try:
            self._cluster.start_cluster_sync()
            client = self._cluster.connect_client_sync()
            client.wait_for_engines(self.n_engines, timeout=engine_timeout, interactive=False)
            self._processes = self._process_tree()
            return client
        except BaseException:
            self._processes = self._process_tree()
            self.stop()
            raise

    def _process_tree(self) -> list[psutil.Process]:
        pids = []
        if self._cluster.controller is not None and self._cluster.controller.pid:
            pids.append(self._cluster.controller.pid)
        for engine_set in self._cluster.engines.values():
            pids.extend(launcher.pid for launcher in getattr(engine_set, "launchers", {}).values() if launcher.pid)
        processes = []
        for pid in pids:
            try:
                root = psutil.Process(pid)
                processes.extend([root, *root.children(recursive=True)])
            except psutil.NoSuchProcess:
                continue
        return processes

    def stop(self) -> None:
        """Engines first (their nannies linger otherwise), then the controller, then
        kill whatever of the recorded tree is still alive, then drop the profile dir."""
        try:
            self._cluster.stop_engines_sync()
            self._cluster.stop_controller_sync()
        except Exception as exc:
            self._log.warning("stopping the temporary IPython cluster failed (%s); killing its processes", exc)
        _, alive = psutil.wait_procs(self._processes, timeout=_STOP_GRACE)
        for process in alive:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=_STOP_GRACE)
        shutil.rmtree(self.profile_dir, ignore_errors=True)
        if self._watcher is not None:
            self._watcher.kill()
            self._watcher.wait()
        self._log.info("stopped the temporary IPython cluster (%d engines)", self.n_engines)
