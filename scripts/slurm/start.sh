#!/usr/bin/env bash
# Bring up a single-host Slurm cluster on this machine, for flowmill's Slurm tests and
# benchmarks: install Debian's packages if missing (slurmctld, slurmd, slurm-client,
# munge), write slurm.conf (this host as the only node, partition "debug" with N CPUs,
# cons_tres with CR_Core_Memory, no cgroups: proctrack/linuxproc, task/none), start
# munged, slurmctld and slurmd without systemd and wait until a real job runs.
# Idempotent: when everything is up with this configuration it only runs one smoke job.
#
# Accounting: no slurmdbd. Finished jobs stay visible to `squeue -t all` for MinJobAge
# (1 h here), which is what the backend polls; jobcomp/filetxt keeps a permanent line
# per finished job for a human to read. `sacct` is not available.
#
# Usage: scripts/slurm/start.sh [--cpus N]     (default 16, or $FLOWMILL_SLURM_CPUS)
#
# The node declares N CPUs whatever the hardware has (SlurmdParameters=config_overrides):
# many tiny jobs need many slots to keep two cores busy. Needs root.
set -eu

cpus=${FLOWMILL_SLURM_CPUS:-16}
while [ $# -gt 0 ]; do
    case $1 in
        --cpus) cpus=$2; shift 2 ;;
        --cpus=*) cpus=${1#--cpus=}; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "start.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
case $cpus in ''|*[!0-9]*|0) echo "start.sh: --cpus needs a positive number, got '$cpus'" >&2; exit 2 ;; esac

source "$(dirname "$0")/common.sh"
host=$(hostname -s)
packages="slurmctld slurmd slurm-client munge"
work=$(mktemp -d /tmp/flowmill-slurm-start.XXXXXX)
trap 'rm -rf "$work"' EXIT

log() { echo "slurm start: $*" >&2; }
die() { echo "slurm start: ERROR: $*" >&2; exit 1; }

installed() {
    local pkg
    for pkg in $packages; do
        dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || return 1
    done
}

install_packages() {
    [ "$(id -u)" = 0 ] || die "installing $packages needs root (run this script as root)"
    log "installing $packages"
    local apt="apt-get -y -q -o DPkg::Lock::Timeout=600"
    DEBIAN_FRONTEND=noninteractive $apt install --no-install-recommends $packages >"$work/apt.log" 2>&1 \
        || { $apt update >>"$work/apt.log" 2>&1 \
             && DEBIAN_FRONTEND=noninteractive $apt install --no-install-recommends $packages >>"$work/apt.log" 2>&1; } \
        || { cat "$work/apt.log" >&2; die "apt-get install $packages failed"; }
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local limit=$1 what=$2 i
    shift 2
    for ((i = 0; i < limit * 4; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    die "$what did not happen within ${limit}s"
}

stop_daemon() {  # stop_daemon NAME PIDFILE
    local pid
    pid=$(daemon_pid "$1" "$2") || return 0
    log "stopping $1 (pid $pid)"
    kill "$pid"
    wait_for 30 "$1 (pid $pid) stopping" sh -c "! kill -0 $pid"
}

start_munge() {
    install -d -o munge -g munge -m 0755 /run/munge
    if ! daemon_pid munged "$munged_pidfile" >/dev/null; then
        log "starting munged"
        runuser -u munge -- /usr/sbin/munged
    fi
    wait_for 30 "munge answering" sh -c 'munge -n | unmunge'
}

# RealMemory below the hardware's (slurmd refuses a node with more than it has);
# DefMemPerCPU so that CR_Core_Memory does not give each job the whole node.
write_conf() {
    local memory
    memory=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    memory=$((memory * 9 / 10))
    cat >"$work/slurm.conf" <<CONF
# Written by flowmill's scripts/slurm/start.sh: a single-host cluster for tests.
ClusterName=flowmill
SlurmctldHost=$host
SlurmUser=root
SlurmctldPidFile=$slurmctld_pidfile
SlurmdPidFile=$slurmd_pidfile
StateSaveLocation=$state_dir/ctld
SlurmdSpoolDir=$state_dir/d
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=1
JobAcctGatherParams=OverMemoryKill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$jobcomp_log
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MinJobAge=3600
KillWait=5
InactiveLimit=0
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

stop_if_changed() {
    if ! cmp -s "$work/slurm.conf" "$conf"; then
        # Plugin types and node definitions need a restart, not scontrol reconfigure.
        stop_daemon slurmd "$slurmd_pidfile"
        stop_daemon slurmctld "$slurmctld_pidfile"
        log "writing $conf ($cpus CPUs on $host)"
        install -m 0644 "$work/slurm.conf" "$conf"
    fi
}

start_slurm() {
    install -d -m 0755 "$state_dir/ctld" "$state_dir/d" /var/log/slurm
    if ! daemon_pid slurmctld "$slurmctld_pidfile" >/dev/null; then
        log "starting slurmctld"
        setsid /usr/sbin/slurmctld </dev/null >/dev/null 2>&1
    fi
    wait_for 60 "slurmctld answering" scontrol ping
    if ! daemon_pid slurmd "$slurmd_pidfile" >/dev/null; then
        log "starting slurmd"
        setsid /usr/sbin/slurmd </dev/null >/dev/null 2>&1
    fi
    # A node left down or drained by an earlier run comes back once its slurmd answers.
    if sinfo -h -N -o '%t' | grep -Eq 'down|drain|fail'; then
        scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true
    fi
    wait_for 60 "node $host becoming idle" sh -c "sinfo -h -N -o '%t' | grep -Eq '^(idle|mix|alloc)'"
}

smoke_job() {
    local out
    out=$(cd /tmp && timeout 60 srun --quiet -t 1 true 2>&1) || die "the smoke job (srun true) failed: $out"
}

installed || install_packages
[ "$(id -u)" = 0 ] || die "starting the Slurm daemons needs root"
start_munge
write_conf
stop_if_changed
start_slurm
smoke_job
log "ready ($cpus CPUs on $host)"
