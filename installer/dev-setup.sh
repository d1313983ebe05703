#!/usr/bin/env bash
# Development environment: .venv/ at the repository root with inkhue installed editable,
# the training and test extras, and the CPU build of torch. Safe to run again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

py=${PYTHON:-python3}
if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
  # Debian/Ubuntu split venv out of the interpreter package
  if command -v apt-get >/dev/null; then
    echo "dev-setup: installing python3-venv" >&2
    sudo=${SUDO:-$( [ "$(id -u)" = 0 ] || echo sudo )}
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >&2  # a fresh machine has no package lists
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      python3-venv python3-pip >&2
  else
    echo "dev-setup: $py lacks venv/ensurepip; install your distribution's python3-venv" >&2
    exit 1
  fi
fi
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: the 'train' extra's exact pin is then already satisfied, so no
# dependency resolution can pull CUDA wheels. PyPI's Linux torch is the CUDA build (GBs of nvidia
# wheels): PyTorch's CPU index offers 2.13.0+cpu, which pip prefers (a local version sorts after
# the plain one). Asked only when it answers: pip retries an unreachable index for every package
cpu_index=https://download.pytorch.org/whl/cpu
torch_from=()
if .venv/bin/python -c "import urllib.request as u; u.urlopen('$cpu_index/', timeout=20)" 2>/dev/null; then
  torch_from=(--extra-index-url "$cpu_index")
else
  echo "dev-setup: $cpu_index is unreachable: torch comes from pip's own configuration" >&2
fi
.venv/bin/python -m pip install -q ${torch_from[@]+"${torch_from[@]}"} "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[train,dev]"
echo "dev-setup: ready: $root/.venv/bin/inkhue" >&2
