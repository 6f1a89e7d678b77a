"""The options of the ``ipython`` backend: which cluster to use, or how big a
temporary one to start."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IPythonOptions:
    """Where the engines are. Name a cluster the way ipyparallel's own ``Client`` does
    (``profile``/``profile_dir`` and ``cluster_id``, or the controller's connection file
    ``url_file``); name none and flowmill uses the default profile's running cluster, or
    starts a temporary local one of ``n_engines`` engines for the run."""

    profile: str | None = field(default=None, metadata={
        "merge": "run-only",
        "help": "IPython profile whose cluster to use (as in `ipcluster start --profile NAME`)"})
    profile_dir: str | None = field(default=None, metadata={
        "merge": "run-only",
        "help": "profile directory whose cluster to use (as in `ipcluster start --profile-dir DIR`)"})
    cluster_id: str | None = field(default=None, metadata={
        "merge": "run-only",
        "help": "cluster id within the profile (as in `ipcluster start --cluster-id ID`)"})
    url_file: str | None = field(default=None, metadata={
        "merge": "run-only",
        "help": "the controller's connection file (security/ipcontroller-client.json of its profile)"})
    n_engines: int | None = field(default=None, metadata={
        "merge": "run-only",
        "help": "engines of the temporary local cluster started when no cluster is named or running "
                "(default: number of cores)"})
    connect_timeout: float = field(default=10.0, metadata={
        "merge": "run-only",
        "help": "seconds to reach the controller before reporting it unreachable"})
    engine_timeout: float = field(default=60.0, metadata={
        "merge": "run-only",
        "help": "seconds to wait for engines to register (a starting cluster) before giving up"})
    tasks_per_engine: int = field(default=4, metadata={
        "merge": "run-only",
        "help": "tasks kept queued per engine, hiding the controller's round trip (1 when the run has "
                "a timeout, so a node's clock starts when it can run)"})

    def __post_init__(self) -> None:
        if self.n_engines is not None and self.n_engines < 1:
            raise ValueError(f"n_engines={self.n_engines} must be at least 1")
        if self.n_engines is not None and self.names_cluster:
            raise ValueError("n_engines sizes the temporary cluster flowmill starts when no cluster is named; "
                             "it cannot resize the cluster named by profile/profile_dir/cluster_id/url_file "
                             "(start more engines there with `ipcluster engines -n N`)")
        if self.tasks_per_engine < 1:
            raise ValueError(f"tasks_per_engine={self.tasks_per_engine} must be at least 1")
        if self.connect_timeout <= 0 or self.engine_timeout <= 0:
            raise ValueError("connect_timeout and engine_timeout must be positive numbers of seconds")

    @property
    def names_cluster(self) -> bool:
        return any(value is not None for value in (self.profile, self.profile_dir, self.cluster_id, self.url_file))
