#!/usr/bin/env bash
# Installs the Debian tools that examples/image_pipeline.py runs (netpbm), unless they
# are already there. Idempotent; the tests call it too, so CI needs nothing else.
set -euo pipefail
tools=(pamscale pnmsmooth pamsumm pamcat pnmtopng)
missing=()
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing netpbm (missing: ${missing[*]})" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
install=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends netpbm)
# A fresh image has no package lists yet: fetch them only when the install needs them.
"${install[@]}" || { "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update && "${install[@]}"; }
