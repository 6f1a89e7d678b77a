# Shared by start.sh and stop.sh (sourced): where the single-host cell lives, and how
# to find its daemons without systemd.
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
qmaster_pidfile=/var/spool/gridengine/qmaster/qmaster.pid
# execd spools under the name it resolves itself to ("localhost" in containers).
execd_pidfiles=(/var/spool/gridengine/execd/*/execd.pid)

daemon_pid() {  # daemon_pid NAME PIDFILE...: print the live process of that name one pid file names
    local name=$1 file pid
    shift
    for file in "$@"; do
        pid=$(cat "$file" 2>/dev/null) || continue
        if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ]; then
            echo "$pid"
            return 0
        fi
    done
    return 1
}
