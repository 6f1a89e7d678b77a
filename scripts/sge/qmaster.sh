#!/usr/bin/env bash
# Stop or start only the qmaster of the single-host cell (scripts/sge/start.sh), leaving
# sge_execd and the jobs it runs alone: what a real cluster's scheduler does during an
# upgrade or a failover. The SGE suite's outage tests use it.
#
# Usage: scripts/sge/qmaster.sh stop     SIGTERM, wait until the process is gone (10-15 s)
#        scripts/sge/qmaster.sh start    start it, wait until it answers (qconf -sh)
#
# After a qmaster restart the execd may stop reporting job ends: run
# scripts/sge/start.sh --restart-execd once you are done.
set -eu

source "$(dirname "$0")/common.sh"
log() { echo "sge qmaster: $*" >&2; }
die() { echo "sge qmaster: ERROR: $*" >&2; exit 1; }

case ${1:-} in
    stop)
        pid=$(daemon_pid sge_qmaster "$qmaster_pidfile") || { log "not running"; exit 0; }
        log "stopping sge_qmaster (pid $pid)"
        kill "$pid"
        for ((i = 0; i < 240; i++)); do
            kill -0 "$pid" 2>/dev/null || { log "stopped"; exit 0; }
            sleep 0.25
        done
        die "sge_qmaster (pid $pid) did not stop within 60 s"
        ;;
    start)
        if ! daemon_pid sge_qmaster "$qmaster_pidfile" >/dev/null; then
            log "starting sge_qmaster"
            /usr/sbin/sge_qmaster
        fi
        for ((i = 0; i < 240; i++)); do
            qconf -sh >/dev/null 2>&1 && { log "answering"; exit 0; }
            sleep 0.25
        done
        die "sge_qmaster did not answer within 60 s"
        ;;
    *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
