#!/usr/bin/env bash
# Everything the full test suite needs on a Debian/Ubuntu machine; the README's test command and
# .ci/run both run it, then `.venv/bin/python -m pytest -q`. Safe to run again: what is there is
# reused. As root (or with sudo for the system packages):
#   - Krita, PyQt5, Xvfb (tests/krita/setup.sh) and xdotool: the real-Krita tests
#   - the GIMP 3 chroot (tests/gimp/setup.sh, mmdebstrap; root only): the real-GIMP tests
#   - .venv/ (installer/dev-setup.sh): inkhue editable with the training and test extras
#   - KServe's own model server in a separate venv (it pins its own protobuf): the interop tests
#     find it at $INKHUE_KSERVE_VENV (default ~/.cache/inkhue-ci/kserve-venv; tests/kserve_python.py)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0
step() { echo "== tests/setup.sh [${SECONDS}s] $*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "tests/setup.sh: needs root or sudo for the system packages" >&2; exit 1; }
  SUDO="sudo"
fi

step "system packages for the real Krita tests"
bash tests/krita/setup.sh

# what else the tests use: xdotool (GIMP's dialog), mmdebstrap (the GIMP and deploy roots), git
# (the installer tests copy the checkout's files), curl (Debian's keyring on hosts without it),
# libcairo2 (cairosvg, the training extra's SVG renderer, loads it)
need=()
for pkg in xdotool mmdebstrap git curl libcairo2; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${need[@]}"
fi

step "GIMP 3 chroot for the real GIMP tests"
$SUDO bash tests/gimp/setup.sh

step "development environment (.venv)"
bash installer/dev-setup.sh

step "KServe's own model server in a separate venv"
kv=${INKHUE_KSERVE_VENV:-$HOME/.cache/inkhue-ci/kserve-venv}
if [ ! -x "$kv/bin/python" ] || ! "$kv/bin/python" -c 'import kserve, onnxruntime' 2>/dev/null; then
  python3 -m venv "$kv"
  "$kv/bin/python" -m pip install -q kserve onnxruntime numpy
fi
step "ready: .venv/bin/python -m pytest -q"
