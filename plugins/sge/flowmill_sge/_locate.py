"""Where Grid Engine and its DRMAA library live on this host.

Users of a real cluster usually have ``SGE_ROOT``/``SGE_CELL`` from the site's
``settings.sh`` and nothing else; the DRMAA library is rarely on the loader path. So the
backend looks where Debian's packages and SGE's own layout put things, and names what
to install or set when it finds nothing, before any node runs.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import flowmill.backend as api

DEFAULT_SGE_ROOT = "/var/lib/gridengine"
DEFAULT_SGE_CELL = "default"
DEBIAN_LIBRARY = "/usr/lib/gridengine-drmaa/lib/libdrmaa.so.1.0"

STATIC_TLS_TUNABLE = "glibc.rtld.optional_static_tls=4096"
"""libdrmaa pulls in libjemalloc, whose initial-exec TLS does not fit in the static TLS
reserve of a process that is already running; glibc only grows that reserve when told
so before the process starts (hence the helper process, see ``_session``)."""


@dataclass(frozen=True)
class Installation:
    """The Grid Engine cell and the DRMAA library a session uses."""

    sge_root: str
    sge_cell: str
    library: str

    @property
    def cell_id(self) -> str:
        """Which cell a recorded job id belongs to (ids repeat across clusters)."""
        try:
            master = Path(self.sge_root, self.sge_cell, "common", "act_qmaster").read_text().strip()
        except OSError:
            master = "?"
        return f"{master}:{self.sge_root}/{self.sge_cell}"

    def helper_environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """The environment of the process that loads libdrmaa."""
        env = dict(base)
        env.update(SGE_ROOT=self.sge_root, SGE_CELL=self.sge_cell, DRMAA_LIBRARY_PATH=self.library)
        tunables = env.get("GLIBC_TUNABLES", "")
        if "glibc.rtld.optional_static_tls" not in tunables:
            env["GLIBC_TUNABLES"] = f"{tunables}:{STATIC_TLS_TUNABLE}" if tunables else STATIC_TLS_TUNABLE
        return env


def _library_candidates(sge_root: str) -> list[str]:
    return [DEBIAN_LIBRARY, *sorted(glob.glob(os.path.join(sge_root, "lib", "*", "libdrmaa.so*")))]


def locate(environ: Mapping[str, str] = os.environ) -> Installation:
    """Find the cell and libdrmaa, or raise a PluginError saying what to install or set."""
    sge_root = environ.get("SGE_ROOT") or DEFAULT_SGE_ROOT
    sge_cell = environ.get("SGE_CELL") or DEFAULT_SGE_CELL
    act_qmaster = Path(sge_root, sge_cell, "common", "act_qmaster")
    if not act_qmaster.is_file():
        raise api.PluginError(
            f"sge backend: no Grid Engine cell at {act_qmaster.parent.parent} (SGE_ROOT={sge_root}, "
            f"SGE_CELL={sge_cell}). On a cluster, load the site's settings (source "
            "$SGE_ROOT/$SGE_CELL/common/settings.sh) so SGE_ROOT and SGE_CELL are set; on a Debian machine, "
            "install gridengine-client (or run scripts/sge/start.sh for a single-host test cell)")
    library = environ.get("DRMAA_LIBRARY_PATH")
    if library and not os.path.isfile(library):
        raise api.PluginError(f"sge backend: DRMAA_LIBRARY_PATH={library} does not exist; point it at "
                                   "libdrmaa.so from your Grid Engine (or unset it to let flowmill search)")
    if not library:
        library = next((path for path in _library_candidates(sge_root) if os.path.isfile(path)), None)
    if not library:
        raise api.PluginError(
            f"sge backend: found no DRMAA library (looked at {', '.join(_library_candidates(sge_root))}). "
            "Install it (Debian: apt-get install gridengine-drmaa1.0) or set DRMAA_LIBRARY_PATH to your "
            "site's libdrmaa.so")
    return Installation(sge_root, sge_cell, library)
