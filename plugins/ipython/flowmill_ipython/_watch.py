"""The watcher of a temporary cluster: ``python -m flowmill_ipython._watch PID PROFILE_DIR``.

A temporary cluster must not outlive the run's driver, however the driver dies. Its
controller and engines are not all the driver's direct children (engines run under
nannies, the controller has helpers), so the kernel's parent-death signal cannot reach
them all. This small process, in a session of its own, polls the driver instead;
when the driver is gone it kills every process of the cluster (found by the profile
directory in their environment or command line), removes the profile directory and
exits. A driver that stops its cluster itself stops the watcher too.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

import psutil

POLL = 0.5
"""Seconds between two looks at the driver."""


def cluster_processes(profile_dir: str) -> list[psutil.Process]:
    """Live processes of the cluster of ``profile_dir``, other than this one."""
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.environ().get("IPP_PROFILE_DIR") == profile_dir or any(
                    profile_dir in part for part in process.cmdline()):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _driver_alive(driver: psutil.Process) -> bool:
    try:
        return driver.is_running() and driver.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def watch(driver_pid: int, profile_dir: str) -> None:
    try:
        driver = psutil.Process(driver_pid)
    except psutil.NoSuchProcess:
        driver = None
    while driver is not None and _driver_alive(driver):
        time.sleep(POLL)
    processes = cluster_processes(profile_dir)
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=5)
    shutil.rmtree(profile_dir, ignore_errors=True)


if __name__ == "__main__":
    watch(int(sys.argv[1]), sys.argv[2])
