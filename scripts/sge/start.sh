#!/usr/bin/env bash
# Bring up a single-host Son of Grid Engine cell on this machine, for flowmill's SGE
# tests and benchmarks: install Debian's packages if missing, configure the cell (this
# host as admin/submit/exec host, queue all.q with an over-subscribed slot count, a
# parallel environment "smp", a 1 s scheduler), start the daemons without systemd and
# wait until a real job runs. Idempotent: when everything is up it only checks the
# configuration and runs one smoke job (~2 s).
#
# Usage: scripts/sge/start.sh [--slots N] [--restart-execd]
#   --slots N          slots of all.q (default 16, or $FLOWMILL_SGE_SLOTS)
#   --restart-execd    stop a running sge_execd first and start it again: after a qmaster
#                      restart (scripts/sge/qmaster.sh) the execd may stop reporting job ends
#
# Needs root (apt-get, daemons). Prints the environment a client needs on success.
set -eu

slots=${FLOWMILL_SGE_SLOTS:-16}
restart_execd=false
while [ $# -gt 0 ]; do
    case $1 in
        --slots) slots=$2; shift 2 ;;
        --slots=*) slots=${1#--slots=}; shift ;;
        --restart-execd) restart_execd=true; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "start.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
case $slots in ''|*[!0-9]*) echo "start.sh: --slots needs a positive number, got '$slots'" >&2; exit 2 ;; esac

source "$(dirname "$0")/common.sh"
host=$(hostname)
common=$SGE_ROOT/$SGE_CELL/common
packages="gridengine-master gridengine-exec gridengine-client gridengine-drmaa1.0"
work=$(mktemp -d /tmp/flowmill-sge-start.XXXXXX)
trap 'rm -rf "$work"' EXIT

log() { echo "sge start: $*" >&2; }
die() { echo "sge start: ERROR: $*" >&2; exit 1; }

installed() {
    local pkg
    for pkg in $packages; do
        dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || return 1
    done
}

install_packages() {
    [ "$(id -u)" = 0 ] || die "installing $packages needs root (run this script as root)"
    log "installing $packages"
    # The cell is created by gridengine-master's postinst from these debconf answers;
    # the master host question has no default, so an unanswered install would hang.
    debconf-set-selections <<EOF
gridengine-common shared/gridengineconfig boolean true
gridengine-common shared/gridenginecell string $SGE_CELL
gridengine-common shared/gridenginemaster string $host
EOF
    local apt="apt-get -y -q -o DPkg::Lock::Timeout=600"
    DEBIAN_FRONTEND=noninteractive $apt install $packages >"$work/apt.log" 2>&1 \
        || { $apt update >>"$work/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive $apt install $packages >>"$work/apt.log" 2>&1; } \
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

# commlib refuses clients whose address resolves to "localhost" unless SGE knows that
# name as an alias of this host; containers map the host name to 127.0.0.1.
fix_host_aliases() {
    local address
    address=$(getent hosts "$host" | awk '{print $1; exit}')
    case $address in 127.*|::1) ;; *) return 0 ;; esac
    if ! grep -qx "$host localhost" "$common/host_aliases" 2>/dev/null; then
        echo "$host localhost" >>"$common/host_aliases"
        if daemon_pid sge_qmaster "$qmaster_pidfile" >/dev/null; then
            log "host_aliases changed: restarting the qmaster"
            stop_qmaster
        fi
    fi
}

stop_qmaster() {
    local pid
    pid=$(daemon_pid sge_qmaster "$qmaster_pidfile")
    kill "$pid"
    wait_for 30 "sge_qmaster (pid $pid) stopping" sh -c "! kill -0 $pid"
}

start_qmaster() {
    if ! daemon_pid sge_qmaster "$qmaster_pidfile" >/dev/null; then
        log "starting sge_qmaster"
        /usr/sbin/sge_qmaster
    fi
    wait_for 60 "sge_qmaster answering" qconf -sh
}

# qconf -M* reads a whole object from a file: no editor, no same-second "unchanged" trap.
# After a qmaster restart the queue stays in state "u" (no job starts) until the execd's
# next load report: 0-40 s with the default load_report_time, 0-10 s here (the outage
# tests restart the qmaster).
configure_global() {
    qconf -sconf global >"$work/global"
    if ! grep -Eq '^min_uid +0$' "$work/global" || ! grep -Eq '^min_gid +0$' "$work/global" \
        || ! grep -Eq '^load_report_time +00:00:10$' "$work/global"; then
        log "allowing root jobs (min_uid/min_gid 0), load reports every 10 s"
        sed -i -E -e 's/^(min_uid|min_gid) .*/\1 0/' -e 's/^load_report_time .*/load_report_time 00:00:10/' \
            "$work/global"
        qconf -Mconf "$work/global" >/dev/null
    fi
}

configure_scheduler() {
    qconf -ssconf >"$work/sched"
    if ! grep -Eq '^schedule_interval +0:0:1$' "$work/sched" || ! grep -Eq '^flush_submit_sec +1$' "$work/sched" \
        || ! grep -Eq '^flush_finish_sec +1$' "$work/sched"; then
        log "scheduler: run every second and right after each submit/finish"
        sed -i -E -e 's/^schedule_interval .*/schedule_interval 0:0:1/' \
            -e 's/^flush_submit_sec .*/flush_submit_sec 1/' -e 's/^flush_finish_sec .*/flush_finish_sec 1/' \
            "$work/sched"
        qconf -Msconf "$work/sched" >/dev/null
    fi
}

configure_hosts() {
    qconf -sh 2>/dev/null | grep -qx "$host" || qconf -ah "$host" >/dev/null
    qconf -ss 2>/dev/null | grep -qx "$host" || qconf -as "$host" >/dev/null
    if ! qconf -sel 2>/dev/null | grep -qx "$host"; then
        printf 'hostname %s\nload_scaling NONE\ncomplex_values NONE\nuser_lists NONE\nxuser_lists NONE\nprojects NONE\nxprojects NONE\nusage_scaling NONE\nreport_variables NONE\n' \
            "$host" >"$work/exechost"
        qconf -Ae "$work/exechost" >/dev/null
    fi
}

configure_pe() {
    qconf -spl 2>/dev/null | grep -qx smp && return 0
    log "adding parallel environment smp"
    cat >"$work/smp" <<EOF
pe_name            smp
slots              9999
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    \$pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
EOF
    qconf -Ap "$work/smp" >/dev/null
}

# qconf -Aq wants every attribute of a queue.
configure_queue() {
    if ! qconf -sql 2>/dev/null | grep -qx all.q; then
        log "adding queue all.q with $slots slots"
        cat >"$work/all.q" <<EOF
qname                 all.q
hostlist              $host
seq_no                0
load_thresholds       NONE
suspend_thresholds    NONE
nsuspend              1
suspend_interval      00:05:00
priority              0
min_cpu_interval      00:05:00
processors            UNDEFINED
qtype                 BATCH INTERACTIVE
ckpt_list             NONE
pe_list               smp
rerun                 FALSE
slots                 $slots
tmpdir                /tmp
shell                 /bin/sh
prolog                NONE
epilog                NONE
shell_start_mode      posix_compliant
starter_method        NONE
suspend_method        NONE
resume_method         NONE
terminate_method      NONE
notify                00:00:60
owner_list            NONE
user_lists            NONE
xuser_lists           NONE
subordinate_list      NONE
complex_values        NONE
projects              NONE
xprojects             NONE
calendar              NONE
initial_state         default
s_rt                  INFINITY
h_rt                  INFINITY
s_cpu                 INFINITY
h_cpu                 INFINITY
s_fsize               INFINITY
h_fsize               INFINITY
s_data                INFINITY
h_data                INFINITY
s_stack               INFINITY
h_stack               INFINITY
s_core                INFINITY
h_core                INFINITY
s_rss                 INFINITY
h_rss                 INFINITY
s_vmem                INFINITY
h_vmem                INFINITY
EOF
        qconf -Aq "$work/all.q" >/dev/null
    fi
    qconf -sq all.q >"$work/queue"
    grep -Eq "^slots +$slots\$" "$work/queue" || { log "all.q: $slots slots"; qconf -mattr queue slots "$slots" all.q >/dev/null; }
    grep -Eq '^load_thresholds +NONE$' "$work/queue" || qconf -mattr queue load_thresholds NONE all.q >/dev/null
    grep -Eq '^pe_list +smp$' "$work/queue" || qconf -mattr queue pe_list smp all.q >/dev/null
}

stop_execd() {
    local pid
    pid=$(daemon_pid sge_execd "${execd_pidfiles[@]}") || return 0
    log "restarting sge_execd (pid $pid)"
    kill "$pid"
    wait_for 60 "sge_execd (pid $pid) stopping" sh -c "! kill -0 $pid"
}

start_execd() {
    if ! daemon_pid sge_execd "${execd_pidfiles[@]}" >/dev/null; then
        log "starting sge_execd"
        /usr/sbin/sge_execd
    fi
    # The queue instance loses its "unknown" state once the new execd reported in.
    wait_for 60 "queue all.q@$host becoming available" \
        sh -c "qstat -f -q all.q@$host | awk -v q=all.q@$host '\$1 == q && \$6 !~ /[auE]/ {ok=1} END {exit !ok}'"
}

smoke_job() {
    local out
    out=$(cd /tmp && timeout 60 qsub -sync y -b y -o /dev/null -e /dev/null -N flowmill-smoke /bin/true 2>&1) \
        || die "the smoke job (qsub -sync y -b y /bin/true) failed: $out"
}

installed || install_packages
fix_host_aliases
start_qmaster
configure_global
configure_scheduler
configure_hosts
configure_pe
configure_queue
if $restart_execd; then stop_execd; fi
start_execd
smoke_job
log "ready ($slots slots on $host)"
echo "SGE_ROOT=$SGE_ROOT"
echo "SGE_CELL=$SGE_CELL"
echo "DRMAA_LIBRARY_PATH=/usr/lib/gridengine-drmaa/lib/libdrmaa.so.1.0"
