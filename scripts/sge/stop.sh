#!/usr/bin/env bash
# Stop the single-host Grid Engine cell started by scripts/sge/start.sh: deletes every
# job, stops sge_execd and sge_qmaster and waits until both are gone. Safe to run when
# nothing is running. Leaves packages and configuration in place (start.sh is then fast).
set -eu

source "$(dirname "$0")/common.sh"
log() { echo "sge stop: $*" >&2; }

stop() {  # stop NAME PID: SIGTERM, then wait (a clean qmaster shutdown takes 10-15 s)
    local name=$1 pid=$2 i
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 120; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    log "$name did not stop within 30 s; killing it"
    kill -9 "$pid" 2>/dev/null || true
}

if qmaster=$(daemon_pid sge_qmaster "$qmaster_pidfile"); then
    qdel -u '*' >/dev/null 2>&1 || true
fi
if execd=$(daemon_pid sge_execd "${execd_pidfiles[@]}"); then
    stop sge_execd "$execd"
fi
if qmaster=$(daemon_pid sge_qmaster "$qmaster_pidfile"); then
    stop sge_qmaster "$qmaster"
fi
log "stopped"
