#!/usr/bin/env bash
# Key-based ssh to this machine, for running IPython engines through ipcluster's ssh
# launcher in the tests (and for trying the multi-machine recipe of
# docs/backends/ipython.md on one host). Idempotent.
#
#   ssh_localhost.sh start   install openssh-server if missing, start a private sshd on
#                            127.0.0.1:$FLOWMILL_SSH_PORT, print the ssh_config to use
#   ssh_localhost.sh stop    stop that sshd
#
# Everything lives in $FLOWMILL_SSH_DIR (keys, sshd_config, ssh_config, pid file); the
# system's sshd configuration and ~/.ssh are left alone.
set -euo pipefail

dir=${FLOWMILL_SSH_DIR:-/tmp/flowmill-ipython-ssh}
port=${FLOWMILL_SSH_PORT:-22922}
host_alias=flowmill-ssh-localhost
pid_file=$dir/sshd.pid

running() {
    [[ -s $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

install_sshd() {
    if [[ ! -x /usr/sbin/sshd ]]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q openssh-server >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q openssh-server >/dev/null; }
    fi
    command -v ssh >/dev/null || apt-get install -y -q openssh-client >/dev/null
}

write_config() {
    mkdir -p "$dir" /run/sshd
    chmod 700 "$dir"
    [[ -f $dir/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_ed25519"
    [[ -f $dir/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/id_ed25519"
    cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
    cat >"$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_ed25519
PidFile $pid_file
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
CONF
    cat >"$dir/ssh_config" <<CONF
Host $host_alias
    HostName 127.0.0.1
    Port $port
    User $(id -un)
    IdentityFile $dir/id_ed25519
    IdentitiesOnly yes
    UserKnownHostsFile $dir/known_hosts
    StrictHostKeyChecking accept-new
    BatchMode yes
CONF
}

case ${1:-start} in
start)
    install_sshd
    write_config
    if ! running; then
        /usr/sbin/sshd -f "$dir/sshd_config"
    fi
    for _ in $(seq 50); do
        ssh -F "$dir/ssh_config" "$host_alias" true 2>/dev/null && break
        sleep 0.1
    done
    if ! running; then
        echo "sshd on 127.0.0.1:$port did not start (port taken? choose another with FLOWMILL_SSH_PORT)" >&2
        exit 1
    fi
    ssh -F "$dir/ssh_config" "$host_alias" true
    echo "$dir/ssh_config"
    ;;
stop)
    if running; then
        kill "$(cat "$pid_file")"
    fi
    rm -f "$pid_file"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
