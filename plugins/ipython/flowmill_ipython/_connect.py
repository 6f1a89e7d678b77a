"""Finding the engines of a run: the cluster the user named, the default profile's
running cluster, or a temporary local one.

Every way this can fail (no connection file, a controller that does not answer, a
controller without engines) becomes a :class:`api.PluginError` that says how to
start a cluster, raised before any node is submitted.
"""

from __future__ import annotations

import logging
import os
import resource
from dataclasses import dataclass
from pathlib import Path

import flowmill.backend as api
import ipyparallel
from IPython.paths import get_ipython_dir

from ._cluster import TemporaryCluster
from ._options import IPythonOptions

_FILES_NEEDED = 1024

START_HINT = ("Start one with `ipcluster start -n N` (adding the same --profile / --profile-dir / --cluster-id), "
              "or name no cluster at all and flowmill starts a temporary local one for the run")


@dataclass
class Connection:
    """A client on a cluster with engines, and the temporary cluster to stop after the
    run (``None`` when the cluster belongs to the user)."""

    client: ipyparallel.Client
    temporary: TemporaryCluster | None = None

    def close(self) -> None:
        self.client.close()
        if self.temporary is not None:
            self.temporary.stop()


def _describe(options: IPythonOptions) -> str:
    named = {name: getattr(options, name) for name in ("profile", "profile_dir", "cluster_id", "url_file")}
    return ", ".join(f"{name}={value!r}" for name, value in named.items() if value is not None)


def _client(options: IPythonOptions, where: str) -> ipyparallel.Client:
    """ipyparallel 9.2 ignores ``Client(url_file=...)`` and silently falls back to the
    default profile, so the connection file goes positionally."""
    if options.url_file is not None and not Path(options.url_file).is_file():
        raise api.PluginError(f"ipython backend: url_file {options.url_file!r} does not exist; it is the "
                                   "controller's connection file, security/ipcontroller-client.json in the "
                                   f"cluster's profile dir. {START_HINT}")
    try:
        return ipyparallel.Client(options.url_file, profile=options.profile, profile_dir=options.profile_dir,
                                  cluster_id=options.cluster_id, timeout=options.connect_timeout)
    except (OSError, TimeoutError) as exc:
        raise api.PluginError(f"ipython backend: cannot reach the IPython cluster of {where} ({exc}). "
                                   f"Is its controller running? {START_HINT}") from None


def _with_engines(client: ipyparallel.Client, options: IPythonOptions, where: str) -> ipyparallel.Client:
    if not client.ids:
        try:
            client.wait_for_engines(1, timeout=options.engine_timeout)
        except TimeoutError:
            client.close()
            raise api.PluginError(
                f"ipython backend: the controller of {where} is running but has no engines after "
                f"{options.engine_timeout}s (engine_timeout). Start engines with `ipcluster engines -n N` "
                "(same --profile / --profile-dir / --cluster-id), or with `ipcluster start -n N` for a "
                "controller and engines together") from None
    return client


def default_connection_file() -> Path:
    return Path(get_ipython_dir()) / "profile_default" / "security" / "ipcontroller-client.json"


def connect(options: IPythonOptions, run_id: str, log: logging.Logger) -> Connection:
    """The cluster this run uses; see the module docstring."""
    if options.names_cluster:
        where = _describe(options)
        return Connection(_with_engines(_client(options, where), options, where))
    default_file = default_connection_file()
    if default_file.is_file():
        try:
            client = _client(options, "the default profile")
        except api.PluginError:
            log.warning("ipython backend: %s is left from a controller that no longer answers; ignoring it",
                        default_file)
        else:
            log.info("ipython backend: using the running cluster of the default profile (%d engines)",
                     len(client.ids))
            return Connection(_with_engines(client, options, "the default profile"))
    n_engines = options.n_engines or os.cpu_count() or 1
    temporary = TemporaryCluster(n_engines, f"flowmill-{run_id}", log)
    log.warning("ipython backend: no cluster named and none running in the default profile: starting a "
                "temporary local cluster of %d engines in %s; it stops when the run ends", n_engines,
                temporary.profile_dir)
    try:
        return Connection(temporary.start(options.engine_timeout), temporary)
    except OSError as exc:
        raise api.PluginError(f"ipython backend: the temporary local cluster of {n_engines} engines did not come "
                              f"up ({type(exc).__name__}: {exc}).{_open_files_hint(n_engines)} Or start a "
                              f"cluster yourself and name it. {START_HINT}") from None


def _open_files_hint(n_engines: int) -> str:
    """The usual cause on a workstation: a low open-files limit (every engine and the
    controller's schedulers hold many ZeroMQ sockets)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= _FILES_NEEDED:
        return ""
    return (f" This process may open only {soft} files (ulimit -n), too few for a controller and {n_engines} "
            f"engine(s): raise it (ulimit -n {_FILES_NEEDED}) before starting Python.")
