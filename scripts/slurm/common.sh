# Shared by start.sh and stop.sh (sourced): where the single-host cluster keeps its
# configuration and state, and how to find its daemons without systemd.
conf=/etc/slurm/slurm.conf
state_dir=/var/spool/flowmill-slurm
jobcomp_log=/var/log/slurm/flowmill-jobcomp.log
munged_pidfile=/run/munge/munged.pid
slurmctld_pidfile=/run/slurmctld.pid
slurmd_pidfile=/run/slurmd.pid

daemon_pid() {  # daemon_pid NAME PIDFILE: print the live process of that name the pid file names
    local name=$1 pid
    pid=$(cat "$2" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ] || return 1
    echo "$pid"
}
