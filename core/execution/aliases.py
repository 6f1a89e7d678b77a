"""nipype's plugin names and ``plugin_args`` keys, read the way a nipype user means them.

A nipype pipeline says ``plugin="MultiProc"``, ``"SGEGraph"`` or ``"Linear"``: backend
names are matched without regard to case, and SGEGraph is the ``sge`` backend in graph
mode. nipype's plugins whose counterpart in flowmill has another name, or that flowmill
does not have, are refused with what to write instead. Keys of nipype's ``plugin_args``
that name a behaviour flowmill always has are accepted when they ask for it; the others
that flowmill has no use for are refused saying why, never silently ignored.
"""

from __future__ import annotations

from typing import Any, Collection, Mapping

from .._errors import PluginError
from ..contract.manager import BUNDLED_DISTRIBUTIONS

MODES: Mapping[str, tuple[str, Mapping[str, Any]]] = {
    "sgegraph": ("sge", {"graph": True}),
    "slurmgraph": ("slurm", {"graph": True}),
}
"""nipype plugin names that are a mode of a flowmill backend (lowercase)."""

INSTEAD: Mapping[str, str] = {
    "legacymultiproc": "plugin='multiproc' (flowmill's local process pool)",
    "debug": "plugin='linear', and a flowmill observer plugin (flowmill.register) to look at each node",
    "pbs": "plugin='sge' on a Grid Engine cell, plugin='ipython' on engines started on the cluster's nodes, "
           "or plugin='multiproc' on one machine: flowmill has no PBS backend",
    "pbsgraph": "plugin='sge' with graph=True on a Grid Engine cell: flowmill has no PBS backend",
    "lsf": "plugin='ipython' on engines started with bsub: flowmill has no LSF backend",
    "condor": "plugin='ipython' on engines started by HTCondor: flowmill has no HTCondor backend",
    "dagman": "plugin='ipython' on engines started by HTCondor: flowmill has no DAGMan backend",
    "oar": "plugin='ipython' on engines started by OAR: flowmill has no OAR backend",
}
"""nipype plugins without a flowmill backend of that name, and what to use instead
(once flowmill bundles one of that name, a missing one is reported with what to install)."""

ALWAYS: Mapping[str, tuple[Any, str]] = {
    "raise_insufficient": (True, "flowmill always refuses, before the run, a node asking more than the pool has"),
    "non_daemon": (True, "multiproc workers may start processes of their own"),
    "dont_resubmit_completed_jobs": (True, "flowmill never runs a node whose cached result is valid"),
}
"""nipype keys naming what flowmill always does: accepted with that value, else refused."""

NO_USE: Mapping[str, str] = {
    "maxtasksperchild": "multiproc workers live for the whole run; a worker that dies is replaced",
    "scheduler": "multiproc starts queued nodes in submission order as cores and memory free up",
    "mp_context": "multiproc forks its workers from the driver",
    "template": "the sge backend writes the job script itself; give scheduler options in qsub_args",
    "max_tries": "give the run option retries (a lost job is resubmitted)",
    "retry_timeout": "flowmill backs off by itself when the scheduler does not answer",
    "max_jobname_len": "flowmill names jobs itself",
}
"""nipype keys with no meaning in flowmill, and why."""


def resolve_plugin(plugin: str, installed: Collection[str]) -> tuple[str, dict[str, Any]]:
    """The flowmill backend name meant by ``plugin``, and the options of its mode."""
    folded = plugin.lower()
    name, mode = plugin, {}
    if plugin not in installed:
        if folded in MODES:
            name, mode = MODES[folded][0], dict(MODES[folded][1])
        elif folded in INSTEAD and folded not in BUNDLED_DISTRIBUTIONS:
            raise PluginError(f"{plugin!r} is a nipype plugin flowmill has no backend for; use {INSTEAD[folded]}")
        else:
            name = next((known for known in installed if known.lower() == folded), plugin)
    return name, mode


def translate_nipype_keys(values: Mapping[str, Any], options: Collection[str]) -> dict[str, Any]:
    """``values`` without nipype's keys for what flowmill always does; a nipype key
    asking otherwise, or one flowmill has no use for, is refused saying why. Keys that
    are ``options`` of the chosen backend are its own, whatever nipype meant by them."""
    kept = {}
    for key, value in values.items():
        if key in options:
            kept[key] = value
        elif key in ALWAYS:
            wanted, why = ALWAYS[key]
            if value != wanted:
                raise PluginError(f"plugin_args {key}={value!r} cannot be honoured: {why}")
        elif key in NO_USE:
            raise PluginError(f"plugin_args {key!r} (a nipype option) has no use in flowmill: {NO_USE[key]}")
        else:
            kept[key] = value
    return kept
