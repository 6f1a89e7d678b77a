#!/usr/bin/env bash
# Stop the single-host Slurm cluster started by scripts/slurm/start.sh: cancels every
# job, stops slurmd, slurmctld and munged and waits until they are gone. Safe to run
# when nothing is running. Leaves packages, configuration and state in place.
set -eu

source "$(dirname "$0")/common.sh"
log() { echo "slurm stop: $*" >&2; }

stop() {  # stop NAME PIDFILE: SIGTERM, then wait up to 30 s, then SIGKILL
    local name=$1 pid i
    pid=$(daemon_pid "$name" "$2") || return 0
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 120; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    log "$name did not stop within 30 s; killing it"
    kill -9 "$pid" 2>/dev/null || true
}

if daemon_pid slurmctld "$slurmctld_pidfile" >/dev/null; then
    scancel --full --quiet --user="$(id -un)" >/dev/null 2>&1 || true
fi
stop slurmd "$slurmd_pidfile"
stop slurmctld "$slurmctld_pidfile"
stop munged "$munged_pidfile"
log "stopped"
