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
    ${SUDO:-$( [ "$(id -u)" = 0 ] || echo sudo )} apt-get install -y python3-venv python3-pip >&2
  else
    echo "dev-setup: $py lacks venv/ensurepip; install your distribution's python3-venv" >&2
    exit 1
  fi
fi
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: the 'train' extra's exact pin is then already satisfied, so no
# dependency resolution can pull CUDA wheels
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[train,dev]"
echo "dev-setup: ready: $root/.venv/bin/inkhue" >&2
